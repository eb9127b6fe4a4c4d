"""Why every torch call goes through one model thread (`jianyan/embed/model_thread.py`).

    python benchmarks/model_thread.py

Query embedding p50 over the dev known-item queries (sentence-transformers, the service's
engine), in one process, in this order:
  1. through the model thread, as jianyan embeds;
  2. the model called directly from this thread and then from a second thread, as it was before
     the model thread: GNU OpenMP gives each calling thread its own worker team;
  3. directly from this thread again, and through the model thread again.
Once a second thread has run the model, every call is slower for the process's life, the model
thread's too (measured here: 19–23 ms through the model thread alone, 30–36 ms after; two runs).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EVAL = ROOT.parent / "shared" / "eval" / "search-queries.jsonl"


def p50_ms(embed, queries: list[str]) -> float:
    embed(queries[:1])
    times = []
    for q in queries:
        t0 = time.perf_counter()
        embed([q])
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000)


def main() -> None:
    from jianyan.embed.engines import bulk_embedder
    from jianyan.search.query import query_core

    emb = bulk_embedder(None)
    queries = [query_core(json.loads(x)["query"]) for x in EVAL.read_text(encoding="utf-8").splitlines() if x.strip()]

    def direct(texts):  # the model on the calling thread, as before the model thread
        with emb._precision(emb.bf16):
            return emb._model.encode(texts, prompt=emb._query_prompt, convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=False)

    results = {"model thread": p50_ms(emb.embed_queries, queries),
               "direct, this thread": p50_ms(direct, queries)}
    box: dict[str, float] = {}
    # a second caller, as a request or job thread was
    t = threading.Thread(target=lambda: box.setdefault("v", p50_ms(direct, queries)))
    t.start()
    t.join()
    results["direct, a second thread"] = box["v"]
    results["direct, this thread again"] = p50_ms(direct, queries)
    results["model thread, after both"] = p50_ms(emb.embed_queries, queries)
    print(f"{emb.engine}, {len(queries)} queries, p50 ms:")
    for name, value in results.items():
        print(f"  {name:<28} {value:6.1f}")


if __name__ == "__main__":
    main()
