"""The 查重 verdict of one (draft, past proposal) pair from its scores — the one place the
thresholds live, with the data that chose them.

- duplicate (重复): ≥ 80 % of the draft is copied, or ≥ 60 % of both texts; or semantic
  (min(forward, reverse)) ≥ 0.945 (dev paraphrases 0.946–0.960; dev distinct drafts ≤ 0.928);
- overlap (部分重复): ≥ 15 % of either text is copied (dev partial copies 0.38–0.63; paraphrases
  and distinct drafts 0.00);
- related (相关): semantic ≥ 0.935 — the same specific matter in other words;
- none.
The semantic thresholds hold for the bundled multilingual-e5-small; another model needs its own
calibration (`jianyan eval dupes --json` prints the scores to choose from).
"""

from __future__ import annotations

from dataclasses import dataclass

VERDICTS = ("duplicate", "overlap", "related", "none")  # strongest first
FLAGGED = ("duplicate", "overlap")  # verdicts that flag a draft and join proposals for 并案
VERDICT_NAMES = {"duplicate": "重复", "overlap": "部分重复", "related": "相关", "none": "未发现重复"}


@dataclass
class Thresholds:
    copy_duplicate_draft: float = 0.80
    copy_duplicate_both: float = 0.60
    copy_overlap: float = 0.15
    semantic_duplicate: float = 0.945
    semantic_related: float = 0.935
    evidence_similarity: float = 0.93  # a passage pair shown as paraphrase evidence
    lsh_containment: float = 0.10  # candidate: this share of the draft's 5-grams in a proposal


def verdict(s: dict[str, float], t: Thresholds) -> str:
    """`s` holds copied_draft, copied_past (shares of each text in copied runs) and semantic."""
    if s["copied_draft"] >= t.copy_duplicate_draft or \
            min(s["copied_draft"], s["copied_past"]) >= t.copy_duplicate_both:
        return "duplicate"
    if max(s["copied_draft"], s["copied_past"]) >= t.copy_overlap:
        return "overlap"  # a section copied, the rest new (its meaning then follows the copy)
    if s["semantic"] >= t.semantic_duplicate:
        return "duplicate"  # reworded throughout
    if s["semantic"] >= t.semantic_related:
        return "related"
    return "none"


def verdict_rank(v: str) -> int:
    return VERDICTS.index(v)


def verdict_fields(v: str, scores: dict[str, float]) -> dict:
    """How a verdict and its scores are reported, in a match and in a 并案 pair alike."""
    return {"verdict": v, "verdict_name": VERDICT_NAMES[v],
            "scores": {k: round(x, 4) for k, x in scores.items()}}
