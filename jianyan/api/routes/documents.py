"""Documents: the paged list, one document, delete, and uploads ingested by background jobs."""

from __future__ import annotations

import shutil
import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from ...errors import BadRequest, NotFound
from ...ingest.metadata import DOC_TYPES
from ...ingest.pipeline import FileToIngest
from ...ingest.readers import FieldMapping
from ..auth import require_read, require_write
from ..errors import error_responses
from ..jobs import Job
from ..schemas import DocType
from ..uploads import BINARY, multipart_body, read_form, save_uploads, unique_names, validate
from . import service_of

router = APIRouter(tags=["文档"])
read = [Depends(require_read)]
write = [Depends(require_write)]


@router.get("/api/documents", dependencies=read, responses=error_responses(401, 403, 422, 503), summary="文档列表（分页、可筛选）")
def documents(request: Request, type: DocType | None = None,
              year_from: int | None = Query(None, ge=0, le=9999), year_to: int | None = Query(None, ge=0, le=9999),
              category: str | None = Query(None, max_length=100),
              q: str | None = Query(None, max_length=200, description="标题包含的文字"),
              limit: int = Query(20, ge=1, le=200), offset: int = Query(0, ge=0, le=10**9),
              order: Literal["newest", "oldest"] = Query("newest", description="newest：最近导入的在前")) -> dict:
    filters = dict(year_from=year_from, year_to=year_to, category=category or None, title_contains=q or None)
    with service_of(request).holder.use() as snap:
        return {"total": snap.store.count_matching(type, **filters), "limit": limit, "offset": offset,
                "items": snap.store.list_documents(type, limit, offset, order == "newest", **filters)}


@router.get("/api/documents/{ref:path}", dependencies=read, responses=error_responses(401, 403, 404, 409, 422, 503),
            summary="一篇文档：元数据、结构树、全文与段落（ref 为编号或外部编号，或写明 id:12、ext:12）",
            description="ref 写 id:12 按编号、ext:12 按外部编号；不带前缀的 ref 若既是一篇文档的编号、"
                        "又是另一篇的外部编号，答 409（ambiguous_ref），details 列出两篇及各自明确的写法。")
def document(ref: str, request: Request) -> dict:
    with service_of(request).holder.use() as snap:
        return snap.store.get_document(ref)


@router.delete("/api/documents/{ref:path}", dependencies=write,
               responses=error_responses(401, 403, 404, 409, 422, 503, 507),
               summary="删除一篇文档（需要写入令牌；ref 的写法同上）")
def delete_document(ref: str, request: Request) -> dict:
    return {"deleted": service_of(request).delete_document(ref)}


@router.post("/api/documents", dependencies=write, status_code=202,
             responses=error_responses(401, 403, 408, 415, 422, 503, 507),
             openapi_extra=multipart_body(files={"type": "array", "items": BINARY, "minItems": 1},
                                          mapping={"type": "string", "description": "记录导出的字段映射，如 id=pkid,body=content"},
                                          doc_type={"type": "string", "enum": list(DOC_TYPES)}, required=["files"]),
             summary="上传文件导入（后台进行，返回任务编号；需要写入令牌）")
async def upload(request: Request) -> JSONResponse:
    service = service_of(request)
    form = await read_form(request, max_files=request.app.state.settings.max_files)
    try:
        files = [f for f in form.getlist("files") + form.getlist("file") if isinstance(f, UploadFile)]
        if not files:
            raise BadRequest("请用表单字段 files 上传至少一个文件")
        mapping = FieldMapping.parse(str(form["mapping"])) if form.get("mapping") else None
        doc_type = str(form.get("doc_type") or "") or None
        if doc_type is not None and doc_type not in DOC_TYPES:
            raise BadRequest(f"文档类型“{doc_type}”无效，可选：{'、'.join(DOC_TYPES)}")
        folder = service.upload_folder() / uuid.uuid4().hex
        folder.mkdir(parents=True)
        try:
            saved = await run_in_threadpool(save_uploads, files, folder)
            await run_in_threadpool(validate, saved)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    finally:
        await form.close()
    names = unique_names([s.name for s in saved])
    job = service.jobs.submit(Job([FileToIngest(s.path, n, n) for s, n in zip(saved, names)], folder,
                                  mapping, doc_type))
    return JSONResponse(job.to_dict(), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})


@router.get("/api/jobs/{job_id}", dependencies=read, responses=error_responses(401, 403, 404, 422, 503), summary="导入任务的进度和每个文件的结果")
def job(job_id: str, request: Request) -> dict:
    found = service_of(request).jobs.get(job_id)
    if found is None:
        raise NotFound(f"找不到导入任务“{job_id[:64]}”（任务记录只保存在本次运行的内存中）")
    return found.to_dict()
