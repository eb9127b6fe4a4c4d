""""Nothing close" (未找到相近的先例): the probability that no listed document is a real precedent.

A drafter asking "has anyone proposed this before?" is better served by a plain "no" than by ten
weak matches shown as if they were answers. What tells "no" apart is relative, not absolute: the
first result's dense score against the best five dense document scores of the same query
(`top_dense_gap`). When the first result is a real precedent it stands out in meaning; when
nothing is close, the first result is one of a flat crowd (or is first only by its words).

Fitted with `jianyan eval search ../shared/eval/precedent-queries.jsonl` (logistic regression,
`logistic.py`) on the 48 dev precedent queries, 8 of which have no precedent; that command also
prints the leave-one-out figures. Shown when the probability is ≥ 0.5.
"""

from __future__ import annotations

import numpy as np

from ..logistic import LogisticModel

NOTHING_CLOSE_FEATURES = ("top_dense_gap",)
NOTHING_CLOSE_MODEL = LogisticModel(NOTHING_CLOSE_FEATURES, (-103.095778,), -1.174757)
NOTHING_CLOSE_AT = 0.5
NOTHING_CLOSE_MESSAGE = "未找到相近的先例：排在前面的文档与检索内容只是大致相关，请谨慎参考"
TOP_DENSE = 5


def closeness_features(top_document: int, dense_documents: dict[int, float]) -> dict[str, float] | None:
    """The signal's features for a ranking whose first document is `top_document` (None without
    dense scores, as in keyword mode)."""
    if not dense_documents:
        return None
    best = sorted(dense_documents.values(), reverse=True)[:TOP_DENSE]
    top = dense_documents.get(top_document, min(dense_documents.values()))
    return {"top_dense_gap": float(top - np.mean(best))}


def nothing_close_probability(features: dict[str, float] | None, model: LogisticModel = NOTHING_CLOSE_MODEL
                              ) -> float | None:
    return None if features is None else model.probability_of(features)
