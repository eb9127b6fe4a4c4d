"""Winnowed fingerprints of a text: the 查重 candidate index for copied text.

Schleimer, Wilkerson & Aiken, "Winnowing: local algorithms for document fingerprinting"
(SIGMOD 2003, the method behind MOSS): hash every k-gram of the normalised characters, and in
each window of w consecutive hashes keep the smallest. Any run of at least w + k − 1 characters
two texts share yields at least one fingerprint they share — with k = 5 and w = 8, every copied
run of COPY_RUN = 12 characters, the length `shingles.copied_spans` calls a copy. About 2 / (w + 1)
of the k-grams are kept.

The fingerprints of stored proposals live in the title segments (`segments.py`: sorted
(fingerprint, row) pairs, memory-mapped), written, tombstoned and merged with them, so the index
is persisted, updated per write and never rebuilt at a swap. A draft's candidates are the
proposals holding at least `containment` of its distinct fingerprints — the share of the draft
found in them, what the LSH Ensemble used to estimate (Zhu et al., VLDB 2016), now counted.
Computed with numpy: no Python loop over characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..script import fold

SHINGLE = 5  # characters per shingle
COPY_RUN = 12  # characters: a run this long found in both texts is a copy, not a shared phrase
_KEEP = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


@dataclass
class Normalised:
    """What texts are compared as (`dupes/shingles.py` too): punctuation and white space dropped
    (a copy whose commas moved is still a copy), simplified characters, lower case, and each
    kept character's offset in the original so that copied spans can be shown where they stand."""

    text: str  # letters, digits and Chinese characters only
    offsets: list[int]  # offsets[i] = position of text[i] in the original


def normalise(text: str) -> Normalised:
    chars, offsets = [], []
    for i, ch in enumerate(fold(text)):  # same length: offsets stay the original's
        if _KEEP.match(ch):
            chars.append(ch.lower())
            offsets.append(i)
    return Normalised("".join(chars), offsets)


WINDOW = COPY_RUN - SHINGLE + 1  # 8: a run of COPY_RUN characters spans one whole window
_MULT = np.uint64(0x9E3779B97F4A7C15)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the polynomial hashes so that the minimum is a fair sample."""
    with np.errstate(over="ignore"):
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def fingerprints(text: str) -> np.ndarray:
    """The distinct winnowed fingerprints of `text` (sorted uint64; empty below SHINGLE characters)."""
    t = normalise(text).text
    if len(t) < SHINGLE:
        return np.zeros(0, np.uint64)
    codes = np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    grams = np.lib.stride_tricks.sliding_window_view(codes, SHINGLE)
    with np.errstate(over="ignore"):
        powers = np.asarray([_MULT ** np.uint64(SHINGLE - 1 - j) for j in range(SHINGLE)], np.uint64)
        hashes = _mix((grams * powers).sum(axis=1, dtype=np.uint64))
    if len(hashes) <= WINDOW:
        return np.unique(hashes[[int(np.argmin(hashes))]])
    windows = np.lib.stride_tricks.sliding_window_view(hashes, WINDOW)
    return np.unique(windows.min(axis=1))


def with_rows(fps_per_row: list[np.ndarray], rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(fingerprints, rows) of several texts as one pair of arrays sorted by fingerprint."""
    if not fps_per_row:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    keys = np.concatenate(fps_per_row)
    owner = np.repeat(np.asarray(rows, np.int64), [len(f) for f in fps_per_row])
    order = np.argsort(keys, kind="stable")
    return keys[order], owner[order]


def shared_counts(keys: np.ndarray, rows: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, how many of the distinct `query` fingerprints each holds) for the rows holding any,
    from sorted `keys`: the work is the query's postings, not the number of rows."""
    empty = np.zeros(0, np.int64)
    if not len(keys) or not len(query):
        return empty, empty
    lo = np.searchsorted(keys, query, "left")
    hi = np.searchsorted(keys, query, "right")
    lengths = hi - lo
    if not lengths.sum():
        return empty, empty
    # every posting of every query fingerprint, without a Python loop over them
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    hits = np.asarray(rows[np.arange(lengths.sum()) + starts], np.int64)
    return np.unique(hits, return_counts=True)
