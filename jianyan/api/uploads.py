"""Uploaded files: saved under generated names, checked by content before a job takes them.

An upload's own name is only ever a label (the document's source and external id, decided by
`jianyan/names.py`: never cut or filtered); the file on disk is `<data>/uploads/<job>/NNN<suffix>`,
the suffix from a fixed list. A name that cannot be shown as it is, a file whose content is not
what its name says, or a DOCX/XLSX that would inflate like a zip bomb, refuses the whole upload
with the reason for each bad file, so nothing half-checked reaches the store.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import BadFileName, BadRequest, BadUpload, JianyanError, UnsupportedFileType
from ..ingest.encoding import decode_text
from ..ingest.filetype import KNOWN_SUFFIXES, sniff
from ..names import name_problem, normalise, shown, undo_latin1

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
                                        f"可上传 TXT、MD、DOCX、PDF、CSV、XLSX、JSONL"})
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


async def read_form(request, max_files: int):
    """The request's multipart form, or `BadRequest` in words (too many files, not a form)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadRequest("请用 multipart/form-data 表单上传文件")
    try:
        return await request.form(max_files=max_files, max_fields=20)
    except StarletteHTTPException as exc:
        if "Too many" in str(exc.detail):
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
