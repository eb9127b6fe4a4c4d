"""提案查重 (a pasted draft or a draft file) and 并案 groups."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ...errors import BadRequest
from ...ingest.draft import read_draft
from ..auth import require_dupes
from ..errors import error_responses
from ..schemas import DupesRequest
from ..uploads import BINARY, multipart_body, read_form, save_uploads, validate
from . import json_result, service_of

# Every handler here is admitted first (`Service.dupes`, api/admission.py): on the event loop,
# before the work, so that a flood of drafts is refused at once instead of taking every worker
# thread from searches; `Admission.run` then waits for a running place and does the work.
router = APIRouter(tags=["查重"], dependencies=[Depends(require_dupes)])


@router.post("/api/dupes", responses=error_responses(401, 403, 409, 422, 503), summary="提案查重：结论、相似提案与逐段对照的证据")
async def dupes(req: DupesRequest, request: Request) -> dict:
    service = service_of(request)

    def check() -> dict:
        with service.holder.use() as snap:
            return snap.checker.check(req.text, req.title, tuple(req.exclude), req.limit).to_dict()
    with service.dupes.place():
        return json_result(await service.dupes.run(request, check))


@router.post("/api/dupes/file", responses=error_responses(401, 403, 408, 409, 415, 422, 503),
             openapi_extra=multipart_body(file=BINARY, title={"type": "string", "maxLength": 500}, required=["file"]),
             summary="上传一份提案文件（TXT/MD/DOCX/DOC/WPS/RTF/PDF/OFD；扫描件不识别）查重")
async def dupes_file(request: Request) -> dict:
    service = service_of(request)
    with service.dupes.place():  # before the upload is even read (within a deadline: `read_form`)
        return await _dupes_file(service, request)


async def _dupes_file(service, request: Request) -> dict:
    form = await read_form(request, max_files=1)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise BadRequest("请用表单字段 file 上传一份提案文件")
    title = str(form.get("title") or "")[:500]
    folder = Path(tempfile.mkdtemp(prefix="draft-", dir=service.upload_folder()))
    try:
        saved = await run_in_threadpool(save_uploads, [upload], folder)

        def check() -> dict:  # the file is read in the sandbox (ingest/sandbox.py)
            validate(saved, names=False)  # a draft is never stored: its name is no one's identity
            draft = read_draft(saved[0].path, saved[0].name, title=title)
            with service.holder.use() as snap:
                return snap.checker.check_draft(draft).to_dict()
        return json_result(await service.dupes.run(request, check))
    finally:
        await form.close()
        shutil.rmtree(folder, ignore_errors=True)


@router.get("/api/dupes/clusters", responses=error_responses(401, 403, 409, 422, 503), summary="并案分组（可按年份）")
async def clusters(request: Request, year: int | None = Query(None, ge=0, le=9999)) -> dict:
    service = service_of(request)

    def group() -> dict:
        with service.holder.use() as snap:
            if year not in snap.clusters:
                snap.clusters[year] = snap.checker.cluster(year)
            return {"year": year, "clusters": snap.clusters[year]}
    with service.dupes.place():
        return await service.dupes.run(request, group)
