"""Tell a file's format by its content (magic bytes, zip members), not only by its name."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from ..errors import CorruptFile, UnsupportedFileType

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
RECORD_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                   ".xlsx": "xlsx"}
# Old binary office files (OLE2 containers; WPS's .wps/.et are Word/Excel 97 inside) and RTF,
# read through LibreOffice (`convert.py`).
LEGACY_SUFFIXES = {".doc": "doc", ".dot": "doc", ".wps": "wps", ".wpt": "wps", ".rtf": "rtf",
                   ".xls": "xls", ".xlt": "xls", ".et": "et", ".ett": "et"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}
KNOWN_SUFFIXES = (TEXT_SUFFIXES | set(RECORD_SUFFIXES) | set(LEGACY_SUFFIXES) | IMAGE_SUFFIXES
                  | {".pdf", ".docx", ".ofd"})
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")

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


def _ole_kind(path: Path, suffix: str) -> str:
    """doc, wps, xls or et for an OLE2 container: by its name, else by the stream it holds
    (the directory names streams in UTF-16: WordDocument, Workbook/Book)."""
    if suffix in LEGACY_SUFFIXES and LEGACY_SUFFIXES[suffix] != "rtf":
        return LEGACY_SUFFIXES[suffix]
    data = path.read_bytes()
    if "WordDocument".encode("utf-16-le") in data:
        return "doc"
    if "Workbook".encode("utf-16-le") in data or "Book\x00".encode("utf-16-le") in data:
        return "xls"
    raise UnsupportedFileType("这是旧版 Office 文件，但不是 Word 或 Excel 文档（如 .ppt、.msg），暂不支持",
                              path=str(path))


def _reads_as_text(head: bytes) -> bool:
    """The start of a file decodes as UTF-8 or GB18030 text (a cut last character allowed),
    with no control characters but line ends and tabs."""
    for encoding in ("utf-8", "gb18030"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:
                continue
            text = head[:exc.start].decode(encoding)
        return bool(text) and not any(ch < " " and ch not in "\r\n\t\f" for ch in text)
    return False


def _image_header_reads(head: bytes, size: int) -> bool:
    """The image's first bytes are a header of its format (checked by hand, in constant time:
    this runs in the service's own process, where a decoder's header parse is not bounded —
    Pillow walks every TIFF strip, JPEG segment and PNG chunk before the pixels)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        if len(head) < 26 or head[8:16] != b"\x00\x00\x00\rIHDR":
            return False
        width, height = struct.unpack(">II", head[16:24])
        return 0 < width < 2**31 and 0 < height < 2**31 and head[24] in (1, 2, 4, 8, 16) and head[25] in (0, 2, 3, 4, 6)
    if head.startswith(b"\xff\xd8\xff"):
        return len(head) >= 4 and head[3] not in (0x00, 0xff)
    if head.startswith((b"II*\x00", b"MM\x00*")):
        order = "<" if head[:2] == b"II" else ">"
        return len(head) >= 8 and 8 <= struct.unpack(order + "I", head[4:8])[0] < size
    if head.startswith(b"BM"):
        return len(head) >= 26 and struct.unpack("<I", head[2:6])[0] > 26 and struct.unpack("<I", head[14:18])[0] >= 12
    return False


def sniff(path: Path) -> str:
    """Return txt, md, pdf, docx, xlsx, csv, jsonl, ofd, image, or a legacy format (doc, wps,
    rtf, xls, et); raise for unknown or mislabelled files."""
    suffix = path.suffix.lower()
    with open(path, "rb") as fh:
        head = fh.read(2048)
    if (suffix in TEXT_SUFFIXES or suffix in RECORD_SUFFIXES) and suffix != ".xlsx" and _reads_as_text(head):
        # A file named as text that reads as text is text, whatever its first bytes look like
        # (a note quoting "%PDF-1.4", a line starting "II*", "PK" or "{\\rtf").
        return RECORD_SUFFIXES.get(suffix) or ("md" if suffix in (".md", ".markdown") else "txt")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole_kind(path, suffix)
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(_IMAGE_MAGIC) or (suffix == ".bmp" and head.startswith(b"BM")):
        if _image_header_reads(head, path.stat().st_size):
            return "image"
        if suffix in IMAGE_SUFFIXES:
            raise CorruptFile("图片文件已损坏或被截断，无法读取", path=str(path))
        # Not a picture after all: a damaged file, judged below by what its name says it is.
    if head.startswith(b"PK\x03\x04"):
        with check_zip(path) as zf:
            names = set(zf.namelist())
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if any(n.replace("\\", "/").lstrip("/").lower() == "ofd.xml" for n in names):
            return "ofd"
        raise UnsupportedFileType("压缩包不是 Word（.docx）、Excel（.xlsx）或 OFD 文档", path=str(path))
    if suffix == ".pdf":
        raise CorruptFile("文件扩展名是 .pdf，但内容不是 PDF（文件可能已损坏）", path=str(path))
    if suffix in (".docx", ".xlsx", ".ofd"):
        kind = {".docx": "Word", ".xlsx": "Excel", ".ofd": "OFD"}[suffix]
        raise CorruptFile(f"文件扩展名是 {suffix}，但内容不是有效的 {kind} 文档（文件可能已损坏或被截断）",
                          path=str(path))
    if suffix in LEGACY_SUFFIXES or suffix in IMAGE_SUFFIXES:
        raise CorruptFile(f"文件扩展名是 {suffix}，但内容与之不符（文件可能已损坏或被截断）", path=str(path))
    if suffix in RECORD_SUFFIXES:
        return RECORD_SUFFIXES[suffix]
    if suffix in TEXT_SUFFIXES:
        return "md" if suffix in (".md", ".markdown") else "txt"
    raise UnsupportedFileType(f"不支持的文件类型（{suffix or '无扩展名'}）", path=str(path))
