"""HTTP load on /api/search: p50/p99 latency and throughput with concurrent clients, on loopback.

    python benchmarks/http_load.py --data DIR          # DIR: the three real corpora, indexed
                                                       # (built like search_latency.py does)
Two phases, each with `--clients` (default 8) clients sending the 128 dev queries round and round:
1. idle: for `--seconds` seconds;
2. during an upload: from the upload of `--upload-docs` work reports (their sentences altered,
   so that every passage is embedded anew) until its job is done.
Before them, the latency of one client alone: each dev query once, and the 40 dev 查重 drafts
(`/api/dupes`) once each.
The server runs on a copy of DIR (so the benchmark never changes it) as a real `jianyan serve`
process; the load comes from this process's threads. Every request must succeed: failures are
counted and make the exit code 1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
REPORTS = SHARED / "corpora" / "state-council-work-reports" / "government_work_reports.jsonl"


def queries() -> list[str]:
    out = []
    for name in ("search-queries.jsonl", "precedent-queries.jsonl"):
        out += [json.loads(x)["query"] for x in (SHARED / "eval" / name).read_text(encoding="utf-8").splitlines() if x]
    return out


class Load:
    """`clients` threads posting searches until stopped; latencies in ms and failures recorded."""

    def __init__(self, url: str, qs: list[str], clients: int) -> None:
        self.url, self.qs, self.clients = url, qs, clients
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, args=(i,)) for i in range(clients)]

    def _client(self, i: int) -> None:
        import httpx

        with httpx.Client(base_url=self.url, timeout=60) as c:
            n = i * 7
            while not self._stop.is_set():
                q = self.qs[n % len(self.qs)]
                n += 1
                t0 = time.perf_counter()
                try:
                    r = c.post("/api/search", json={"query": q, "k": 10})
                    ok = r.status_code == 200
                    if not ok:
                        self.failures.append(f"{r.status_code} {r.text[:200]}")
                except Exception as exc:  # noqa: BLE001 - every failure is counted
                    ok = False
                    self.failures.append(repr(exc))
                if ok:
                    self.latencies.append((time.perf_counter() - t0) * 1000)

    def run(self, until) -> float:
        started = time.perf_counter()
        for t in self._threads:
            t.start()
        until()
        self._stop.set()
        for t in self._threads:
            t.join()
        return time.perf_counter() - started

    def report(self, label: str, seconds: float) -> dict:
        lat = np.asarray(self.latencies) if self.latencies else np.zeros(1)
        row = {"phase": label, "requests": len(self.latencies), "failures": len(self.failures),
               "seconds": round(seconds, 1), "throughput_rps": round(len(self.latencies) / seconds, 1),
               "p50_ms": round(float(np.percentile(lat, 50)), 1), "p99_ms": round(float(np.percentile(lat, 99)), 1)}
        print(f"{label:<16} {row['requests']:>6} req  {row['throughput_rps']:>6.1f} req/s  "
              f"p50 {row['p50_ms']:>7.1f} ms  p99 {row['p99_ms']:>7.1f} ms  failures {row['failures']}", flush=True)
        for f in self.failures[:5]:
            print("   ", f)
        return row


def drafts() -> list[dict]:
    rows = [json.loads(x) for x in (SHARED / "eval" / "duplicate-cases.jsonl").read_text(encoding="utf-8").splitlines() if x]
    return [{"title": r["title"], "text": r["text"]} for r in rows]


def sequential(url: str, label: str, path: str, bodies: list[dict]) -> dict:
    """One client, one request at a time: the latency a lone user sees."""
    import httpx

    times, failures = [], 0
    with httpx.Client(base_url=url, timeout=120) as c:
        for body in bodies:
            t0 = time.perf_counter()
            r = c.post(path, json=body)
            if r.status_code == 200:
                times.append((time.perf_counter() - t0) * 1000)
            else:
                failures += 1
                print("   ", r.status_code, r.text[:200])
    lat = np.asarray(times or [0.0])
    row = {"phase": label, "requests": len(times), "failures": failures,
           "p50_ms": round(float(np.percentile(lat, 50)), 1), "p99_ms": round(float(np.percentile(lat, 99)), 1)}
    print(f"{label:<16} {row['requests']:>6} req  {'':>12}  p50 {row['p50_ms']:>7.1f} ms  p99 {row['p99_ms']:>7.1f} ms  "
          f"failures {failures}", flush=True)
    return row


def upload_reports(n: int) -> list[tuple[str, bytes]]:
    """n real work reports as one JSONL export, ids and sentences altered: new documents, new vectors."""
    lines = []
    for line in REPORTS.read_text(encoding="utf-8").splitlines()[:n]:
        rec = json.loads(line)
        rec["url"] = "bench-upload:" + rec["url"]
        rec["content"] = rec["content"].replace("。", "；")
        lines.append(json.dumps(rec, ensure_ascii=False))
    data = ("\n".join(lines) + "\n").encode()
    return [("files", ("bench-reports.jsonl", data, "application/json"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="an indexed data folder (copied, not changed)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--upload-docs", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import httpx

    from tests.server import running_server

    qs = queries()
    with tempfile.TemporaryDirectory(prefix="jianyan-load-") as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(args.data, data, ignore=shutil.ignore_patterns("uploads"))
        with running_server(data) as server:
            with httpx.Client(base_url=server.url, timeout=60) as c:
                stats = c.get("/api/stats").json()
                print(f"{stats['documents']} documents, {stats['passages']} passages; {len(qs)} queries; "
                      f"{args.clients} clients on loopback", flush=True)
                for q in qs[:16]:  # warm up: jieba, the model, the page cache
                    c.post("/api/search", json={"query": q})
            rows = [sequential(server.url, "1 client search", "/api/search", [{"query": q} for q in qs]),
                    sequential(server.url, "1 client 查重", "/api/dupes", drafts())]
            idle = Load(server.url, qs, args.clients)
            rows.append(idle.report("idle", idle.run(lambda: time.sleep(args.seconds))))

            job_info = {}

            def upload_and_wait() -> None:
                with httpx.Client(base_url=server.url, timeout=600,
                                  headers={"Authorization": f"Bearer {server.token}"}) as c:
                    resp = c.post("/api/documents", files=upload_reports(args.upload_docs),
                                  data={"mapping": "id=url,body=content"})
                    resp.raise_for_status()
                    job_id = resp.json()["id"]
                    while True:
                        job = c.get(f"/api/jobs/{job_id}").json()
                        if job["status"] in ("done", "failed"):
                            job_info.update(job)
                            return
                        time.sleep(0.5)
            busy = Load(server.url, qs, args.clients)
            rows.append(busy.report("during upload", busy.run(upload_and_wait)))
            status = Path(f"/proc/{server.pid}/status").read_text()
            peak = next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmHWM"))
            print(f"server peak RSS {peak / 1024:,.0f} MiB", flush=True)
            emb = job_info.get("embedding", {})
            print(f"upload job: {job_info.get('status')}, {job_info.get('counts')}, "
                  f"{emb.get('total_chars', 0):,} chars embedded, {job_info.get('seconds')} s", flush=True)
            if args.json:
                print(json.dumps({"rows": rows, "upload": {k: job_info.get(k) for k in
                                  ("status", "counts", "seconds", "embedding")}}, ensure_ascii=False))
            if any(r["failures"] for r in rows) or job_info.get("status") != "done":
                sys.exit(1)


if __name__ == "__main__":
    main()
