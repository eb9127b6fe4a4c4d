"""Bearer tokens: writes always need one, reads only when the service is configured so.
Tokens are compared in constant time."""

from __future__ import annotations

import secrets

from fastapi import Request, Security
from fastapi.security import HTTPBearer

from ..errors import Forbidden, Unauthorized
from .settings import ServiceSettings


def bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _matches(token: str, tokens) -> bool:
    return any(secrets.compare_digest(token.encode(), t.encode()) for t in tokens)


def settings_of(request: Request) -> ServiceSettings:
    return request.app.state.settings


# Declares the bearer scheme in the OpenAPI document (and /docs' "Authorize"); the token itself
# is read and checked below, with our own messages.
WRITE_SCHEME = HTTPBearer(auto_error=False, scheme_name="bearer",
                           description="写入令牌：JIANYAN_WRITE_TOKENS 中的一个（或数据文件夹中的 service-token）")


def require_write(request: Request, _=Security(WRITE_SCHEME)) -> None:
    settings = settings_of(request)
    token = bearer(request)
    if token is None:
        raise Unauthorized("此操作需要写入令牌：请在请求头中提供 Authorization: Bearer <令牌>")
    if not _matches(token, settings.write_tokens):
        raise Forbidden("令牌无效，或没有写入权限")


def require_read(request: Request) -> None:
    settings = settings_of(request)
    if not settings.reads_protected:
        return
    token = bearer(request)
    if token is None:
        raise Unauthorized("本服务需要令牌才能查询：请在请求头中提供 Authorization: Bearer <令牌>")
    if not _matches(token, settings.read_tokens | settings.write_tokens):
        raise Forbidden("令牌无效")


def require_dupes(request: Request) -> None:
    """查重 reads like a search, but costs far more: `JIANYAN_DUPES_NEED_TOKEN=1` makes it need
    a read or write token even where reading is open."""
    settings = settings_of(request)
    if settings.dupes_need_token and not settings.reads_protected:
        token = bearer(request)
        if token is None:
            raise Unauthorized("本服务的查重需要令牌：请在请求头中提供 Authorization: Bearer <令牌>")
        if not _matches(token, settings.read_tokens | settings.write_tokens):
            raise Forbidden("令牌无效")
    require_read(request)
