"""The 查重 verdict of one (draft, past proposal) pair from its scores — the one place the rules
and the fitted model live, with the data that chose them.

- duplicate (重复): ≥ 80 % of the draft is copied, or ≥ 60 % of both texts (dev near-copies
  0.88–0.95); or the calibrated probability that the pair is a rewording ≥ 0.5;
- overlap (部分重复): ≥ 15 % of either text is copied (dev partial copies 0.36–0.63; paraphrases
  and distinct drafts 0.00);
- related (相关): probability ≥ 0.2 — worth a look, not flagged;
- none.

The probability is a logistic model of relative evidence, not of raw cosine: on e5 cosine a
rewording and a different proposal on the same matter sit about 0.01 apart, and how close "close"
is depends on the neighbourhood. The features are the pair's semantic score (min(forward,
reverse), see checker.py) and each side's mean semantic score to its k = 4 nearest neighbours —
the draft's among the candidates, the past proposal's among the other stored proposals (with the
draft) — the margin of Artetxe & Schwenk, "Margin-based parallel corpus mining with multilingual
sentence embeddings" (ACL 2019). The model weighs the pair against both neighbourhoods (≈ +2·sem
− x̄ − ȳ); it was fitted with `jianyan eval dupes --fit` on the 88 dev cases (duplicate-cases.jsonl
and duplicate-cases-hard.jsonl, top 10 candidates of each) and is cross-validated with `--cv`.
It holds for the bundled multilingual-e5-small; another model needs its own fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..logistic import LogisticModel

VERDICTS = ("duplicate", "overlap", "related", "none")  # strongest first
FLAGGED = ("duplicate", "overlap")  # verdicts that flag a draft and join proposals for 并案
VERDICT_NAMES = {"duplicate": "重复", "overlap": "部分重复", "related": "相关", "none": "未发现重复"}
NEIGHBOURS_K = 4  # Artetxe & Schwenk's k
CALIBRATED_CANDIDATES = 10  # the draft's closest candidates get the model's probability
REWORDING_FEATURES = ("semantic", "draft_neighbours", "past_neighbours")
REWORDING_MODEL = LogisticModel(REWORDING_FEATURES, (238.187286, -66.974265, -67.536713), -100.014095)


@dataclass
class Thresholds:
    copy_duplicate_draft: float = 0.80
    copy_duplicate_both: float = 0.60
    copy_overlap: float = 0.15
    duplicate_probability: float = 0.5
    related_probability: float = 0.2
    evidence_similarity: float = 0.93  # a passage pair shown as paraphrase evidence
    copy_containment: float = 0.10  # candidate: this share of the draft's fingerprints in a proposal


def verdict(s: dict[str, float], t: Thresholds) -> str:
    """`s` holds copied_draft, copied_past (shares of each text in copied runs) and probability."""
    if s["copied_draft"] >= t.copy_duplicate_draft or \
            min(s["copied_draft"], s["copied_past"]) >= t.copy_duplicate_both:
        return "duplicate"
    if max(s["copied_draft"], s["copied_past"]) >= t.copy_overlap:
        return "overlap"  # a section copied, the rest new (its meaning then follows the copy)
    p = s.get("probability", 0.0)
    if p >= t.duplicate_probability:
        return "duplicate"  # reworded throughout
    if p >= t.related_probability:
        return "related"
    return "none"


def verdict_rank(v: str) -> int:
    return VERDICTS.index(v)


def verdict_fields(v: str, scores: dict[str, float]) -> dict:
    """How a verdict and its scores are reported, in a match and in a 并案 pair alike."""
    return {"verdict": v, "verdict_name": VERDICT_NAMES[v],
            "probability": round(scores["probability"], 4) if "probability" in scores else None,
            "scores": {k: round(x, 4) for k, x in scores.items()}}
