"""One router per resource: search, 查重, documents (with upload jobs), service status, the page."""

from __future__ import annotations

import math

from fastapi import Request
from fastapi.responses import JSONResponse

from ..service import Service


def service_of(request: Request) -> Service:
    return request.app.state.service


def json_result(content: dict) -> JSONResponse:
    """A result as JSON, without FastAPI's jsonable_encoder walking its every value (~1 ms a
    search, and 查重's on the event loop); a non-finite number becomes null, as it did there."""
    try:
        return JSONResponse(content)
    except ValueError:  # NaN or ±inf somewhere (json.dumps(allow_nan=False))
        return JSONResponse(_finite(content))


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
