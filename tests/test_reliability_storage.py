"""The data folder under stress: one writer across processes, storage errors in words, nothing
stored lost, HEAD wherever GET is.

Real processes, a real `flock`, real SQLite and OS errors. A full disk is a small tmpfs and a
read-only folder a read-only bind mount (both need root with mount rights; the tests skip with
the reason where that is not allowed), or RLIMIT_FSIZE in the child (runs everywhere).
"""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from jianyan import errors
from jianyan.errors import StoreError
from jianyan.storage import storage_error, storage_errors
from jianyan.writelock import WriteLock, held_here, read_holder
from tests.conftest import CORPORA, ROOT
from tests.server import free_port

SEED_TITLE = "2021年县政协工作总结"
SEED_QUERY = "委员联系村（社区）全覆盖"
HOLD = """
import sys, time
from jianyan.writelock import WriteLock
WriteLock(sys.argv[1], purpose="test-holder").acquire()
print("held", flush=True)
time.sleep(600)
"""


def run(*args, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jianyan", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout, **kwargs)


def refused_in_words(r: subprocess.CompletedProcess, *fragments: str) -> None:
    assert r.returncode != 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("错误："), r.stderr
    for fragment in fragments:
        assert fragment in r.stderr, r.stderr


def doc_ids(data: Path) -> list[str]:
    r = run("docs", "--data", data, "--json")
    assert r.returncode == 0, r.stderr
    return sorted(d["external_id"] for d in json.loads(r.stdout))


def integrity(data: Path) -> str:
    with sqlite3.connect(data / "jianyan.sqlite3") as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def search_titles(data: Path, query: str = SEED_QUERY) -> list[str]:
    r = run("search", "--data", data, query, "-k", "3", "--json")
    assert r.returncode == 0, r.stderr
    return [d["title"] for d in json.loads(r.stdout)["results"]]


class Holder:
    """Another process holding a folder's write lock (the real module, a real flock)."""

    def __init__(self, data: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", HOLD, str(data)], stdout=subprocess.PIPE,
                                     text=True, cwd=ROOT)
        assert self.proc.stdout.readline().strip() == "held"
        self.pid = self.proc.pid

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


@pytest.fixture
def holder_of():
    holders: list[Holder] = []

    def start(data: Path) -> Holder:
        holders.append(Holder(data))
        return holders[-1]

    yield start
    for h in holders:
        if h.proc.poll() is None:
            h.kill()


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Path:
    """A data folder with the seed and policy corpora, ingested and indexed by the CLI once."""
    data = tmp_path_factory.mktemp("indexed") / "data"
    r = run("ingest", "--data", data, "--no-progress", CORPORA / "seed", CORPORA / "policy")
    assert r.returncode == 0, r.stderr
    return data


@pytest.fixture
def data(indexed, tmp_path) -> Path:
    """A copy of `indexed` for one test."""
    copy = tmp_path / "data"
    shutil.copytree(indexed, copy)
    return copy


# -- mounts (root with mount rights; otherwise the test is skipped with the reason) --------------
def _mount(args: list[str]) -> None:
    try:
        r = subprocess.run(["mount", *args], capture_output=True, text=True)
    except FileNotFoundError:
        pytest.skip("no mount command here")
    if r.returncode != 0:
        pytest.skip(f"cannot mount here ({r.stderr.strip()}): needs root with the right to mount")


def _umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs: a real disk that fills up (ENOSPC)."""
    where = tmp_path / "disk"
    where.mkdir()
    _mount(["-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)])
    yield where
    _umount(where)


def fill(disk: Path, leave: int) -> Path:
    """Fill `disk` with one file, then give `leave` bytes back."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        chunk = b"\0" * 4096
        while True:
            try:
                os.write(fd, chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    finally:
        os.close(fd)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


# -- one writer per folder -----------------------------------------------------------------------
def test_a_write_is_refused_while_another_process_holds_the_folder_and_goes_on_once_it_is_killed(
        data, holder_of):
    before = doc_ids(data)
    holder = holder_of(data)
    assert read_holder(data)["pid"] == holder.pid
    for args in (["ingest", "--no-progress", CORPORA / "reports"], ["remove", before[0]], ["reindex"]):
        r = run(*args, "--data", data)
        refused_in_words(r, f"进程 {holder.pid}", "写入", "未执行")
    # Reads never need the lock.
    assert SEED_TITLE in search_titles(data)
    assert run("show", "--data", data, before[0]).returncode == 0
    assert doc_ids(data) == before  # nothing was written

    holder.kill()  # the kernel releases the flock with the process, however it dies
    r = run("ingest", "--data", data, "--no-progress", "--no-index", CORPORA / "reports")
    assert r.returncode == 0, r.stderr
    assert doc_ids(data) == sorted(before + ["2022年市政协工作报告.txt"])


def test_serve_refuses_a_folder_another_process_writes(data, holder_of):
    holder = holder_of(data)
    r = run("serve", "--data", data, "--port", free_port(), "--no-progress", timeout=120)
    refused_in_words(r, f"进程 {holder.pid}")


def test_the_running_service_holds_its_folder(server):
    with server.client() as c:
        count = c.get("/api/stats").json()["documents"]
        r = run("ingest", "--data", server.data_dir, "--no-progress", CORPORA / "reports")
        refused_in_words(r, f"进程 {server.pid}", "jianyan serve", "服务运行期间")
        r = run("remove", "--data", server.data_dir, "1")
        refused_in_words(r, f"进程 {server.pid}")
        assert c.get("/api/health").status_code == 200
        assert c.get("/api/stats").json()["documents"] == count


def test_the_lock_is_reentrant_within_a_process_and_exclusive_across(tmp_path):
    folder = tmp_path / "d"
    probe = ("import sys\nfrom jianyan.writelock import acquire\nfrom jianyan.errors import FolderLocked\n"
             "try:\n    acquire(sys.argv[1])\nexcept FolderLocked as exc:\n    print(exc.holder['pid'])\n"
             "else:\n    print('free')\n")

    def other_process_sees() -> str:
        return subprocess.run([sys.executable, "-c", probe, str(folder)], capture_output=True, text=True,
                              cwd=ROOT, check=True).stdout.strip()

    outer = WriteLock(folder, purpose="test").acquire()
    inner = WriteLock(folder).acquire()  # the same process again: no deadlock, no refusal
    assert held_here(folder) and other_process_sees() == str(os.getpid())
    inner.release()
    assert held_here(folder) and other_process_sees() == str(os.getpid())
    outer.release()
    assert not held_here(folder) and other_process_sees() == "free"


# -- storage errors: real errors, one mapping ------------------------------------------------------
def _sqlite_error(action) -> sqlite3.Error:
    with pytest.raises(sqlite3.Error) as info:
        action()
    return info.value


def test_real_sqlite_errors_map_to_typed_errors_with_chinese_messages(tmp_path):
    db = tmp_path / "t.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("CREATE TABLE t (x TEXT UNIQUE)")
    conn.execute("PRAGMA max_page_count = 3")  # SQLite's own "database or disk is full"
    full = _sqlite_error(lambda: conn.execute("INSERT INTO t VALUES (?)", ("x" * 50_000,)))
    conn.execute("INSERT INTO t VALUES ('a')")
    duplicate = _sqlite_error(lambda: conn.execute("INSERT INTO t VALUES ('a')"))
    readonly = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    read_only = _sqlite_error(lambda: readonly.execute("INSERT INTO t VALUES ('b')"))
    conn.execute("PRAGMA max_page_count = 1000")
    conn.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(db, timeout=0)
    locked = _sqlite_error(lambda: other.execute("BEGIN IMMEDIATE"))
    conn.execute("ROLLBACK")
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database " * 100)
    corrupt = _sqlite_error(lambda: sqlite3.connect(garbage).execute("SELECT * FROM sqlite_master"))

    for exc, cls, status in ((full, errors.StorageFull, 507), (read_only, errors.StorageReadOnly, 503),
                             (locked, errors.StorageLocked, 503), (corrupt, StoreError, 503)):
        mapped = storage_error(exc, tmp_path)
        assert type(mapped) is cls, (exc, mapped)
        assert mapped.status() == status and str(tmp_path) in mapped.message
        assert any("\u4e00" <= ch <= "\u9fff" for ch in mapped.message)
    assert storage_error(duplicate, tmp_path) is None  # a constraint is a bug, not the disk
    for c in (conn, readonly, other):
        c.close()


@pytest.mark.parametrize("code, cls", [
    (errno.ENOSPC, errors.StorageFull), (errno.EDQUOT, errors.StorageFull), (errno.EFBIG, errors.StorageFull),
    (errno.EROFS, errors.StorageReadOnly), (errno.EACCES, errors.StoragePermission),
    (errno.EPERM, errors.StoragePermission), (errno.EIO, errors.StorageIOError), (errno.ENOENT, None),
])
def test_os_errors_map_by_errno(code, cls, tmp_path):
    mapped = storage_error(OSError(code, os.strerror(code), str(tmp_path / "f")), tmp_path)
    assert (type(mapped) if mapped is not None else None) is cls
    assert storage_error(ValueError("not storage")) is None


def test_a_damaged_store_is_refused_in_words(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "jianyan.sqlite3").write_bytes(b"garbage " * 1000)
    r = run("docs", "--data", folder)
    refused_in_words(r, "已损坏")


def test_the_embedding_cache_on_a_full_disk_raises_the_typed_error(tmp_path):
    from jianyan.embed.cache import EmbeddingCache

    cache = EmbeddingCache(tmp_path / "cache" / "embeddings.sqlite3")
    cache.conn.execute("PRAGMA max_page_count = 4")  # the file cannot grow: SQLITE_FULL, as on a full disk
    with pytest.raises(errors.StorageFull) as info, storage_errors(tmp_path):
        cache.put_many("m", [(f"k{i}", np.ones(384, np.float32)) for i in range(200)])
    assert "磁盘空间已满" in info.value.message
    cache.close()


# -- a full disk, a read-only folder -----------------------------------------------------------------
def write_batch(folder: Path, n: int, chars: int) -> Path:
    """`n` distinct documents of about `chars` characters each (no shared tail: no boilerplate)."""
    folder.mkdir()
    topics = ["养老服务", "职业教育", "乡村振兴", "生态保护", "数字政府", "营商环境", "公共卫生", "文化旅游"]
    for i in range(n):
        topic = topics[i % len(topics)]
        body = "".join(f"第{j + 1}条，关于{topic}的第{i + 1}号建议，在第{j + 1}个方面提出具体措施，"
                       f"包括资金、人员与制度保障共{(i + 1) * (j + 1)}项。\n" for j in range(chars // 45))
        (folder / f"关于{topic}的提案{i + 1:02d}.txt").write_text(f"关于{topic}的提案（{i + 1}）\n\n{body}",
                                                              encoding="utf-8")
    return folder


def test_a_full_disk_mid_ingest_keeps_every_document_stored_before(small_disk, indexed, tmp_path):
    data = small_disk / "data"
    shutil.copytree(indexed, data)
    before = doc_ids(data)
    batch = write_batch(tmp_path / "batch", 4, 1500)
    # Room for SQLite's shared memory and about one of the four documents: the disk fills mid-batch.
    filler = fill(small_disk, leave=96 * 1024)
    r = run("ingest", "--data", data, "--no-progress", batch)
    refused_in_words(r, "磁盘空间已满", str(data))
    assert len(set(doc_ids(data)) - set(before)) < 4  # it did stop short

    filler.unlink()  # space is back
    assert integrity(data) == "ok"
    assert set(before) <= set(doc_ids(data))  # every document stored before is there, whole
    assert SEED_TITLE in search_titles(data)  # and found by the indexes built before
    r = run("ingest", "--data", data, "--no-progress", batch)  # the same command now completes
    assert r.returncode == 0, r.stderr
    assert len(doc_ids(data)) == len(before) + 4
    assert "关于乡村振兴的提案（3）" in search_titles(data, "乡村振兴的第3号建议")


def test_a_file_size_limit_while_writing_the_index_keeps_the_old_index(data):
    """EFBIG (RLIMIT_FSIZE, SIGXFSZ ignored) while `reindex` writes a segment's vectors: the
    message, and the old index files untouched (a segment is written under a temporary name and
    renamed, index.json last; what the failed run wrote is removed)."""
    index = data / "index"

    def files() -> dict:
        return {str(p.relative_to(index)): p.read_bytes() for p in sorted(index.rglob("*")) if p.is_file()}

    before = files()
    limit = 48 * 1024  # above SQLite's 32 KiB shared-memory files, below the vector index
    assert max(len(v) for k, v in before.items() if k.endswith("vectors.npy")) > limit

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    r = run("reindex", "--data", data, "--no-progress", preexec_fn=limited)
    refused_in_words(r, "磁盘空间已满")
    assert files() == before  # no .tmp left, nothing changed
    assert SEED_TITLE in search_titles(data)
    assert run("reindex", "--data", data, "--no-progress").returncode == 0


def test_a_read_only_folder_is_refused_in_words(data, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    _mount(["--bind", str(data), str(ro)])
    try:
        r = subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot remount read-only here ({r.stderr.strip()})")
        for args in (["ingest", "--no-progress", CORPORA / "reports"], ["reindex"], ["remove", "1"]):
            refused_in_words(run(*args, "--data", ro), "只读", str(ro))
    finally:
        _umount(ro)
    assert SEED_TITLE in search_titles(data)  # the folder itself is as it was


# -- the API -----------------------------------------------------------------------------------------
def test_the_api_answers_storage_errors_in_its_one_error_shape(tmp_path, holder_of):
    """Raw storage errors met in a route (the API's net), and typed ones from the write path."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from jianyan.api import errors as api_errors
    from jianyan.embed.cache import EmbeddingCache
    from jianyan.library import Library

    app = FastAPI()
    api_errors.install(app)
    locked = tmp_path / "locked"
    holder_of(locked)

    @app.get("/cache-full")
    def cache_full():
        cache = EmbeddingCache(tmp_path / "cache.sqlite3")
        cache.conn.execute("PRAGMA max_page_count = 4")
        cache.put_many("m", [(f"k{i}", np.ones(384, np.float32)) for i in range(200)])

    @app.get("/read-only")
    def read_only():
        db = tmp_path / "ro.sqlite3"
        sqlite3.connect(db).execute("CREATE TABLE IF NOT EXISTS t (x)")
        sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute("INSERT INTO t VALUES (1)")

    @app.get("/folder-locked")
    def folder_locked():
        Library(locked).remove("1")

    @app.get("/missing-file")
    def missing_file():
        open(tmp_path / "nowhere" / "x")  # ENOENT: a bug, not the disk

    client = TestClient(app, raise_server_exceptions=False)
    for path, status, code in (("/cache-full", 507, "disk_full"), ("/read-only", 503, "read_only"),
                               ("/folder-locked", 409, "folder_locked"), ("/missing-file", 500, "internal")):
        resp = client.get(path)
        assert resp.status_code == status, (path, resp.text)
        err = resp.json()["error"]
        assert err["code"] == code and set(err) <= {"code", "message", "details"}
        assert any("\u4e00" <= ch <= "\u9fff" for ch in err["message"]), err


def test_head_answers_wherever_get_does_without_a_body(server):
    with server.client() as c:
        for path in ("/", "/labels.js", "/api/health", "/api/stats", "/api/documents?limit=3",
                     "/api/documents/1", "/api/dupes/clusters", "/docs", "/no-such-page"):
            get, head = c.get(path), c.head(path)
            assert head.status_code == get.status_code, (path, head.status_code, get.status_code)
            assert head.content == b"", path
            assert head.headers.get("content-type") == get.headers.get("content-type"), path
            if path not in ("/api/stats", "/api/health"):  # uptime and request counts move
                assert int(head.headers["content-length"]) == len(get.content), path
        assert c.get("/api/health").status_code == 200
        # Where GET is not allowed, neither is HEAD.
        assert c.head("/api/search").status_code == c.get("/api/search").status_code == 405
