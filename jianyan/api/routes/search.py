"""POST /api/search: the same result as `jianyan search --json`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...search.searcher import Filters
from ..auth import require_read
from ..errors import error_responses
from ..schemas import SearchRequest
from . import json_result, service_of

router = APIRouter(tags=["检索"], dependencies=[Depends(require_read)])


@router.post("/api/search", responses=error_responses(401, 403, 409, 422, 503), summary="检索（与 jianyan search --json 同一结果格式）")
def search(req: SearchRequest, request: Request) -> dict:
    with service_of(request).holder.use() as snap:
        result = snap.searcher.search(req.query, mode=req.mode, k=req.k,
                                      filters=Filters(req.doc_type, req.year_from, req.year_to, req.category or None),
                                      exclude_external_ids=tuple(req.exclude))
        return json_result(result.to_dict())
