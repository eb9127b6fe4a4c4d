"""Evaluation of 提案查重 in the format of ../shared/eval/duplicate-cases.jsonl.

Each line: {"id", "title", "text", "duplicate_of": [external ids] or [], "kind"}. A case is
flagged when the draft's verdict is duplicate or overlap; a flag is a true positive when a listed
proposal is among the matches flagged duplicate/overlap, a false positive on a case with nothing
listed (or when only other proposals are flagged), a false negative otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..dupes.checker import DuplicateChecker
from ..errors import InputError

FLAGGED = ("duplicate", "overlap")


@dataclass
class DupeEval:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    cases: list[dict] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "tp": self.tp,
                "fp": self.fp, "fn": self.fn, "by_kind": self.by_kind, "cases": self.cases}


def load_dupe_cases(path: Path) -> list[dict]:
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            out.append({"id": obj.get("id", str(n)), "title": obj.get("title", ""), "text": obj["text"],
                        "duplicate_of": list(obj.get("duplicate_of", [])), "kind": obj.get("kind", "all")})
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"第 {n} 行格式不对（需要 text 和 duplicate_of 字段）：{exc}", path=str(path)) from exc
    return out


def evaluate_dupes(checker: DuplicateChecker, cases: list[dict]) -> DupeEval:
    ev = DupeEval()
    for case in cases:
        result = checker.check(case["text"], case["title"])
        flagged = [m for m in result.matches if m.verdict in FLAGGED]
        hit = any(m.external_id in case["duplicate_of"] for m in flagged)
        best = max(result.matches, key=lambda m: m.scores["semantic"], default=None)
        kind = ev.by_kind.setdefault(case["kind"], {"n": 0, "caught": 0, "flagged": 0})
        kind["n"] += 1
        kind["flagged"] += bool(flagged)
        if case["duplicate_of"]:
            if hit:
                ev.tp += 1
                kind["caught"] += 1
            else:
                ev.fn += 1
                if flagged:
                    ev.fp += 1
        elif flagged:
            ev.fp += 1
        ev.cases.append({"id": case["id"], "kind": case["kind"], "verdict": result.verdict, "hit": hit,
                         "flagged": [m.external_id for m in flagged],
                         "best_semantic": round(best.scores["semantic"], 4) if best else None,
                         "best_copied": round(max((m.scores["copied_draft"] for m in result.matches), default=0), 4)})
    return ev


def format_dupe_table(ev: DupeEval) -> str:
    lines = [f"precision {ev.precision:.3f}  recall {ev.recall:.3f}  F1 {ev.f1:.3f}  "
             f"(TP {ev.tp}, FP {ev.fp}, FN {ev.fn})", f"{'kind':<12}{'n':>4}{'caught':>8}{'flagged':>9}"]
    for kind, k in sorted(ev.by_kind.items()):
        lines.append(f"{kind:<12}{k['n']:>4}{k['caught']:>8}{k['flagged']:>9}")
    return "\n".join(lines)
