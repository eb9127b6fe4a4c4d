"""One router per resource: search, 查重, documents (with upload jobs), service status, the page."""

from __future__ import annotations

from fastapi import Request

from ..service import Service


def service_of(request: Request) -> Service:
    return request.app.state.service
