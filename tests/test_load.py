"""Load on the real server: 8 search clients and one writer uploading and deleting.

No request fails; no search sees half an upload (each upload is a batch of documents sharing a
marker word, and a search for the marker finds none of them or all of them); the final state is
what the completed writes say. Short by default (a few rounds); `JIANYAN_LOAD_ROUNDS=N` for a
long run (each round: one upload of BATCH documents, then their deletes one by one).
"""

from __future__ import annotations

import os
import threading
import time

from tests.test_api import wait_job

CLIENTS = 8
BATCH = 3
ROUNDS = int(os.environ.get("JIANYAN_LOAD_ROUNDS", "3"))


def _marker(n: int) -> str:
    return f"loadmark{n:04d}"


def _files(n: int) -> list:
    return [("files", (f"负载测试{n}-{i}.txt",
                       f"关于负载测试第{n}轮第{i}份文档的说明\n本文用于检验检索在写入时的一致性，标记 {_marker(n)}。"
                       f"第{i}份的内容与其他各份不同：{'甲乙丙丁戊'[i]}。".encode()))
            for i in range(BATCH)]


def test_searches_under_a_writer_see_whole_uploads_and_never_fail(server):
    state = {"round": 0, "phase": "idle"}  # the writer's phase, read by searchers around each request
    stop = threading.Event()
    failures: list[str] = []
    partial: list[tuple[int, int]] = []
    requests = [0]
    latencies: list[float] = []

    def search() -> None:
        with server.client(timeout=60) as c:
            while not stop.is_set():
                n, phase = state["round"], state["phase"]
                t0 = time.perf_counter()
                resp = c.post("/api/search", json={"query": _marker(n), "mode": "keyword", "k": 20})
                latencies.append(time.perf_counter() - t0)
                requests[0] += 1
                if resp.status_code != 200:
                    failures.append(f"{resp.status_code} {resp.text[:200]}")
                    continue
                if (state["round"], state["phase"]) == (n, phase) and phase == "uploading":
                    found = sum(1 for r in resp.json()["results"] if r["external_id"].startswith(f"负载测试{n}-"))
                    if found not in (0, BATCH):
                        partial.append((n, found))

    searchers = [threading.Thread(target=search) for _ in range(CLIENTS)]
    for t in searchers:
        t.start()
    kept: set[str] = set()
    try:
        with server.client(server.token, timeout=120) as w:
            before = w.get("/api/stats").json()["documents"]
            for n in range(1, ROUNDS + 1):
                state.update(round=n, phase="uploading")
                resp = w.post("/api/documents", files=_files(n))
                assert resp.status_code == 202, resp.text
                job = wait_job(w, resp.json()["id"])
                assert job["status"] == "done" and job["counts"] == {"added": BATCH}, job
                seen = w.post("/api/search", json={"query": _marker(n), "mode": "keyword", "k": 20}).json()
                assert sum(1 for r in seen["results"] if r["external_id"].startswith(f"负载测试{n}-")) == BATCH
                state["phase"] = "deleting"
                names = [f"负载测试{n}-{i}.txt" for i in range(BATCH)]
                for name in names[:-1] if n == ROUNDS else names:  # the last round keeps one document
                    assert w.delete(f"/api/documents/ext:{name}").status_code == 200
                if n == ROUNDS:
                    kept.add(names[-1])
            state["phase"] = "idle"
    finally:
        stop.set()
        for t in searchers:
            t.join()
    try:
        assert not failures, failures[:5]
        assert not partial, partial
        assert requests[0] > ROUNDS * CLIENTS
        with server.client() as c:  # the final state is the sequence of completed writes
            assert c.get("/api/stats").json()["documents"] == before + len(kept)
            found = {r["external_id"] for n in range(1, ROUNDS + 1)
                     for r in c.post("/api/search", json={"query": _marker(n), "mode": "keyword"}).json()["results"]
                     if r["external_id"].startswith("负载测试")}
            assert found == kept
        p99 = sorted(latencies)[int(0.99 * (len(latencies) - 1))]
        print(f"\nload: {requests[0]} searches from {CLIENTS} clients, {ROUNDS} uploads of {BATCH} and "
              f"{ROUNDS * BATCH - len(kept)} deletes, p99 {p99 * 1000:.0f} ms, 0 failures")
    finally:
        with server.client(server.token) as w:
            for name in kept:
                w.delete(f"/api/documents/ext:{name}")
