"""Expensive requests cannot starve searches: a flood of hostile 查重 drafts is refused (the
draft limits, then admission), while searches and health keep answering (a real server)."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import zipfile

import docx
import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

from tests.server import running_server
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


# -- slow and leaving clients: a server where 查重 has one running and one waiting place ---------
UPLOAD_SECONDS = 2  # JIANYAN_UPLOAD_SECONDS of `strict_server`
READ_SECONDS = 5  # JIANYAN_READ_SECONDS: how long the slow PDF below holds its running place
FULL = "查重已满"  # what /api/health says while every place is taken


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("strict")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "养老.txt").write_text("关于加快农村养老服务体系建设的建议\n" + BODY * 3, encoding="utf-8")
    env = {"JIANYAN_DUPES_RUNNING": "1", "JIANYAN_DUPES_WAITING": "1",
           "JIANYAN_UPLOAD_SECONDS": str(UPLOAD_SECONDS), "JIANYAN_READ_SECONDS": str(READ_SECONDS)}
    with running_server(root / "data", corpus=corpus, env=env) as s:
        yield s


def _form(content: bytes, filename: bytes = b"draft.txt", padding: int = 0) -> bytes:
    """A multipart body (boundary XX) with one file, and a `padding` field of that many bytes."""
    pad = (b'--XX\r\nContent-Disposition: form-data; name="padding"\r\n\r\n' + b"x" * padding + b"\r\n"
           if padding else b"")
    return (pad + b'--XX\r\nContent-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n--XX--\r\n")


def _send(server, path: str, body: bytes, sent: int | None = None, content_type: str = "multipart/form-data; boundary=XX",
          token: str | None = None) -> socket.socket:
    """A real client on its own connection: the request's headers, then `sent` bytes of its body
    (all of it by default); whatever it does next is up to the caller."""
    port = int(server.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n{auth}\r\n").encode()
    sock.sendall(head + body[:len(body) if sent is None else sent])
    return sock


def _answer(sock: socket.socket, timeout: float) -> tuple[int, dict]:
    """The status and JSON body of the response on `sock`, within `timeout` seconds."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed in the middle of a response"
        body += chunk
    return int(head.split(b" ", 2)[1]), json.loads(body[:length])


def _busy(server) -> list[str]:
    with server.client(timeout=10) as c:
        return c.get("/api/health").json().get("busy", [])


def _wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _draft_check(server) -> int:
    with server.client(timeout=60) as c:
        return c.post("/api/dupes", json={"text": BODY * 2}).status_code


def _stall_at_the_deadline(server, clients: list[socket.socket]) -> None:
    """Each of `clients` (slow uploads that hold a place) is answered 408 once its upload deadline
    passes, and not long after: neither refused at once (503), nor kept waiting."""
    started = time.monotonic()
    for sock in clients:
        status, body = _answer(sock, UPLOAD_SECONDS + 10)
        assert status == 408 and body["error"]["code"] == "request_timeout", body
        assert "上传超时" in body["error"]["message"] and "JIANYAN_UPLOAD_SECONDS" in body["error"]["message"]
        sock.close()
    assert time.monotonic() - started < UPLOAD_SECONDS + 5


def test_slow_uploads_lose_their_places_at_the_deadline(strict_server):
    body = _form(BODY.encode() * 20)
    stalled = _send(strict_server, "/api/dupes/file", body, sent=10)  # a few bytes, then nothing
    trickling = _send(strict_server, "/api/dupes/file", body, sent=10)

    def trickle() -> None:  # a byte every 0.2 s: far below the least rate, so no extra time
        for n in range(10, 10 + 5 * (UPLOAD_SECONDS + 3)):
            try:
                trickling.sendall(body[n:n + 1])
            except OSError:
                return
            time.sleep(0.2)
    threading.Thread(target=trickle, daemon=True).start()
    _wait_until(lambda: any(FULL in b for b in _busy(strict_server)), 10, "the slow uploads were not admitted")
    assert _draft_check(strict_server) == 503  # while they hold the places, 查重 is refused
    _stall_at_the_deadline(strict_server, [stalled, trickling])
    assert _draft_check(strict_server) == 200  # the places are back


def test_a_slow_but_steady_upload_has_the_time_it_needs(strict_server):
    """Past the deadline's first seconds, an upload that keeps coming (40 KB/s, above the least
    rate) gets a second more for every 16 KB: it is checked, not cut off."""
    body = _form(BODY.encode() * 20, padding=100_000)
    sock = _send(strict_server, "/api/dupes/file", body, sent=0)
    started = time.monotonic()
    for start in range(0, len(body), 10_000):
        sock.sendall(body[start:start + 10_000])
        time.sleep(0.25)
    assert time.monotonic() - started > UPLOAD_SECONDS  # longer than the first seconds alone allow
    status, answer = _answer(sock, 60)
    sock.close()
    assert status == 200 and answer["verdict"], answer


def test_a_client_that_leaves_mid_upload_is_no_server_error(strict_server):
    for path, token in (("/api/dupes/file", None), ("/api/documents", strict_server.token)):
        sock = _send(strict_server, path, _form(BODY.encode() * 20), sent=100, token=token)
        time.sleep(0.5)  # the service is reading the form
        sock.close()
    left = "客户端已断开连接（上传表单）"
    _wait_until(lambda: strict_server.log_text().count(left) >= 2, 10, "no line for the clients that left")
    log = strict_server.log_text()
    assert "Traceback" not in log and "内部错误" not in log, log[-3000:]
    assert "POST /api/dupes/file 400" in log and "POST /api/documents 400" in log
    # both places are free again: two new slow uploads are admitted (not refused) and time out
    _stall_at_the_deadline(strict_server, [_send(strict_server, "/api/dupes/file", _form(b"x" * 1000), sent=10)
                                           for _ in range(2)])


def _slow_pdf() -> bytes:
    """A 20 KB PDF of one page whose content is 5 million no-op operators: minutes to read, so its
    reader is stopped at the read time limit (READ_SECONDS)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    stream = DecodedStreamObject()
    stream.set_data(b"q Q " * 5_000_000)
    page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_client_that_gives_up_waiting_gives_its_place_back(strict_server):
    held: list[tuple[int, dict]] = []

    def hold_the_running_place() -> None:
        with strict_server.client(timeout=60) as c:
            resp = c.post("/api/dupes/file", files={"file": ("slow.pdf", _slow_pdf())})
            held.append((resp.status_code, resp.json()))
    holder = threading.Thread(target=hold_the_running_place)
    started = time.monotonic()
    holder.start()
    time.sleep(1.0)  # its upload is read and its file is being read (for READ_SECONDS)
    waiting = _send(strict_server, "/api/dupes", json.dumps({"text": BODY * 2}).encode(),
                    content_type="application/json")
    _wait_until(lambda: any(FULL in b for b in _busy(strict_server)), 3, "the second draft was not admitted")
    waiting.close()  # the client gives up while its draft waits
    _wait_until(lambda: not any(FULL in b for b in _busy(strict_server)), 3, "the place was not given back")
    assert holder.is_alive() and time.monotonic() - started < READ_SECONDS  # given back before its turn
    _wait_until(lambda: "客户端已断开连接（等待查重）" in strict_server.log_text(), 5, "no line for the client that left")
    holder.join(READ_SECONDS + 30)
    status, body = held[0]
    assert status == 413 and body["error"]["code"] == "limit_exceeded", body  # stopped at the read time
    log = strict_server.log_text()
    assert "POST /api/dupes 400" in log and "Traceback" not in log
    assert _draft_check(strict_server) == 200
