"""The FastAPI app: the JSON API under /api, the internal page at /, offline OpenAPI docs at /docs.

Routes live one module per resource in `routes/`; each is a thin layer over the core, reached
through the service's current snapshot (see snapshot.py). This module only assembles them with
the middleware, the error handlers and the service's lifetime.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from .. import __version__
from . import errors
from .middleware import (HeadMiddleware, LimitsMiddleware, RequestLogMiddleware, SecurityHeadersMiddleware,
                         TrustedHostMiddleware)
from .routes import documents, dupes, page, search, status
from .service import Service
from .settings import ServiceSettings


def create_app(settings: ServiceSettings, service: Service | None = None) -> FastAPI:
    service = service or Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.start(background=True)
        yield
        service.stop()

    app = FastAPI(title="建言 jianyan", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="中文公文检索、提案查重与并案。写操作需要 `Authorization: Bearer <令牌>`。")
    app.state.service, app.state.settings = service, settings
    errors.install(app)

    def count_request() -> None:
        service.requests += 1

    app.add_middleware(LimitsMiddleware, max_url_chars=settings.max_url_chars,
                       max_body_bytes=settings.max_json_bytes,
                       upload_limits={"/api/documents": settings.max_upload_bytes,
                                      "/api/dupes/file": settings.max_draft_bytes})
    app.add_middleware(HeadMiddleware)  # the middleware outside it see HEAD; the limits and routes, GET
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(RequestLogMiddleware, on_request=count_request)  # outermost: logs every answer

    for module in (search, dupes, documents, status, page):
        app.include_router(module.router)
    page.mount_static(app)
    return app
