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

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..search.searcher import MODES, Searcher

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
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"无法读取评测文件（{exc.strerror}）", path=str(path)) from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            rel = obj["relevant"]
            relevant = {str(r): 1.0 for r in rel} if isinstance(rel, list) else \
                {str(key): float(v) for key, v in rel.items()}
            cases.append(QueryCase(str(obj.get("id", n)), obj["query"], relevant, obj.get("kind", "all"),
                                   obj.get("source")))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
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


def evaluate(searcher: Searcher, cases: list[QueryCase], modes: list[str] | None = None) -> EvalReport:
    modes = modes or list(MODES)
    report = EvalReport(modes)
    sums: dict[str, dict[str, dict[str, float]]] = {}
    for case in cases:
        if not any(g > 0 for g in case.relevant.values()):
            report.skipped += 1
            continue
        row = {"id": case.id, "kind": case.kind}
        for mode in modes:
            result = searcher.search(case.query, mode=mode, k=K,
                                     exclude_external_ids=(case.source,) if case.source else ())
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
