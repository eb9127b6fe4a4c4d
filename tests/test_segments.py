"""Segmented indexes (#12): a write adds a segment or tombstones and rewrites nothing else; many
writes merge; whatever the history, searches equal those of an index rebuilt from scratch; the
查重 copy index (winnowed fingerprints) finds every shared run of 12 characters."""

from __future__ import annotations

import random

import numpy as np
import pytest

from jianyan.index.fingerprints import COPY_RUN, fingerprints, normalise, shared_counts, with_rows
from jianyan.index.sync import MERGE_FACTOR, load_indexes, read_index_meta, sync_indexes
from jianyan.ingest.pipeline import ingest_paths
from jianyan.search.searcher import Filters, Searcher
from jianyan.store import Store

from .conftest import CORPORA
from .test_search import CountingEmbedder

SEED_TEXT = (CORPORA / "seed" / "2021年县政协工作总结.txt").read_text(encoding="utf-8")
QUERIES = ["政协委员联系村和社区实现全覆盖", "营商环境优化", "养老服务 医养结合", "政务信息公开", "2021年"]


def index_files(data) -> dict[str, tuple[int, int, bytes]]:
    """Every index file but index.json: relative path → (inode, size, bytes)."""
    folder = data / "index"
    return {str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_size, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "index.json"}


def write_note(folder, i: int) -> None:
    """A small new document: a slice of the seed summary, numbered so that it is its own text."""
    start = (i * 137) % (len(SEED_TEXT) - 400)
    (folder / f"note-{i:02d}.txt").write_text(f"关于第{i}项工作的情况说明\n{SEED_TEXT[start:start + 300]}\n编号{i}。\n",
                                               encoding="utf-8")


def results(store: Store, embedder) -> list:
    searcher = Searcher(store, load_indexes(store.data_dir), embedder)
    out = []
    for q in QUERIES:
        for mode in ("hybrid", "keyword", "dense"):
            r = searcher.search(q, mode=mode, k=5)
            out.append([(d.external_id, round(d.score, 4), [p.passage_id for p in d.passages]) for d in r.results])
        r = searcher.search(q, k=5, filters=Filters(doc_type="proposal"))
        out.append([d.external_id for d in r.results])
    return out


@pytest.fixture
def library(tmp_path):
    store = Store(tmp_path / "data")
    ingest_paths([CORPORA], store, progress=False)
    embedder = CountingEmbedder()
    sync_indexes(store, embedder, progress=False)
    yield store, embedder, tmp_path
    store.close()


def test_a_write_adds_a_segment_or_tombstones_and_rewrites_nothing_else(library):
    store, embedder, tmp_path = library
    before = index_files(store.data_dir)
    notes = tmp_path / "notes"
    notes.mkdir()
    write_note(notes, 1)
    ingest_paths([notes], store, progress=False)
    report = sync_indexes(store, embedder, progress=False)
    after = index_files(store.data_dir)
    assert report.added >= 1 and report.removed == 0
    assert {k: v for k, v in after.items() if k in before} == before  # not one byte rewritten, same files
    new_segments = {k.split("/")[0] for k in after} - {k.split("/")[0] for k in before}
    assert len(new_segments) == 2  # one passage segment, one title segment
    meta = read_index_meta(store.data_dir)
    assert meta["generation"] == store.generation and meta["passages"] == store.count_passages()

    # A document of the big segment: tombstones, the segments untouched.
    victim = min((d for d in store.list_documents() if d["external_id"] != "note-01.txt"),
                 key=lambda d: d["n_passages"])
    store.remove_document(f"id:{victim['id']}")
    before = index_files(store.data_dir)
    report = sync_indexes(store, embedder, progress=False)
    after = index_files(store.data_dir)
    assert report.removed == victim["n_passages"]
    assert all(after[k] == v for k, v in before.items())  # segments untouched
    tombstones = [k for k in after if ".del-" in k]
    assert len(tombstones) == 2  # its passages, its title
    # The note's own segments, wholly deleted, go (rewritten without their rows: nothing left).
    store.remove_document("note-01.txt")
    sync_indexes(store, embedder, progress=False)
    def segments(files):
        return {k.split("/")[0] for k in files if "/" in k}
    assert segments(index_files(store.data_dir)) == segments(before) - new_segments
    assert sorted(load_indexes(store.data_dir).vectors.ids().tolist()) == sorted(p.id for p in store.passages())


def test_many_writes_merge_and_search_as_an_index_rebuilt_from_scratch(library):
    store, embedder, tmp_path = library
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(MERGE_FACTOR + 3):  # enough single-document writes for the small tier to merge
        write_note(notes, i)
        ingest_paths([notes / f"note-{i:02d}.txt"], store, progress=False)
        sync_indexes(store, embedder, progress=False)
        if i % 4 == 3:  # and deletions in between, of notes and of corpus documents
            store.remove_document(f"note-{i - 1:02d}.txt")
            sync_indexes(store, embedder, progress=False)
    victim = next(d["external_id"] for d in store.list_documents() if not d["external_id"].startswith("note-"))
    store.remove_document(victim)
    sync_indexes(store, embedder, progress=False)
    meta = read_index_meta(store.data_dir)
    writes = MERGE_FACTOR + 3 + (MERGE_FACTOR + 3) // 4 + 2
    assert len(meta["segments"]["passages"]) < MERGE_FACTOR < writes  # merged along the way
    indexes = load_indexes(store.data_dir)
    assert sorted(indexes.vectors.ids().tolist()) == sorted(p.id for p in store.passages())
    assert sorted(indexes.titles.ids.tolist()) == sorted(store.document_ids())
    incremental = results(store, embedder)

    embedded = embedder.passages_embedded
    sync_indexes(store, embedder, progress=False, rebuild=True)
    assert embedder.passages_embedded == embedded  # a rebuild embeds nothing: the cache has it all
    assert len(read_index_meta(store.data_dir)["segments"]["passages"]) == 1
    assert results(store, embedder) == incremental
    assert not [p for p in (store.data_dir / "index").iterdir() if p.name.endswith(".tmp")]


def test_every_shared_run_of_twelve_characters_shares_a_fingerprint():
    rng = random.Random(5)
    alphabet = "政协委员提案建议养老服务乡村振兴营商环境教育医疗社区人才科技"
    for _ in range(200):
        run = "".join(rng.choice(alphabet) for _ in range(rng.randint(COPY_RUN, 30)))
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) + run + "，" + \
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) + run + \
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        assert set(fingerprints(a).tolist()) & set(fingerprints(b).tolist()), (a, b)
    # punctuation, spaces and traditional characters do not hide a copy
    assert set(fingerprints("建議在試點社區建設嵌入式養老服務站").tolist()) & \
        set(fingerprints("建议在 试点社区，建设嵌入式养老服务站").tolist())
    assert normalise("建议在 试点，社区").text == "建议在试点社区"
    assert len(fingerprints("太短")) == 0


def test_shared_counts_equal_a_brute_force_count():
    rng = np.random.default_rng(2)
    per_row = [np.unique(rng.integers(0, 60, rng.integers(0, 25))).astype(np.uint64) for _ in range(40)]
    keys, rows = with_rows(per_row, list(range(40)))
    assert (np.diff(keys.astype(np.float64)) >= 0).all()
    for _ in range(20):
        query = np.unique(rng.integers(0, 80, rng.integers(0, 30))).astype(np.uint64)
        want = {i: len(set(r.tolist()) & set(query.tolist())) for i, r in enumerate(per_row)}
        got_rows, got = shared_counts(keys, rows, query)
        assert dict(zip(got_rows.tolist(), got.tolist())) == {i: c for i, c in want.items() if c}


def test_stats_tell_the_segments_and_the_vector_index(library):
    import json

    from .test_cli import run

    store, embedder, tmp_path = library
    r = run("stats", "--data", str(store.data_dir), "--json")
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert stats["passages"] == store.count_passages() == stats["index"]["rows"]
    assert stats["index"]["kind"] == "exact" and stats["index"]["recall_at_10"] == 1.0
    assert stats["index"]["consistent"] is True
    r = run("stats", "--data", str(tmp_path / "empty"))
    assert r.returncode == 1 and "还没有" in r.stderr, r.stderr
