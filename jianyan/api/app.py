"""The FastAPI app: the JSON API under /api, the internal page at /, offline OpenAPI docs at /docs.

Every route is a thin layer over the core (`Searcher`, `DuplicateChecker`, `ingest_files`,
`Store`), reached through the service's current snapshot (see snapshot.py).
"""

from __future__ import annotations

import secrets
import shutil
import threading
import tempfile
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..errors import JianyanError, NotFound
from ..ingest.draft import read_draft
from ..ingest.metadata import DOC_TYPES
from ..ingest.pipeline import FileToIngest
from ..ingest.readers import FieldMapping
from ..search.searcher import Filters
from . import errors
from .jobs import Job
from .middleware import LimitsMiddleware, RequestLogMiddleware, SecurityHeadersMiddleware, TrustedHostMiddleware
from .service import Service
from .settings import ServiceSettings
from .uploads import SavedUpload, safe_name, suffix_of, validate

STATIC = Path(__file__).parent / "static"
DRAFT_READERS = 2  # drafts read and checked at once: reading a file is CPU work under the GIL
DocType = Literal["proposal", "report", "policy", "other"]


class BadRequest(JianyanError):
    code = "bad_request"


class Unauthorized(JianyanError):
    code = "unauthorized"


class Forbidden(JianyanError):
    code = "forbidden"


# -- request bodies -------------------------------------------------------------------------------
def _encodable(value: str) -> str:
    """JSON may carry lone surrogates ("\ud800"), which no tokenizer or response can encode."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("含有无法识别的字符") from None
    return value


Text = Annotated[str, AfterValidator(_encodable)]
Year = Annotated[int, Field(ge=0, le=9999, strict=True)]


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: Text = Field(description="几个词、一句话或粘贴的一段文字（至多 5000 字）")
    mode: Literal["hybrid", "dense", "keyword"] = "hybrid"
    k: int = Field(10, strict=True, description="返回多少篇文档（1–200）")
    doc_type: DocType | None = None
    year_from: Year | None = None
    year_to: Year | None = None
    category: Text | None = Field(None, max_length=100)
    exclude: list[Text] = Field(default_factory=list, max_length=1000, description="不返回这些外部编号的文档")


class DupesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Text = Field("", max_length=500, description="提案标题（案由）")
    text: Text = Field(description="提案正文（20–50,000 字）")
    exclude: list[Text] = Field(default_factory=list, max_length=1000, description="不与这些外部编号的提案比较")
    limit: int = Field(10, ge=1, le=50, strict=True)


def create_app(settings: ServiceSettings, service: Service | None = None) -> FastAPI:
    service = service or Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.start(background=True)
        yield
        service.stop()

    app = FastAPI(title="建言 jianyan", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="中文公文检索、提案查重与并案。写操作需要 `Authorization: Bearer <令牌>`。")
    app.state.service = service
    errors.install(app)

    def count_request() -> None:
        service.requests += 1

    app.add_middleware(LimitsMiddleware, max_url_chars=settings.max_url_chars,
                       max_body_bytes=settings.max_json_bytes,
                       upload_limits={"/api/documents": settings.max_upload_bytes,
                                      "/api/dupes/file": settings.max_draft_bytes})
    draft_slots = threading.BoundedSemaphore(DRAFT_READERS)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(RequestLogMiddleware, on_request=count_request)  # outermost: logs every answer

    # -- access ---------------------------------------------------------------------------------
    def bearer(request: Request) -> str | None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None

    def matches(token: str, tokens) -> bool:
        return any(secrets.compare_digest(token.encode(), t.encode()) for t in tokens)

    def require_write(request: Request) -> None:
        token = bearer(request)
        if token is None:
            raise Unauthorized("此操作需要写入令牌：请在请求头中提供 Authorization: Bearer <令牌>")
        if not matches(token, settings.write_tokens):
            raise Forbidden("令牌无效，或没有写入权限")

    def require_read(request: Request) -> None:
        if not settings.reads_protected:
            return
        token = bearer(request)
        if token is None:
            raise Unauthorized("本服务需要令牌才能查询：请在请求头中提供 Authorization: Bearer <令牌>")
        if not matches(token, settings.read_tokens | settings.write_tokens):
            raise Forbidden("令牌无效")

    read = [Depends(require_read)]

    # -- search ---------------------------------------------------------------------------------
    @app.post("/api/search", dependencies=read, tags=["检索"], summary="检索（与 jianyan search --json 同一结果格式）")
    def search(req: SearchRequest) -> dict:
        with service.holder.use() as snap:
            result = snap.searcher.search(req.query, mode=req.mode, k=req.k,
                                          filters=Filters(req.doc_type, req.year_from, req.year_to,
                                                          req.category or None),
                                          exclude_external_ids=tuple(req.exclude))
            return result.to_dict()

    # -- 查重 / 并案 -------------------------------------------------------------------------------
    @app.post("/api/dupes", dependencies=read, tags=["查重"], summary="提案查重：结论、相似提案与逐段对照的证据")
    def dupes(req: DupesRequest) -> dict:
        with service.holder.use() as snap:
            return snap.checker.check(req.text, req.title, tuple(req.exclude), req.limit).to_dict()

    @app.post("/api/dupes/file", dependencies=read, tags=["查重"], summary="上传一份提案文件（TXT/MD/DOCX/PDF）查重")
    async def dupes_file(request: Request) -> dict:
        form = await _form(request, max_files=1)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadRequest("请用表单字段 file 上传一份提案文件")
        title = str(form.get("title") or "")[:500]
        folder = Path(tempfile.mkdtemp(prefix="draft-", dir=_upload_root()))
        try:
            saved = await run_in_threadpool(_save, [upload], folder)

            def check() -> dict:
                with draft_slots:
                    validate(saved)
                    file_title, text = read_draft(saved[0].path, saved[0].name)
                    with service.holder.use() as snap:
                        return snap.checker.check(text, title or file_title).to_dict()
            return await run_in_threadpool(check)
        finally:
            await form.close()
            shutil.rmtree(folder, ignore_errors=True)

    @app.get("/api/dupes/clusters", dependencies=read, tags=["查重"], summary="并案分组（可按年份）")
    def clusters(year: int | None = Query(None, ge=0, le=9999)) -> dict:
        with service.holder.use() as snap:
            if year not in snap.clusters:
                snap.clusters[year] = snap.checker.cluster(year)
            return {"year": year, "clusters": snap.clusters[year]}

    # -- documents ------------------------------------------------------------------------------
    @app.get("/api/documents", dependencies=read, tags=["文档"], summary="文档列表（分页、可筛选）")
    def documents(type: DocType | None = None, year_from: int | None = Query(None, ge=0, le=9999),
                  year_to: int | None = Query(None, ge=0, le=9999),
                  category: str | None = Query(None, max_length=100),
                  q: str | None = Query(None, max_length=200, description="标题包含的文字"),
                  limit: int = Query(20, ge=1, le=200), offset: int = Query(0, ge=0, le=10**9),
                  order: Literal["newest", "oldest"] = Query("newest", description="newest：最近导入的在前")) -> dict:
        filters = dict(year_from=year_from, year_to=year_to, category=category or None, title_contains=q or None)
        with service.holder.use() as snap:
            return {"total": snap.store.count_matching(type, **filters), "limit": limit, "offset": offset,
                    "items": snap.store.list_documents(type, limit, offset, order == "newest", **filters)}

    @app.get("/api/documents/{ref:path}", dependencies=read, tags=["文档"],
             summary="一篇文档：元数据、结构树、全文与段落（ref 为编号或外部编号）")
    def document(ref: str) -> dict:
        with service.holder.use() as snap:
            return snap.store.get_document(ref)

    @app.delete("/api/documents/{ref:path}", dependencies=[Depends(require_write)], tags=["文档"],
                summary="删除一篇文档（需要写入令牌）")
    def delete_document(ref: str) -> dict:
        return {"deleted": service.delete_document(ref)}

    @app.post("/api/documents", dependencies=[Depends(require_write)], status_code=202, tags=["文档"],
              summary="上传文件导入（后台进行，返回任务编号；需要写入令牌）")
    async def upload(request: Request) -> JSONResponse:
        form = await _form(request, max_files=settings.max_files)
        try:
            files = [f for f in form.getlist("files") + form.getlist("file") if isinstance(f, UploadFile)]
            if not files:
                raise BadRequest("请用表单字段 files 上传至少一个文件")
            mapping = FieldMapping.parse(str(form["mapping"])) if form.get("mapping") else None
            doc_type = str(form.get("doc_type") or "") or None
            if doc_type is not None and doc_type not in DOC_TYPES:
                raise BadRequest(f"文档类型“{doc_type}”无效，可选：{'、'.join(DOC_TYPES)}")
            folder = _upload_root() / uuid.uuid4().hex
            folder.mkdir(parents=True)
            try:
                saved = await run_in_threadpool(_save, files, folder)
                await run_in_threadpool(validate, saved)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
        finally:
            await form.close()
        names = _unique([s.name for s in saved])
        job = service.jobs.submit(Job([FileToIngest(s.path, n, n) for s, n in zip(saved, names)], folder,
                                      mapping, doc_type))
        return JSONResponse(job.to_dict(), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})

    @app.get("/api/jobs/{job_id}", dependencies=read, tags=["文档"], summary="导入任务的进度和每个文件的结果")
    def job(job_id: str) -> dict:
        found = service.jobs.get(job_id)
        if found is None:
            raise NotFound(f"找不到导入任务“{job_id[:64]}”（任务记录只保存在本次运行的内存中）")
        return found.to_dict()

    # -- health and stats -----------------------------------------------------------------------
    @app.get("/api/health", tags=["服务"], summary="就绪检查：文档库和索引已加载时返回 200")
    async def health() -> JSONResponse:  # on the event loop: answers even when every worker thread is busy
        snap = service.holder.current
        if service.state == "ready" and snap is not None:
            return JSONResponse({"status": "ready", "generation": snap.generation,
                                 "passages": len(snap.indexes.vectors)})
        body = errors.error_body("not_ready", service.holder.unavailable)
        body["status"] = service.state
        return JSONResponse(body, status_code=503)

    @app.get("/api/stats", dependencies=read, tags=["服务"], summary="文档库、索引和服务的统计")
    def stats() -> dict:
        with service.holder.use() as snap:
            facets = snap.store.facets()
            meta = snap.indexes.meta
            return {**facets, "generation": snap.generation, "consistent": snap.consistent,
                    "index": {"model_id": meta.get("model_id"), "dim": meta.get("dim"),
                              "passages": len(snap.indexes.vectors), "built_at": meta.get("built_at")},
                    "jobs_active": service.jobs.active(), "requests": service.requests,
                    "uptime_seconds": round(time.time() - service.started, 1), "version": __version__,
                    "reads_protected": settings.reads_protected,
                    "limits": {"upload_bytes": settings.max_upload_bytes, "files": settings.max_files,
                               "body_bytes": settings.max_json_bytes}}

    # -- the page and the docs ------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    try:
        from swagger_ui_bundle import swagger_ui_path

        app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="swagger")

        @app.get("/docs", include_in_schema=False)
        def docs():
            return get_swagger_ui_html(openapi_url="/openapi.json", title="建言 jianyan API",
                                       swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                       swagger_css_url="/docs-assets/swagger-ui.css",
                                       swagger_favicon_url="/static/favicon.svg")
    except ImportError:  # the API works without its interactive docs; /openapi.json stays
        pass

    # -- helpers --------------------------------------------------------------------------------
    def _upload_root() -> Path:
        root = service.upload_root
        root.mkdir(parents=True, exist_ok=True)
        return root

    async def _form(request: Request, max_files: int):
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise BadRequest("请用 multipart/form-data 表单上传文件")
        try:
            return await request.form(max_files=max_files, max_fields=20)
        except StarletteHTTPException as exc:
            if "Too many" in str(exc.detail):
                raise BadRequest(f"上传的文件或表单字段过多（每次最多 {max_files} 个文件、20 个字段）") from exc
            raise BadRequest("上传表单格式错误，无法解析（请用 multipart/form-data 上传文件）") from exc

    return app


def _save(files: list[UploadFile], folder: Path) -> list[SavedUpload]:
    """Copy each upload to `folder/NNN<suffix>`: the client's name is never part of a path."""
    saved = []
    for n, f in enumerate(files):
        name = safe_name(f.filename)
        path = folder / f"{n:04d}{suffix_of(name)}"
        f.file.seek(0)
        with open(path, "wb") as out:
            shutil.copyfileobj(f.file, out, 1024 * 1024)
        saved.append(SavedUpload(name, path, path.stat().st_size))
    return saved


def _unique(names: list[str]) -> list[str]:
    """External ids for one upload's files: a repeated name gets " (2)", " (3)"…, never a name
    that another file of the same upload carries."""
    taken, used, out = set(names), set(), []
    for name in names:
        candidate, n = name, 1
        while candidate in used or (candidate != name and candidate in taken):
            n += 1
            stem, dot, suffix = name.rpartition(".")
            candidate = f"{stem} ({n}).{suffix}" if dot else f"{name} ({n})"
        used.add(candidate)
        out.append(candidate)
    return out
