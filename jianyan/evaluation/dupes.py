"""Evaluation of 提案查重 in the format of ../shared/eval/duplicate-cases.jsonl.

Each line: {"id", "title", "text", "duplicate_of": [external ids] or [], "kind"}. A case is
flagged when the draft's verdict is duplicate or overlap; a flag is a true positive when a listed
proposal is among the matches flagged duplicate/overlap, a false positive on a case with nothing
listed (or when only other proposals are flagged), a false negative otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ..dupes.checker import DuplicateChecker
from ..dupes.verdicts import FLAGGED, Thresholds, verdict
from ..errors import InputError
from ..ingest.draft import draft_from_text
from .cases import encodable, read_jsonl
from .cv import cross_validate


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
    for n, obj in read_jsonl(path, "text 和 duplicate_of"):
        case = {"id": str(obj.get("id", n)), "title": obj.get("title", ""), "text": obj.get("text"),
                "duplicate_of": obj.get("duplicate_of", []), "kind": obj.get("kind", "all")}
        if not (isinstance(case["text"], str) and isinstance(case["title"], str) and isinstance(case["kind"], str)
                and isinstance(case["duplicate_of"], list)):
            raise InputError(f"第 {n} 行格式不对：text、title、kind 应为文字，duplicate_of 应为列表", path=str(path))
        case["duplicate_of"] = [str(d) for d in case["duplicate_of"]]
        encodable(case["title"] + case["text"], n, path)
        out.append(case)
    return out


def _count(ev: DupeEval, case: dict, flagged: list[str]) -> bool:
    """Add one case to `ev` given the external ids flagged for it; True when the case is right
    (a listed proposal flagged, or nothing flagged for a distinct draft)."""
    hit = any(ext in case["duplicate_of"] for ext in flagged)
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
        return hit
    if flagged:
        ev.fp += 1
    return not flagged


def evaluate_dupes(checker: DuplicateChecker, cases: list[dict]) -> DupeEval:
    ev = DupeEval()
    for case in cases:
        result = checker.check(case["text"], case["title"])
        flagged = [m for m in result.matches if m.verdict in FLAGGED]
        hit = _count(ev, case, [m.external_id for m in flagged]) and bool(case["duplicate_of"])
        best = max(result.matches, key=lambda m: m.scores["semantic"], default=None)
        ev.cases.append({"id": case["id"], "kind": case["kind"], "verdict": result.verdict, "hit": hit,
                         "flagged": [m.external_id for m in flagged],
                         "best_semantic": round(best.scores["semantic"], 4) if best else None,
                         "best_copied": round(max((m.scores["copied_draft"] for m in result.matches), default=0), 4)})
    return ev


# -- cross-validation of the thresholds ------------------------------------------------------------
# The shipped thresholds first (ties go to it), then the grid they were chosen from.
def threshold_grid() -> list[Thresholds]:
    base = Thresholds()
    grid = [base]
    for sem in (0.935, 0.94, 0.945, 0.95, 0.955, 0.96):
        for overlap in (0.10, 0.15, 0.20, 0.30):
            t = replace(base, semantic_duplicate=sem, copy_overlap=overlap)
            if t != base:
                grid.append(t)
    return grid


@dataclass
class DupeCrossValidation:
    k: int
    grid: list[Thresholds]
    shipped: DupeEval  # the shipped thresholds, in sample
    best_in_sample: DupeEval
    best_thresholds: Thresholds
    cross_validated: DupeEval  # each case judged with the thresholds chosen without its fold
    fold_choices: list[Thresholds]

    def to_dict(self) -> dict:
        def summary(ev: DupeEval) -> dict:
            return {"precision": ev.precision, "recall": ev.recall, "f1": ev.f1, "by_kind": ev.by_kind}
        return {"k": self.k, "grid_size": len(self.grid), "shipped": summary(self.shipped),
                "best_in_sample": summary(self.best_in_sample), "best_thresholds": asdict(self.best_thresholds),
                "cross_validated": summary(self.cross_validated),
                "fold_choices": [{"semantic_duplicate": t.semantic_duplicate, "copy_overlap": t.copy_overlap}
                                 for t in self.fold_choices]}


def cross_validate_dupes(checker: DuplicateChecker, cases: list[dict], k: int = 5, seed: int = 0
                         ) -> DupeCrossValidation:
    """Every candidate's scores once per case, then each grid point's verdicts from them."""
    scored = [[(m.external_id, m.scores) for m in checker.compare_all(draft_from_text(c["text"], c["title"]))]
              for c in cases]
    grid = threshold_grid()
    flagged = [[[ext for ext, s in pairs if verdict(s, t) in FLAGGED] for pairs in scored] for t in grid]
    correct = np.array([[_count(DupeEval(), c, f) for c, f in zip(cases, per_case)] for per_case in flagged])
    cv = cross_validate(correct, k, seed)

    def tally(choice) -> DupeEval:
        ev = DupeEval()
        for i, case in enumerate(cases):
            _count(ev, case, flagged[int(choice[i])][i])
        return ev

    n = len(cases)
    return DupeCrossValidation(k, grid, tally(np.zeros(n, int)), tally(np.full(n, cv.best_in_sample)),
                               grid[cv.best_in_sample], tally(cv.held_out_choice),
                               [grid[c] for c in cv.fold_choices])


def format_dupe_cv(cv: DupeCrossValidation) -> str:
    def row(name: str, ev: DupeEval) -> str:
        caught = "  ".join(f"{kind} {v['caught'] if kind != 'distinct' else v['flagged']}/{v['n']}"
                           for kind, v in sorted(ev.by_kind.items()))
        return f"{name:<18}P {ev.precision:.3f}  R {ev.recall:.3f}  F1 {ev.f1:.3f}   {caught}"
    lines = [f"交叉验证（{cv.k} 折，按案例；阈值网格 {len(cv.grid)} 组：semantic_duplicate × copy_overlap；"
             f"distinct 一栏为误报数）",
             row("现用阈值（样本内）", cv.shipped), row("网格最优（样本内）", cv.best_in_sample),
             row("交叉验证", cv.cross_validated),
             "各折选中：" + "，".join(f"{t.semantic_duplicate}/{t.copy_overlap}" for t in cv.fold_choices)]
    return "\n".join(lines)


def format_dupe_table(ev: DupeEval) -> str:
    lines = [f"precision {ev.precision:.3f}  recall {ev.recall:.3f}  F1 {ev.f1:.3f}  "
             f"(TP {ev.tp}, FP {ev.fp}, FN {ev.fn})", f"{'kind':<12}{'n':>4}{'caught':>8}{'flagged':>9}"]
    for kind, k in sorted(ev.by_kind.items()):
        lines.append(f"{kind:<12}{k['n']:>4}{k['caught']:>8}{k['flagged']:>9}")
    return "\n".join(lines)
