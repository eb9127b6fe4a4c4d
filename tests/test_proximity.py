"""Proximity of query words, all candidates at once, against the plain per-text sliding window."""

from __future__ import annotations

import random

import pytest

from jianyan.script import match_form
from jianyan.search.proximity import proximities, proximity


def reference(text: str, terms: dict[str, float], window: int = 15) -> float:
    """The definition, one text at a time: every occurrence of every word, sorted; a window of
    `window` characters slides over them; the largest IDF mass of distinct words inside it."""
    total = sum(terms.values())
    lowered = match_form(text)
    hits = sorted((i, t) for t in terms for i in range(len(lowered)) if lowered.startswith(t, i))
    best = 0.0
    for right, (pos, _) in enumerate(hits):
        inside = {t for p, t in hits[:right + 1] if pos - p <= window}
        best = max(best, sum(terms[t] for t in inside))
    return best / total if total > 0 else 0.0


def test_all_at_once_equals_one_at_a_time():
    rng = random.Random(11)
    words = ["营商", "营商环境", "优化", "养老", "服务", "7.5%", "ab"]
    filler = "的了在和对于我们政协委员会议，。"
    for _ in range(60):
        texts = ["".join(rng.choice(words + list(filler) * 3) for _ in range(rng.randint(0, 80)))
                 for _ in range(rng.randint(1, 12))]
        terms = {w: rng.choice([0.0, 0.5, 1.3, 2.0]) for w in rng.sample(words, rng.randint(1, 5))}
        got = proximities(texts, terms)
        assert got == pytest.approx([reference(t, terms) for t in texts])
    assert proximity("营商環境优化", {"营商环境": 1.0, "优化": 1.0}) == 1.0  # traditional folded
    assert proximity("营商" + "的" * 20 + "优化", {"营商": 1.0, "优化": 1.0}) == 0.5  # too far apart
    assert proximities([], {"a": 1.0}) == [] and proximities(["营商"], {}) == [0.0]
