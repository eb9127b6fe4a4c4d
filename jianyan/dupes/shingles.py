"""The copied spans two texts share, on their normalised characters (`index/fingerprints.py`).

Chinese has no spaces, so text is compared by characters (in simplified form, `script.fold`): punctuation and white space are
dropped (a copy whose commas moved is still a copy), and every position keeps its offset in the
original text so that copied spans can be shown where they stand.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..index.fingerprints import COPY_RUN, Normalised, normalise


@dataclass
class CopiedSpan:
    a_start: int  # offsets in the original texts, end exclusive
    a_end: int
    b_start: int
    b_end: int

    @property
    def length(self) -> int:
        return self.a_end - self.a_start


def copied_spans(a: str | Normalised, b: str | Normalised, run: int = COPY_RUN
                 ) -> tuple[list[CopiedSpan], float, float]:
    """Maximal runs of at least `run` normalised characters that `a` shares with `b`, and the
    shares of `a`'s and of `b`'s normalised characters inside such runs ("cov12" of the
    duplicate README). Pass `Normalised` texts to avoid normalising the same text again."""
    na = a if isinstance(a, Normalised) else normalise(a)
    nb = b if isinstance(b, Normalised) else normalise(b)
    ta, tb = na.text, nb.text
    if len(ta) < run or len(tb) < run:
        return [], 0.0, 0.0
    index: dict[str, list[int]] = {}
    for j in range(len(tb) - run + 1):
        index.setdefault(tb[j:j + run], []).append(j)
    covered_a, covered_b = bytearray(len(ta)), bytearray(len(tb))
    spans: list[CopiedSpan] = []
    i = 0
    while i <= len(ta) - run:
        starts = index.get(ta[i:i + run])
        if not starts:
            i += 1
            continue
        best_len, best_j = 0, starts[0]
        for j in starts[:20]:  # extend each occurrence; keep the longest
            k = run
            while i + k < len(ta) and j + k < len(tb) and ta[i + k] == tb[j + k]:
                k += 1
            if k > best_len:
                best_len, best_j = k, j
        covered_a[i:i + best_len] = b"\x01" * best_len
        covered_b[best_j:best_j + best_len] = b"\x01" * best_len
        spans.append(CopiedSpan(na.offsets[i], na.offsets[i + best_len - 1] + 1,
                                nb.offsets[best_j], nb.offsets[best_j + best_len - 1] + 1))
        i += best_len
    return spans, sum(covered_a) / len(ta), sum(covered_b) / len(tb)
