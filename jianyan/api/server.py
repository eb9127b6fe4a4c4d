"""Run the service with uvicorn: one process, logging one line per request (RequestLogMiddleware)."""

from __future__ import annotations

import logging

from .settings import LOOPBACK, ServiceSettings

log = logging.getLogger("jianyan.service")


def run(settings: ServiceSettings) -> None:
    import uvicorn

    from .app import create_app

    if settings.host not in LOOPBACK:
        log.warning("服务监听 %s，不只是本机：请确认防火墙和令牌配置（JIANYAN_READ_TOKENS）", settings.host)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None,
                access_log=False, server_header=False, timeout_graceful_shutdown=5)
