"""Evaluation of 提案查重 in the format of ../shared/eval/duplicate-cases.jsonl.

Each line: {"id", "title", "text", "duplicate_of": [external ids] or [], "kind"}. A case is
flagged when the draft's verdict is duplicate or overlap; a flag is a true positive when a listed
proposal is among the matches flagged duplicate/overlap, a false positive on a case with nothing
listed (or when only other proposals are flagged), a false negative otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..dupes.checker import DuplicateChecker
from ..dupes.verdicts import FLAGGED, REWORDING_FEATURES, REWORDING_MODEL, Thresholds, verdict
from ..errors import InputError
from ..ingest.draft import draft_from_text
from ..logistic import LogisticModel, fit_logistic
from .cases import encodable, read_jsonl
from .cv import kfold


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
                         "best_probability": round(max(m.scores["probability"] for m in result.matches), 4)
                         if result.matches else None,
                         "best_copied": round(max((m.scores["copied_draft"] for m in result.matches), default=0), 4)})
    return ev


# -- fitting and cross-validating the rewording model ------------------------------------------------
def scored_candidates(checker: DuplicateChecker, cases: list[dict]) -> list[list[tuple[str, dict]]]:
    """Every case's candidates with their scores (margin features on the closest), computed once."""
    return [[(m.external_id, m.scores) for m in checker.compare_all(draft_from_text(c["text"], c["title"]))]
            for c in tqdm(cases, desc="查重评测", unit="案", disable=len(cases) < 20)]


def training_rows(scored: list[list[tuple[str, dict]]], cases: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(features, label) of every calibrated candidate: label 1 when it is a listed duplicate."""
    x, y = [], []
    for pairs, case in zip(scored, cases):
        for ext, s in pairs:
            if "draft_neighbours" in s:
                x.append([s[f] for f in REWORDING_FEATURES])
                y.append(ext in case["duplicate_of"])
    return np.asarray(x, float).reshape(-1, len(REWORDING_FEATURES)), np.asarray(y, float)


def fit_rewording(scored, cases) -> LogisticModel:
    x, y = training_rows(scored, cases)
    if len(y) == 0 or not 0 < y.sum() < len(y):
        raise InputError("拟合需要既有重复案例、又有不重复的候选（duplicate_of 非空和为空的案例都要有）")
    return fit_logistic(x, y, REWORDING_FEATURES)


def _flagged(pairs: list[tuple[str, dict]], model: LogisticModel, t: Thresholds) -> list[str]:
    out = []
    for ext, s in pairs:
        p = model.probability_of(s) if "draft_neighbours" in s else 0.0
        if verdict({**s, "probability": p}, t) in FLAGGED:
            out.append(ext)
    return out


@dataclass
class DupeCrossValidation:
    k: int
    shipped: DupeEval  # the shipped model, in sample
    fitted: DupeEval  # refitted on every case, in sample
    model: LogisticModel  # that refit
    cross_validated: DupeEval  # each case judged by a model fitted without its fold
    fold_models: list[LogisticModel]

    def to_dict(self) -> dict:
        def summary(ev: DupeEval) -> dict:
            return {"precision": ev.precision, "recall": ev.recall, "f1": ev.f1, "by_kind": ev.by_kind}
        return {"k": self.k, "shipped": summary(self.shipped), "fitted_in_sample": summary(self.fitted),
                "fitted_model": self.model.to_dict(), "cross_validated": summary(self.cross_validated),
                "fold_models": [m.to_dict() for m in self.fold_models]}


def cross_validate_dupes(checker: DuplicateChecker, cases: list[dict], k: int = 5, seed: int = 0
                         ) -> DupeCrossValidation:
    """The rewording model refitted on the other folds' candidates judges each held-out fold
    (the copy rules as shipped); next to the shipped model and a refit on all cases."""
    scored = scored_candidates(checker, cases)
    t = checker.t

    def tally(models: list[LogisticModel]) -> DupeEval:
        ev = DupeEval()
        for case, pairs, model in zip(cases, scored, models):
            _count(ev, case, _flagged(pairs, model, t))
        return ev

    n = len(cases)
    model = fit_rewording(scored, cases)
    held_out: list[LogisticModel | None] = [None] * n
    fold_models = []
    for fold in kfold(n, k, seed):
        train = sorted(set(range(n)) - set(fold.tolist()))
        m = fit_rewording([scored[i] for i in train], [cases[i] for i in train])
        fold_models.append(m)
        for i in fold:
            held_out[int(i)] = m
    return DupeCrossValidation(k, tally([REWORDING_MODEL] * n), tally([model] * n), model, tally(held_out),
                               fold_models)


def format_dupe_cv(cv: DupeCrossValidation) -> str:
    def row(name: str, ev: DupeEval) -> str:
        caught = "  ".join(f"{kind} {v['caught'] if kind != 'distinct' else v['flagged']}/{v['n']}"
                           for kind, v in sorted(ev.by_kind.items()))
        return f"{name:<18}P {ev.precision:.3f}  R {ev.recall:.3f}  F1 {ev.f1:.3f}   {caught}"
    m = cv.model
    lines = [f"交叉验证（{cv.k} 折，按案例；每折在其余案例上重新拟合改写概率模型；distinct 一栏为误报数）",
             row("现用模型（样本内）", cv.shipped), row("重新拟合（样本内）", cv.fitted),
             row("交叉验证", cv.cross_validated),
             "全部案例拟合：" + "，".join(f"{f} {c:.6f}" for f, c in zip(m.features, m.coef)) + f"，截距 {m.intercept:.6f}"]
    return "\n".join(lines)


def format_dupe_table(ev: DupeEval) -> str:
    lines = [f"precision {ev.precision:.3f}  recall {ev.recall:.3f}  F1 {ev.f1:.3f}  "
             f"(TP {ev.tp}, FP {ev.fp}, FN {ev.fn})", f"{'kind':<12}{'n':>4}{'caught':>8}{'flagged':>9}"]
    for kind, k in sorted(ev.by_kind.items()):
        lines.append(f"{kind:<12}{k['n']:>4}{k['caught']:>8}{k['flagged']:>9}")
    return "\n".join(lines)
