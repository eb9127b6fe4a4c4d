"""Expensive requests cannot starve searches: a flood of hostile 查重 drafts is refused (the
draft limits, then admission), while searches and health keep answering (a real server)."""

from __future__ import annotations

import io
import threading
import zipfile

import docx

from tests.test_hostile_files import BODY

FLOOD = 50


def _bomb_docx() -> bytes:
    """A real DOCX whose body holds 60,000 empty paragraphs: ~60 KB, past the draft limits."""
    real = io.BytesIO()
    document = docx.Document()
    document.add_paragraph(BODY)
    document.save(real)
    out = io.BytesIO()
    with zipfile.ZipFile(real) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + b"<w:p/>" * 60_000, 1)
            dst.writestr(item, data)
    return out.getvalue()


def test_a_flood_of_hostile_drafts_is_refused_while_searches_answer(server):
    bomb = _bomb_docx()
    start = threading.Barrier(FLOOD + 1)
    statuses: list[tuple[int, str]] = []

    def send() -> None:
        with server.client(timeout=120) as c:
            start.wait()
            resp = c.post("/api/dupes/file", files={"file": ("draft.docx", bomb)})
            statuses.append((resp.status_code, resp.json()["error"]["code"] if resp.status_code >= 400 else ""))
    threads = [threading.Thread(target=send) for _ in range(FLOOD)]
    for t in threads:
        t.start()
    searches, health = [], []
    with server.client(timeout=60) as c:
        start.wait()
        for query in ("社区养老服务", "农村污水治理", "营商环境"):
            searches.append(c.post("/api/search", json={"query": query}).status_code)
            health.append(c.get("/api/health").json()["status"])
    for t in threads:
        t.join()
    assert searches == [200, 200, 200]
    assert set(health) <= {"ready", "degraded"}
    assert len(statuses) == FLOOD
    # each draft refused in words: past the draft limits (413) or not admitted (503), never a 500
    assert {s for s, _ in statuses} <= {413, 503}, statuses
    assert {code for _, code in statuses} <= {"limit_exceeded", "overloaded"}
    # the service is whole afterwards: a real draft is checked
    with server.client(timeout=60) as c:
        resp = c.post("/api/dupes", json={"text": BODY * 2})
        assert resp.status_code == 200 and resp.json()["verdict"]
