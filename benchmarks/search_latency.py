"""Query latency (p50/p99, ms) of each search mode on the real corpora.

    python benchmarks/search_latency.py --data DIR   # DIR holds the three corpora, indexed
    python benchmarks/search_latency.py              # builds ./bench-data first (slow the first
                                                     # time: it embeds ~2 M characters; cached after)

Queries: the 80 search and 48 precedent queries of ../shared/eval (a few words to a paragraph).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"

CORPORA = [
    ("jiangsu-cppcc-proposals-2019/jszx2019.csv",
     "id=pkid,title=reason,body=content,author=personnel_name,category=type,date=publish_time"),
    ("state-council-work-reports/government_work_reports.jsonl", "id=url,body=content"),
    ("state-council-policies/policies_clean.jsonl", "id=url"),
]


def build(data: Path) -> None:
    from jianyan.index.sync import sync_indexes
    from jianyan.ingest.pipeline import ingest_paths
    from jianyan.ingest.readers import FieldMapping
    from jianyan.store import Store

    with Store(data) as store:
        for rel, spec in CORPORA:
            ingest_paths([SHARED / "corpora" / rel], store, FieldMapping.parse(spec), progress=False)
        r = sync_indexes(store, progress=True)
        print(f"indexed with {r.engine}: {r.embedded_chars} chars embedded in {r.embed_seconds:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    from jianyan.embed.engines import query_embedder
    from jianyan.index.sync import load_indexes
    from jianyan.search.searcher import Searcher
    from jianyan.store import Store

    if load_indexes(args.data) is None:
        build(args.data)
    store = Store(args.data)
    indexes = load_indexes(args.data)
    searcher = Searcher(store, indexes, query_embedder(indexes.model_id))
    queries = []
    for name in ("search-queries.jsonl", "precedent-queries.jsonl"):
        queries += [json.loads(x)["query"] for x in (SHARED / "eval" / name).read_text(encoding="utf-8").splitlines() if x]
    searcher.search(queries[0])  # warm up (jieba, model)
    print(f"{len(indexes.vectors)} passages, {store.count_documents()} documents, {len(queries)} queries")
    for mode in ("keyword", "dense", "hybrid"):
        times = []
        for _ in range(args.repeat):
            for q in queries:
                t0 = time.perf_counter()
                searcher.search(q, mode=mode, k=10)
                times.append((time.perf_counter() - t0) * 1000)
        print(f"{mode:<8} p50 {np.percentile(times, 50):6.1f} ms   p99 {np.percentile(times, 99):6.1f} ms")


if __name__ == "__main__":
    main()
