"""Tell a file's format by its content (magic bytes, zip members), not only by its name."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import CorruptFile, UnsupportedFileType

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
RECORD_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                   ".xlsx": "xlsx"}
KNOWN_SUFFIXES = TEXT_SUFFIXES | set(RECORD_SUFFIXES) | {".pdf", ".docx"}

# Zip containers (DOCX, XLSX) are opened only when they would not inflate past these.
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024
MAX_ZIP_RATIO = 200


def check_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip container, refusing zip bombs; the caller closes it."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CorruptFile(f"文件已损坏或被截断，无法作为压缩包打开（{exc}）", path=str(path)) from exc
    total = sum(i.file_size for i in zf.infolist())
    packed = sum(i.compress_size for i in zf.infolist()) or 1
    if total > MAX_UNZIPPED_BYTES or total / packed > MAX_ZIP_RATIO:
        zf.close()
        raise CorruptFile("文件解压后体积异常（疑似压缩炸弹），已拒绝", path=str(path))
    return zf


def sniff(path: Path) -> str:
    """Return txt, md, pdf, docx, xlsx, csv or jsonl; raise for unknown or mislabelled files."""
    suffix = path.suffix.lower()
    with open(path, "rb") as fh:
        head = fh.read(2048)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedFileType("旧版 Word/Excel 格式（.doc/.xls）暂不支持，请另存为 .docx/.xlsx 后导入",
                                  path=str(path))
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        with check_zip(path) as zf:
            names = set(zf.namelist())
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        raise UnsupportedFileType("压缩包不是 Word（.docx）或 Excel（.xlsx）文档", path=str(path))
    if suffix == ".pdf":
        raise CorruptFile("文件扩展名是 .pdf，但内容不是 PDF（文件可能已损坏）", path=str(path))
    if suffix in (".docx", ".xlsx"):
        kind = "Word" if suffix == ".docx" else "Excel"
        raise CorruptFile(f"文件扩展名是 {suffix}，但内容不是有效的 {kind} 文档（文件可能已损坏或被截断）",
                          path=str(path))
    if suffix in RECORD_SUFFIXES:
        return RECORD_SUFFIXES[suffix]
    if suffix in TEXT_SUFFIXES:
        return "md" if suffix in (".md", ".markdown") else "txt"
    raise UnsupportedFileType(f"不支持的文件类型（{suffix or '无扩展名'}）", path=str(path))
