"""One JSON error shape for every failure: {"error": {"code", "message", "details"?}}.

`code` is stable for programs; `message` is Chinese, for the people reading the page. Bad input
is always a 4xx; a 500 means a bug and is logged with its traceback.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from ..errors import JianyanError
from ..storage import storage_error

log = logging.getLogger("jianyan.http")
TOO_LARGE = "jianyan.too_large"  # scope key: the body limit tripped (FastAPI may re-wrap the error)

HTTP_MESSAGES = {404: ("not_found", "没有这个地址"), 405: ("method_not_allowed", "这个地址不支持该请求方法"),
                 400: ("bad_request", "请求格式错误")}

# Pydantic error types, in words a user understands.
_VALIDATION = {
    "missing": "缺少必填字段", "json_invalid": "请求体不是有效的 JSON", "json_type": "请求体应为 JSON 对象",
    "model_attributes_type": "请求体应为 JSON 对象", "dict_type": "应为 JSON 对象",
    "string_type": "应为文字", "int_parsing": "应为整数", "int_type": "应为整数", "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false", "list_type": "应为列表",
    "literal_error": "取值无效", "enum": "取值无效", "extra_forbidden": "不认识的字段",
    "string_too_long": "内容过长", "value_error": "含有无法识别的字符", "int_strict": "应为整数",
    "too_long": "条目过多", "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大", "greater_than": "数值过小", "less_than": "数值过大",
}


class ErrorInfo(BaseModel):
    code: str = Field(description="稳定的错误代码，供程序判断（如 bad_query、not_found、overloaded）")
    message: str = Field(description="给人看的中文说明")
    details: Any = Field(None, description="可选：逐项的原因（每个文件、每个字段，或一个编号可能指的文档）")


class ErrorResponse(BaseModel):
    """The one error shape, as the OpenAPI document shows it."""
    error: ErrorInfo


# What each error status means here, for the OpenAPI document (`error_responses`).
STATUS_DESCRIPTIONS = {
    400: "请求有误：请求体不是 JSON 对象、检索词或草稿不合要求（bad_query、bad_draft）、"
         "表单或字段映射有误、主机名不被允许（bad_host）",
    401: "缺少令牌（unauthorized）",
    403: "令牌无效或没有该权限（forbidden）",
    404: "没有这篇文档或这个任务（not_found）",
    408: "上传超时：表单未在限定时间内传完（request_timeout）",
    409: "冲突：编号有歧义（ambiguous_ref，details 列出各篇）、写入繁忙（busy）或索引与模型不符（index_mismatch）",
    413: "请求体、上传文件或读取用量超出上限（too_large、limit_exceeded）",
    414: "请求地址过长（url_too_long）",
    415: "上传了不支持的文件类型（bad_upload，details 逐个文件说明）",
    422: "字段取值无效（bad_request，details 逐个字段说明），或上传的文件无法读取（bad_upload、empty、corrupt…）",
    503: "服务暂不可用：正在加载（not_ready）、查重请求过多（overloaded）或存储暂不可用",
    507: "磁盘已满（disk_full）",
}
EVERY_ROUTE = (400, 413, 414)  # the middleware's answers (Host, Content-Length, size limits)


def error_responses(*statuses: int) -> dict:
    """`responses=` for a route: the error statuses it may answer, each with the error shape."""
    return {s: {"model": ErrorResponse, "description": STATUS_DESCRIPTIONS[s]}
            for s in sorted(set(statuses) | set(EVERY_ROUTE))}


def error_body(code: str, message: str, details=None) -> dict:
    err = {"code": code, "message": message}
    if details is not None:
        err["details"] = details
    return {"error": err}


def error_response(status: int, code: str, message: str, details=None, headers=None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def _describe(err: dict) -> str:
    loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
    field = ".".join(loc)
    what = _VALIDATION.get(err.get("type", ""), "取值无效")
    if err.get("type") in ("literal_error", "enum") and err.get("ctx", {}).get("expected"):
        what += f"，可选：{str(err['ctx']['expected']).replace(' or ', ', ')}"
    return f"{field}：{what}" if field else what


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path answers, found by asking each route whether it
    would take the request with that method (HEAD wherever GET is: `HeadMiddleware`)."""
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]  # static files: GET only
    allowed = {m for m in ("GET", "POST", "PUT", "PATCH", "DELETE")
               if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)}
    if "GET" in allowed:
        allowed.add("HEAD")
    return sorted(allowed)


def install(app: FastAPI) -> None:
    @app.exception_handler(JianyanError)
    async def jianyan_error(request: Request, exc: JianyanError):
        status = exc.status()
        details = getattr(exc, "problems", None)
        if details is None:
            details = getattr(exc, "candidates", None)  # AmbiguousRef: the documents a ref could mean
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if status == 408:  # the body was never finished: the connection cannot carry another request
            headers = {"Connection": "close"}
        return error_response(status, exc.code, exc.message, details, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        if request.scope.get(TOO_LARGE):
            return error_response(413, "too_large", request.scope[TOO_LARGE])
        errors = exc.errors()
        if any(e.get("type") in ("json_invalid", "json_type", "model_attributes_type") for e in errors):
            return error_response(400, "bad_request", "请求体不是有效的 JSON 对象")
        message = "请求参数有误：" + "；".join(_describe(e) for e in errors[:5])
        details = [{"field": ".".join(str(p) for p in e.get("loc", ())), "type": e.get("type")} for e in errors]
        return error_response(422, "bad_request", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if request.scope.get(TOO_LARGE):
            return error_response(413, "too_large", request.scope[TOO_LARGE])
        code, message = HTTP_MESSAGES.get(exc.status_code, ("http_error", str(exc.detail)))
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # Starlette's Allow names the first route of the path only
            headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
        return error_response(exc.status_code, code, message, headers=headers)

    async def storage_failure(request: Request, exc: Exception):
        # A full disk, a read-only folder… met outside the write path (`Library.writing` maps
        # its own): the same typed error and status (507 for a full disk, else 503), not a 500.
        settings = getattr(request.app.state, "settings", None)
        mapped = storage_error(exc, getattr(settings, "data_dir", None))
        if mapped is None:
            return await internal_error(request, exc)
        log.error("存储错误：%s %s：%s（%r）", request.method, request.url.path, mapped.code, exc)
        return error_response(mapped.status(), mapped.code, mapped.message)

    app.add_exception_handler(OSError, storage_failure)
    app.add_exception_handler(sqlite3.Error, storage_failure)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.exception("内部错误：%s %s", request.method, request.url.path)
        return error_response(500, "internal", "服务器内部错误，已记录日志；请联系管理员")
