"""The store of record: idempotent re-ingest, replacement, removal, atomicity, versioning."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from jianyan.documents import Passage
from jianyan.errors import NotFound, StoreError
from jianyan.ingest.pipeline import ingest_paths
from jianyan.store import SCHEMA_VERSION, Store

from .conftest import CORPORA, PROPOSAL_MAP, PROPOSALS_CSV, ROOT, requires_shared

SEED_FILE = CORPORA / "seed" / "2021年县政协工作总结.txt"


def _check_consistent(path):
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        bad = conn.execute("""SELECT d.id FROM documents d LEFT JOIN passages p ON p.document_id = d.id
                              GROUP BY d.id HAVING COUNT(p.id) != d.n_passages""").fetchall()
        assert bad == []


def test_unchanged_file_is_not_written_again(store):
    ingest_paths([CORPORA], store, progress=False)
    generation = store.generation
    ids = [p.id for p in store.passages()]
    report = ingest_paths([CORPORA], store, progress=False)
    assert report.stored == 0 and report.count("unchanged") == store.count_documents()
    assert store.generation == generation
    assert [p.id for p in store.passages()] == ids


def test_changed_file_replaces_its_passages(store, tmp_path):
    path = tmp_path / "report.txt"
    path.write_text(SEED_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    ingest_paths([path], store, progress=False)
    old = store.get_document("report.txt")
    path.write_text(SEED_FILE.read_text(encoding="utf-8").replace("一是协商咨政荐举措", "一是协商议政献良策"),
                    encoding="utf-8")
    report = ingest_paths([path], store, progress=False)
    assert report.count("replaced") == 1
    new = store.get_document("report.txt")
    assert store.count_documents() == 1
    assert "一是协商议政献良策" in new["text"] and "一是协商咨政荐举措" not in new["text"]
    # Ids are never reused: derived indexes can key on them.
    assert not {p["id"] for p in old["passages"]} & {p["id"] for p in new["passages"]}
    assert len(list(store.passages())) == new["n_passages"]


def test_remove(store):
    ingest_paths([CORPORA], store, progress=False)
    n = store.count_documents()
    doc = store.get_document("seed/2021年县政协工作总结.txt")
    store.remove_document(doc["id"])
    assert store.count_documents() == n - 1
    assert list(store.passages(document_id=doc["id"])) == []
    with pytest.raises(NotFound):
        store.get_document(doc["id"])
    with pytest.raises(NotFound):
        store.remove_document("no-such-document")


def test_failed_write_rolls_back_and_keeps_the_old_version(store, tmp_path):
    from jianyan.ingest.clean import clean_lines
    from jianyan.ingest.pipeline import prepare
    from jianyan.ingest.readers import read_file

    ingest_paths([SEED_FILE], store, progress=False)
    before = store.get_document(SEED_FILE.name)
    (src,), _ = read_file(SEED_FILE, SEED_FILE.name)
    doc = prepare(src, clean_lines(src.lines))
    doc.source_hash = "changed"
    doc.passages.append(Passage(0, 0, 1, [], doc.text[:1]))  # duplicate seq: the insert fails midway
    with pytest.raises(sqlite3.IntegrityError):
        store.put_document(doc)
    after = store.get_document(SEED_FILE.name)
    assert after == before
    _check_consistent(store.path)


@requires_shared
def test_killed_ingest_leaves_whole_documents(tmp_path):
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "jianyan", "--data", str(data), "ingest", "--no-progress", "--no-index",
           "--map", PROPOSAL_MAP, str(PROPOSALS_CSV)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = data / "jianyan.sqlite3"
    deadline = time.time() + 60
    while time.time() < deadline:  # kill it once some documents are in
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    if conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] >= 20:
                        break
            except sqlite3.OperationalError:
                pass
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _check_consistent(db)
    with Store(data) as s:
        partial = s.count_documents()
    assert 0 < partial
    # Running it again completes the batch without duplicates.
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    with Store(data) as s:
        assert s.count_documents() == 436
    _check_consistent(db)


def test_schema_is_versioned(tmp_path):
    with Store(tmp_path) as s:
        assert s.schema_version == SCHEMA_VERSION
    with sqlite3.connect(tmp_path / "jianyan.sqlite3") as conn:
        conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(StoreError, match="版本"):
        Store(tmp_path)
