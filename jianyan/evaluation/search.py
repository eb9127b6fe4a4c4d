"""Retrieval evaluation in the format of ../shared/eval/search-queries.jsonl.

Each line: {"id", "query", "relevant": [ids] or {id: grade}, "kind"?, "source"?}. Relevance is
per document, by external_id; results are collapsed to documents (search already returns each
document once, at its best rank). `source` is the query's own document and is excluded.

Metrics at k = 10, macro-averaged over queries that have at least one relevant document:
- Recall@10 = |relevant ∩ top10| / |relevant|
- MRR@10 = 1 / rank of the first relevant document (0 if none in the top 10)
- nDCG@10 = DCG / IDCG with DCG = Σ gain_i / log2(i + 1), gain = grade (1 for a binary list),
  IDCG over the best min(10, |relevant|) grades (Järvelin & Kekäläinen, TOIS 2002).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..logistic import LogisticModel, fit_logistic
from ..search.nothing_close import NOTHING_CLOSE_AT, NOTHING_CLOSE_FEATURES, NOTHING_CLOSE_MODEL
from ..search.searcher import MODES, Filters, FusionConfig, Searcher
from .cases import encodable, read_jsonl
from .cv import cross_validate, pick

K = 10


@dataclass
class QueryCase:
    id: str
    query: str
    relevant: dict[str, float]
    kind: str = "all"
    source: str | None = None


def load_cases(path: Path) -> list[QueryCase]:
    cases = []
    for n, obj in read_jsonl(path, "query 和 relevant"):
        try:
            rel = obj["relevant"]
            relevant = {str(r): 1.0 for r in rel} if isinstance(rel, list) else \
                {str(key): float(v) for key, v in rel.items()}
            case = QueryCase(str(obj.get("id", n)), obj["query"], relevant, obj.get("kind", "all"),
                             obj.get("source"))
            if not isinstance(case.query, str) or not isinstance(case.kind, str):
                raise TypeError("query 和 kind 应为文字")
            cases.append(case)
            encodable(case.query, n, path)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise InputError(f"第 {n} 行格式不对（需要 query 和 relevant 字段）：{exc}", path=str(path)) from exc
    return cases


def metrics(ranked: list[str], relevant: dict[str, float]) -> dict[str, float]:
    top = ranked[:K]
    positive = {d for d, g in relevant.items() if g > 0}
    recall = len(positive & set(top)) / len(positive)
    mrr = next((1.0 / i for i, d in enumerate(top, start=1) if d in positive), 0.0)
    dcg = sum(relevant.get(d, 0.0) / math.log2(i + 1) for i, d in enumerate(top, start=1))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:K]
    idcg = sum(g / math.log2(i + 1) for i, g in enumerate(ideal, start=1))
    return {"recall@10": recall, "mrr@10": mrr, "ndcg@10": dcg / idcg if idcg else 0.0}


@dataclass
class EvalReport:
    modes: list[str]
    by_kind: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # kind → mode → metric
    counts: dict[str, int] = field(default_factory=dict)
    per_query: list[dict] = field(default_factory=list)
    skipped: int = 0  # queries with no relevant document ("nothing close")

    def to_dict(self) -> dict:
        return {"modes": self.modes, "counts": self.counts, "by_kind": self.by_kind,
                "skipped_without_relevant": self.skipped, "per_query": self.per_query}


def run_case(searcher: Searcher, case: QueryCase, mode: str, filters: Filters | None = None):
    """One query as a user runs it (with the page's filters), its own source document left out."""
    return searcher.search(case.query, mode=mode, k=K, filters=filters,
                           exclude_external_ids=(case.source,) if case.source else ())


def evaluate(searcher: Searcher, cases: list[QueryCase], modes: list[str] | None = None,
             filters: Filters | None = None) -> EvalReport:
    modes = modes or list(MODES)
    report = EvalReport(modes)
    sums: dict[str, dict[str, dict[str, float]]] = {}
    for case in cases:
        if not any(g > 0 for g in case.relevant.values()):
            report.skipped += 1
            continue
        row = {"id": case.id, "kind": case.kind}
        for mode in modes:
            result = run_case(searcher, case, mode, filters)
            m = metrics([d.external_id for d in result.results], case.relevant)
            row[mode] = m
            for kind in {case.kind, "all"}:
                acc = sums.setdefault(kind, {}).setdefault(mode, {})
                for key, v in m.items():
                    acc[key] = acc.get(key, 0.0) + v
        for kind in {case.kind, "all"}:
            report.counts[kind] = report.counts.get(kind, 0) + 1
        report.per_query.append(row)
    for kind, per_mode in sums.items():
        report.by_kind[kind] = {mode: {key: v / report.counts[kind] for key, v in acc.items()}
                                for mode, acc in per_mode.items()}
    return report


def format_table(report: EvalReport) -> str:
    kinds = sorted(report.by_kind, key=lambda k: (k == "all", k))
    lines = [f"{'kind':<12}{'n':>4}  " + "  ".join(f"{m + ' R@10':>14}{'MRR':>7}{'nDCG':>7}" for m in report.modes)]
    for kind in kinds:
        cells = []
        for mode in report.modes:
            m = report.by_kind[kind][mode]
            cells.append(f"{m['recall@10']:>14.3f}{m['mrr@10']:>7.3f}{m['ndcg@10']:>7.3f}")
        lines.append(f"{kind:<12}{report.counts[kind]:>4}  " + "  ".join(cells))
    if report.skipped:
        lines.append(f"（{report.skipped} 条查询没有相关文档，未计入）")
    return "\n".join(lines)


# -- cross-validation of the fusion constants --------------------------------------------------------
CV_FIELDS = ("dense_weight", "title_weight", "clause_weight", "figure_dense_factor")


def fusion_grid() -> list[FusionConfig]:
    """The shipped constants first (ties go to them), then the grid around them: dense share ×
    title weight × clause weight, and the shipped point without the figure factor."""
    base = FusionConfig()
    grid = [base, replace(base, figure_dense_factor=1.0)]
    for w in (0.3, 0.5, 0.7):
        for t in (0.0, 0.3, 0.6):
            for c in (0.0, 0.2, 0.35):
                cfg = replace(base, dense_weight=w, title_weight=t, clause_weight=c)
                if cfg not in grid:
                    grid.append(cfg)
    return grid


class _MemoQueries:
    """The searcher's query embedder, each query embedded once however many configurations run it."""

    def __init__(self, inner) -> None:
        self.inner, self.model_id, self.dim, self.engine = inner, inner.model_id, inner.dim, inner.engine
        self._memo: dict[str, np.ndarray] = {}

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self._memo]
        if missing:
            self._memo.update(zip(missing, self.inner.embed_queries(missing)))
        return np.vstack([self._memo[t] for t in texts])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)


@dataclass
class SearchCrossValidation:
    k: int
    grid: list[FusionConfig]
    kinds: list[str]
    rows: dict[str, dict[str, dict[str, float]]]  # shipped | best_in_sample | cross_validated → kind → metric
    best: FusionConfig
    fold_choices: list[FusionConfig]

    def to_dict(self) -> dict:
        return {"k": self.k, "grid_size": len(self.grid), "fields": list(CV_FIELDS), "metrics": self.rows,
                "best_in_sample": {f: getattr(self.best, f) for f in CV_FIELDS},
                "fold_choices": [{f: getattr(c, f) for f in CV_FIELDS} for c in self.fold_choices]}


def cross_validate_search(searcher: Searcher, cases: list[QueryCase], k: int = 5, seed: int = 0,
                          filters: Filters | None = None) -> SearchCrossValidation:
    """Hybrid search under every grid point; the grid point chosen by nDCG@10 on the other folds
    is applied to each held-out fold."""
    cases = [c for c in cases if any(g > 0 for g in c.relevant.values())]
    memo = _MemoQueries(searcher.embedder)
    grid = fusion_grid()
    names = ("recall@10", "mrr@10", "ndcg@10")
    values = np.zeros((len(names), len(grid), len(cases)))
    for g, cfg in enumerate(grid):
        s = copy.copy(searcher)
        s.fusion, s.embedder = cfg, memo
        for i, case in enumerate(cases):
            result = run_case(s, case, "hybrid", filters)
            m = metrics([d.external_id for d in result.results], case.relevant)
            values[:, g, i] = [m[n] for n in names]
    cv = cross_validate(values[names.index("ndcg@10")], k, seed)
    kinds = sorted({c.kind for c in cases} - {"all"}) + ["all"]
    masks = {kind: np.array([kind in (c.kind, "all") for c in cases]) for kind in kinds}
    choices = {"shipped": np.zeros(len(cases), int), "best_in_sample": np.full(len(cases), cv.best_in_sample),
               "cross_validated": cv.held_out_choice}
    rows = {label: {kind: {n: float(pick(values[j], choice)[masks[kind]].mean()) for j, n in enumerate(names)}
                    for kind in kinds} for label, choice in choices.items()}
    return SearchCrossValidation(k, grid, kinds, rows, grid[cv.best_in_sample], [grid[c] for c in cv.fold_choices])


def format_search_cv(cv: SearchCrossValidation) -> str:
    labels = {"shipped": "现用常数（样本内）", "best_in_sample": "网格最优（样本内）", "cross_validated": "交叉验证"}
    lines = [f"交叉验证（{cv.k} 折，按查询；混合检索；网格 {len(cv.grid)} 组：{' × '.join(CV_FIELDS)}；按 nDCG@10 选择）",
             f"{'':<18}" + "".join(f"{kind:>16}" for kind in cv.kinds),
             f"{'':<18}" + "".join(f"{'MRR':>8}{'nDCG':>8}" for _ in cv.kinds)]
    for key, name in labels.items():
        lines.append(f"{name:<18}" + "".join(f"{cv.rows[key][kind]['mrr@10']:>8.3f}{cv.rows[key][kind]['ndcg@10']:>8.3f}"
                                              for kind in cv.kinds))
    lines.append("各折选中：" + "；".join("/".join(f"{getattr(c, f)}" for f in CV_FIELDS) for c in cv.fold_choices))
    return "\n".join(lines)


# -- "nothing close": the signal measured, refitted and cross-validated ----------------------------
@dataclass
class NothingCloseEval:
    n_none: int  # queries with no relevant document
    n_some: int
    shipped: dict[str, float]  # precision, recall, fires_on_answered (share of the other queries)
    leave_one_out: dict[str, float]  # the same, each query judged by a model fitted without it
    auc: float  # of the leave-one-out probabilities
    model: LogisticModel  # refitted on every query

    def to_dict(self) -> dict:
        return {"n_none": self.n_none, "n_with_relevant": self.n_some, "shipped": self.shipped,
                "leave_one_out": self.leave_one_out, "auc_leave_one_out": self.auc,
                "fitted_model": self.model.to_dict()}


def _signal_quality(fired: np.ndarray, none: np.ndarray) -> dict[str, float]:
    tp = float((fired & none).sum())
    return {"precision": tp / fired.sum() if fired.sum() else 1.0, "recall": tp / none.sum(),
            "fires_on_answered": float(fired[~none].mean())}


def evaluate_nothing_close(searcher: Searcher, cases: list[QueryCase], filters: Filters | None = None
                           ) -> NothingCloseEval | None:
    """Hybrid search on every query; the signal against "no relevant document" (None unless the
    cases have both kinds)."""
    none = np.array([not any(g > 0 for g in c.relevant.values()) for c in cases])
    if none.all() or not none.any():
        return None
    rows = []
    for c in cases:
        result = run_case(searcher, c, "hybrid", filters)
        rows.append([(result.closeness or {}).get(f, 0.0) for f in NOTHING_CLOSE_FEATURES])
    x, y = np.asarray(rows, float), none.astype(float)
    shipped = NOTHING_CLOSE_MODEL.probability(x) >= NOTHING_CLOSE_AT
    loo = np.zeros(len(cases))
    for i in range(len(cases)):
        train = np.arange(len(cases)) != i
        loo[i] = fit_logistic(x[train], y[train], NOTHING_CLOSE_FEATURES).probability(x[i:i + 1])[0]
    pos, neg = loo[none], loo[~none]
    auc = float(np.mean([(p > q) + 0.5 * (p == q) for p in pos for q in neg]))
    return NothingCloseEval(int(none.sum()), int((~none).sum()), _signal_quality(shipped, none),
                            _signal_quality(loo >= NOTHING_CLOSE_AT, none), auc,
                            fit_logistic(x, y, NOTHING_CLOSE_FEATURES))


def format_nothing_close(ev: NothingCloseEval) -> str:
    def row(name: str, q: dict) -> str:
        return (f"{name:<16}precision {q['precision']:.3f}  recall {q['recall']:.3f}  "
                f"有相关文档的查询中误报 {q['fires_on_answered']:.1%}")
    m = ev.model
    return "\n".join([f"“未找到相近的先例”信号（{ev.n_none} 条无相关文档，{ev.n_some} 条有；概率 ≥ {NOTHING_CLOSE_AT}）",
                      row("现用模型（样本内）", ev.shipped), row("留一交叉验证", ev.leave_one_out),
                      f"留一 AUC {ev.auc:.3f}；全部查询拟合：" +
                      "，".join(f"{f} {c:.6f}" for f, c in zip(m.features, m.coef)) + f"，截距 {m.intercept:.6f}"])
