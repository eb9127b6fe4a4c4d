"""GET /api/health (readiness, always open) and GET /api/stats."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from ... import __version__
from .. import errors
from ..errors import error_responses
from ..auth import require_read
from . import service_of

router = APIRouter(tags=["服务"])


@router.get("/api/health", responses=error_responses(503), summary="就绪检查：文档库和索引已加载时返回 200（繁忙时 status 为 degraded，并说明原因）")
async def health(request: Request) -> JSONResponse:  # on the event loop: answers even when every worker is busy
    service = service_of(request)
    snap = service.holder.current
    if service.state == "ready" and snap is not None:
        busy = service.saturation()
        return JSONResponse({"status": "degraded" if busy else "ready", "busy": busy,
                             "generation": snap.generation, "passages": len(snap.indexes.vectors)})
    body = errors.error_body("not_ready", service.holder.unavailable)
    body["status"] = service.state
    return JSONResponse(body, status_code=503)


@router.get("/api/stats", dependencies=[Depends(require_read)], responses=error_responses(401, 403, 503), summary="文档库、索引和服务的统计")
def stats(request: Request) -> dict:
    service, settings = service_of(request), request.app.state.settings
    with service.holder.use() as snap:
        meta = snap.indexes.meta
        consistent, store_generation = service.consistency(snap)
        return {**snap.store.facets(), "generation": snap.generation, "store_generation": store_generation,
                "consistent": consistent,
                "index": {"model_id": meta.get("model_id"), "dim": meta.get("dim"),
                          "passages": len(snap.indexes.vectors), "built_at": meta.get("built_at"),
                          **snap.indexes.stats()},
                "jobs_active": service.jobs.active(), "requests": service.requests,
                "uptime_seconds": round(time.time() - service.started, 1), "version": __version__,
                "reads_protected": settings.reads_protected,
                "limits": {"upload_bytes": settings.max_upload_bytes, "files": settings.max_files,
                           "body_bytes": settings.max_json_bytes}}
