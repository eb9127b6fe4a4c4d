"""提案查重 (a pasted draft or a draft file) and 并案 groups."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ...errors import BadRequest
from ...ingest.draft import read_draft
from ..auth import require_read
from ..schemas import DupesRequest
from ..uploads import read_form, save_uploads, validate
from . import service_of

router = APIRouter(tags=["查重"], dependencies=[Depends(require_read)])
DRAFT_READERS = 2  # drafts read and checked at once: reading a file is CPU work under the GIL
_draft_slots = threading.BoundedSemaphore(DRAFT_READERS)


@router.post("/api/dupes", summary="提案查重：结论、相似提案与逐段对照的证据")
def dupes(req: DupesRequest, request: Request) -> dict:
    with service_of(request).holder.use() as snap:
        return snap.checker.check(req.text, req.title, tuple(req.exclude), req.limit).to_dict()


@router.post("/api/dupes/file", summary="上传一份提案文件（TXT/MD/DOCX/PDF）查重")
async def dupes_file(request: Request) -> dict:
    service = service_of(request)
    form = await read_form(request, max_files=1)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise BadRequest("请用表单字段 file 上传一份提案文件")
    title = str(form.get("title") or "")[:500]
    folder = Path(tempfile.mkdtemp(prefix="draft-", dir=service.upload_folder()))
    try:
        saved = await run_in_threadpool(save_uploads, [upload], folder)

        def check() -> dict:
            with _draft_slots:
                validate(saved)
                draft = read_draft(saved[0].path, saved[0].name, title=title)
                with service.holder.use() as snap:
                    return snap.checker.check_draft(draft).to_dict()
        return await run_in_threadpool(check)
    finally:
        await form.close()
        shutil.rmtree(folder, ignore_errors=True)


@router.get("/api/dupes/clusters", summary="并案分组（可按年份）")
def clusters(request: Request, year: int | None = Query(None, ge=0, le=9999)) -> dict:
    with service_of(request).holder.use() as snap:
        if year not in snap.clusters:
            snap.clusters[year] = snap.checker.cluster(year)
        return {"year": year, "clusters": snap.clusters[year]}
