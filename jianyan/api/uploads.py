"""Uploaded files: saved under generated names, checked by content before a job takes them.

An upload's own name is only ever a label (the document's source and external id, decided by
`jianyan/names.py`: never cut or filtered); the file on disk is `<data>/uploads/<job>/NNN<suffix>`,
the suffix from a fixed list. A name that cannot be shown as it is, a file whose content is not
what its name says, or a DOCX/XLSX that would inflate like a zip bomb, refuses the whole upload
with the reason for each bad file, so nothing half-checked reaches the store.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_to_bytes

from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request

from ..errors import BadFileName, BadRequest, BadUpload, JianyanError, RequestTimeout, UnsupportedFileType
from ..ingest.encoding import decode_text
from ..ingest.filetype import KNOWN_SUFFIXES, sniff
from ..names import decode_name, name_problem, normalise, shown, undo_latin1
from .admission import client_left

COPY_CHUNK = 1024 * 1024
TEXT_FORMATS = {"txt", "md", "csv", "jsonl"}
TEXT_PROBE_BYTES = 256 * 1024


def upload_name(filename: str | None) -> str:
    """A client's file name as the document's name: its last path component, decoded as meant,
    NFC (`jianyan/names.py`). Nothing is removed or cut: `validate` refuses what cannot be shown."""
    name = normalise(undo_latin1(filename or ""))
    return re.split(r"[\\/]", name)[-1] or "未命名"


def suffix_of(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return suffix if suffix in KNOWN_SUFFIXES else ""


@dataclass
class SavedUpload:
    name: str  # the client's name (`upload_name`)
    path: Path  # where it was saved
    size: int
    format: str = ""


def check_content(saved: SavedUpload) -> None:
    """Sniff the format from the bytes (raises with a Chinese message); text must decode as text."""
    saved.format = sniff(saved.path)
    if saved.format in TEXT_FORMATS:
        with open(saved.path, "rb") as fh:
            head = fh.read(TEXT_PROBE_BYTES)
        # A cut in the middle of a multi-byte character is not an error: drop the last bytes.
        for cut in range(4):
            try:
                decode_text(head[:len(head) - cut] if cut else head, saved.name)
                return
            except JianyanError as exc:
                last = exc
                if exc.code == "empty":
                    raise
        raise last


def validate(saved: list[SavedUpload], names: bool = True) -> None:
    """Refuse the lot (`BadUpload`) if any file's content is not what it says, or, with `names`
    (files that become documents, named by their file names), any name cannot name a document."""
    problems = []
    for s in saved:
        problem = name_problem(s.name) if names else None
        if problem:
            problems.append({"file": s.name, "code": BadFileName.code, "message": problem})
            continue
        if not suffix_of(s.name):
            problems.append({"file": s.name, "code": UnsupportedFileType.code,
                             "message": f"不支持的文件类型（{Path(s.name).suffix or '无扩展名'}）；"
                                        f"可上传 TXT、MD、DOCX、DOC、WPS、RTF、PDF、OFD、图片（PNG、JPEG、TIFF、BMP）、CSV、XLSX、XLS、ET、JSONL"})
            continue
        try:
            check_content(s)
        except JianyanError as exc:
            problems.append({"file": s.name, "code": exc.code, "message": exc.message})
    if problems:
        listed = "；".join(f"{shown(p['file'])}：{p['message']}" for p in problems)
        raise BadUpload(f"有 {len(problems)} 个文件不能导入，本次上传未导入任何文件（{listed}）", problems)


# -- multipart forms ------------------------------------------------------------------------------
BINARY = {"type": "string", "format": "binary"}


def multipart_body(required: list[str], **properties: dict) -> dict:
    """`openapi_extra` for a route that reads its multipart form itself (`read_form`): the form's
    fields, so the document (and a client made from it) shows what to send."""
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": properties, "required": required}}}}}


# How long a form may take to arrive: UPLOAD_SECONDS, and one second more for every
# UPLOAD_MIN_KBPS KB received. A 查重 upload holds an admission place while it arrives
# (api/admission.py), so a client sending a byte now and then (slowloris) must lose it: with a
# fixed deadline long enough for a 64 MB upload on a slow line, it would hold the place for
# minutes at no cost; with this one, for UPLOAD_SECONDS, or for as long as it keeps sending at
# UPLOAD_MIN_KBPS. Both are settings (`ServiceSettings.upload_seconds`, `.upload_min_kbps`).


def extended_filename(disposition: bytes) -> str | None:
    """The `filename*` of a part's Content-Disposition (RFC 6266/5987: `UTF-8''%E6%8F%90.txt`,
    a charset, a language, percent-encoded bytes), decoded; None when absent, empty or undecodable."""
    match = re.search(rb";\s*filename\*\s*=\s*\"?([^\";]*)", disposition, re.IGNORECASE)
    parts = match.group(1).strip().split(b"'", 2) if match else []
    if len(parts) != 3:
        return None
    try:
        return unquote_to_bytes(parts[2]).decode(parts[0].decode("ascii")) or None
    except (UnicodeDecodeError, LookupError):
        return None


class _MultiPartParser(MultiPartParser):
    """Starlette's parser, each file's name read as the client meant it: its `filename*` when it
    has one (python-multipart ignores it: RFC 7578 forbids it, yet clients send it, some without
    `filename`, and then Starlette would not even see a file); else its `filename`'s bytes as
    `decode_name` reads them (Starlette falls back to Latin-1 when they are not UTF-8), unless the
    form named another charset. Uses Starlette's private `_current_part` and `_charset`: test_api's
    raw-header upload fails if they change."""

    def on_headers_finished(self) -> None:
        part = self._current_part
        _, options = parse_options_header(part.content_disposition)
        extended = extended_filename(part.content_disposition)
        if extended is not None and b"filename" not in options:
            part.content_disposition += b'; filename=""'  # a file, named below
        super().on_headers_finished()
        if part.file is not None:
            if extended is not None:
                part.file.filename = extended
            elif self._charset == "utf-8":
                part.file.filename = decode_name(options[b"filename"]) or part.file.filename


async def read_form(request: Request, max_files: int) -> FormData:
    """The request's multipart form, or `BadRequest` in words (too many files, not a form, the
    client gone: `client_left`), or `RequestTimeout` when it does not arrive in time."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadRequest("请用 multipart/form-data 表单上传文件")
    settings = request.app.state.settings
    seconds, kbps = settings.upload_seconds, settings.upload_min_kbps
    started, received = asyncio.get_running_loop().time(), 0
    try:
        async with asyncio.timeout(seconds) as deadline:
            async def body():
                nonlocal received
                async for chunk in request.stream():
                    received += len(chunk)
                    deadline.reschedule(started + seconds + received / (kbps * 1024))
                    yield chunk
            return await _MultiPartParser(request.headers, body(), max_files=max_files, max_fields=20).parse()
    except TimeoutError:
        if not deadline.expired():
            raise
        elapsed = asyncio.get_running_loop().time() - started
        raise RequestTimeout(f"上传超时：{elapsed:.0f} 秒只收到 {received:,} 字节，表单仍未传完，已停止接收。"
                             f"允许的用时为 {seconds:g} 秒、另加每收到 {kbps:g} KB 1 秒"
                             "（网络确实较慢时，可调高设置 JIANYAN_UPLOAD_SECONDS 或调低 JIANYAN_UPLOAD_MIN_KBPS）"
                             ) from None
    except ClientDisconnect:
        raise client_left(request, "上传表单") from None
    except MultiPartException as exc:
        if exc.message.startswith("Too many"):
            raise BadRequest(f"上传的文件或表单字段过多（每次最多 {max_files} 个文件、20 个字段）") from exc
        raise BadRequest("上传表单格式错误，无法解析（请用 multipart/form-data 上传文件）") from exc


def save_uploads(files: list, folder: Path) -> list[SavedUpload]:
    """Copy each upload to `folder/NNNN<suffix>`: the client's name is never part of a path."""
    saved = []
    for n, f in enumerate(files):
        name = upload_name(f.filename)
        path = folder / f"{n:04d}{suffix_of(name)}"
        f.file.seek(0)
        with open(path, "wb") as out:
            shutil.copyfileobj(f.file, out, COPY_CHUNK)
        saved.append(SavedUpload(name, path, path.stat().st_size))
    return saved


def unique_names(names: list[str]) -> list[str]:
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
