"""ASGI middleware: request size limits, HEAD wherever GET is, trusted hosts, security headers,
and one log line per request with its latency."""

from __future__ import annotations

import json
import logging
import time

from ..errors import UploadTooLarge
from .errors import TOO_LARGE, error_body

log = logging.getLogger("jianyan.http")


async def _send_error(send, status: int, code: str, message: str) -> None:
    body = json.dumps(error_body(code, message), ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class LimitsMiddleware:
    """Refuse long URLs (414) and bodies over the limit (413) — by Content-Length before reading
    anything, and by counting as it streams for chunked bodies."""

    def __init__(self, app, max_url_chars: int, max_body_bytes: int, upload_limits: dict[str, int]) -> None:
        self.app, self.max_url = app, max_url_chars
        self.max_body, self.upload_limits = max_body_bytes, upload_limits  # POST path → byte limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") > self.max_url:
            return await _send_error(send, 414, "url_too_long", f"请求地址过长（超过 {self.max_url} 字符）")
        upload = scope["method"] == "POST" and scope["path"] in self.upload_limits
        limit = self.upload_limits[scope["path"]] if upload else self.max_body
        what = f"上传内容超过 {limit / (1024 * 1024):g} MB 的上限" if upload else f"请求内容超过 {limit // 1024} KB 的上限"
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > limit
            except ValueError:
                return await _send_error(send, 400, "bad_request", "请求头 Content-Length 无效")
            if too_big:
                return await _send_error(send, 413, "too_large", what)
        received = 0

        async def counting_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    scope[TOO_LARGE] = what
                    raise UploadTooLarge(what)
            return message

        return await self.app(scope, counting_receive, send)


class RequestLogMiddleware:
    def __init__(self, app, on_request=None) -> None:
        self.app, self.on_request = app, on_request

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = [500]

        async def send_and_note(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            ms = (time.perf_counter() - started) * 1000
            client = scope.get("client") or ("-", 0)
            log.info("%s %s %s %d %.1fms", client[0], scope["method"], scope["path"], status[0], ms)
            if self.on_request is not None:
                self.on_request()


class TrustedHostMiddleware:
    """Refuse requests whose Host is not one of ours (400): a page on another site that rebinds its
    DNS name to 127.0.0.1 must not reach a service that listens on loopback."""

    def __init__(self, app, allowed_hosts: frozenset[str] | None) -> None:
        self.app, self.allowed = app, allowed_hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.allowed is None:
            return await self.app(scope, receive, send)
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").strip().lower()
        # "name:port", or "[v6 address]:port"
        name = host[1:host.find("]")] if host.startswith("[") and "]" in host else host.split(":", 1)[0]
        if name not in self.allowed:
            return await _send_error(send, 400, "bad_host",
                                     f"请求的主机名“{host[:100]}”不在允许范围内（可用 JIANYAN_ALLOWED_HOSTS 配置）")
        return await self.app(scope, receive, send)


# The page's own assets only: no inline script, no other origin (an offline page needs none).
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class SecurityHeadersMiddleware:
    """Headers every response carries; the Content-Security-Policy everywhere but /docs, whose
    Swagger UI starts from an inline script."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        with_csp = not scope["path"].startswith("/docs")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                headers += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                            (b"x-frame-options", b"DENY")]
                if with_csp:
                    headers.append((b"content-security-policy", PAGE_CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


class HeadMiddleware:
    """HEAD wherever GET is (RFC 9110): answered as the GET would be — status and headers,
    Content-Length included — with no body. FastAPI routes declared with `get` only accept GET,
    so without this a HEAD (monitoring probes, link checkers, `curl -I`) gets 405. Outer
    middleware (the request log) still see the request as HEAD."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def send_without_body(message):
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        return await self.app({**scope, "method": "GET"}, receive, send_without_body)
