"""A restart serves searches on what is indexed while it catches up, and says so (a real server
over a store the last process left ahead of its indexes)."""

from __future__ import annotations

import csv
import subprocess
import sys
import time

from tests.conftest import PROPOSAL_MAP, proposal_rows, requires_shared
from tests.server import running_server


def _ingest(data, path, *extra) -> None:
    subprocess.run([sys.executable, "-m", "jianyan", "ingest", "--data", str(data), str(path),
                    "--map", PROPOSAL_MAP, "--type", "proposal", "--no-progress", *extra],
                   check=True, capture_output=True)


def _csv(path, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


@requires_shared
def test_a_restart_serves_what_is_indexed_while_it_catches_up(tmp_path):
    rows = proposal_rows()
    data = tmp_path / "data"
    _csv(tmp_path / "old.csv", rows[:8])
    _csv(tmp_path / "new.csv", rows[8:40])
    _ingest(data, tmp_path / "old.csv")
    _ingest(data, tmp_path / "new.csv", "--no-index")  # stored, not indexed: as after a kill
    old_ids = {r["pkid"] for r in rows[:8]}
    with running_server(data) as s:
        c = s.client()
        first = c.get("/api/health").json()
        assert first["status"] == "degraded", first  # answering at once, and saying why
        assert any("正在补齐索引" in reason for reason in first["busy"])
        hits = c.post("/api/search", json={"query": rows[0]["reason"], "k": 20}).json()["results"]
        assert hits and {h["external_id"] for h in hits} <= old_ids  # only what is indexed
        assert hits[0]["external_id"] == rows[0]["pkid"]
        deadline = time.monotonic() + 600
        while (health := c.get("/api/health").json())["status"] != "ready":
            assert time.monotonic() < deadline, health
            time.sleep(0.5)
        stats = c.get("/api/stats").json()
        assert stats["consistent"] and stats["documents"] == 40
        hits = c.post("/api/search", json={"query": rows[30]["reason"]}).json()["results"]
        assert hits[0]["external_id"] == rows[30]["pkid"]  # caught up: the newer documents too
