"""DOCX with python-docx: paragraphs and tables in document order, heading styles kept."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ...documents import SourceLine
from ...errors import CorruptFile, EmptyDocument
from ..filetype import check_zip
from ..limits import ReadLimits

_HEADING_STYLE = re.compile(r"^(?:Heading|标题)\s*(\d)$", re.IGNORECASE)
# Key cells of a metadata table ("提案人 | 张三") and the field each fills.
_KEY_FIELDS = {"提案人": "author", "作者": "author", "类别": "category", "分类": "category",
               "日期": "date", "提交时间": "date", "时间": "date", "文号": "doc_number",
               "发文字号": "doc_number", "发文机关": "issuer", "案由": "title", "标题": "title"}


def _count_paragraphs(zf: zipfile.ZipFile, limit: int) -> int:
    """`<w:p>` elements of the body, counted while inflating it in pieces (stopping past `limit`):
    a small file of millions of empty paragraphs is refused before an XML tree is built."""
    count = 0  # (a tag cut between two pieces is missed: a few in millions)
    try:
        with zf.open("word/document.xml") as fh:
            while count <= limit and (chunk := fh.read(1 << 20)):
                count += chunk.count(b"<w:p>") + chunk.count(b"<w:p ") + chunk.count(b"<w:p/>")
    except (KeyError, zipfile.BadZipFile, OSError, EOFError):
        return 0  # python-docx reports the damage below
    return count


def read_docx(path: Path, limits: ReadLimits | None = None) -> tuple[list[SourceLine], dict]:
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    limits = limits or ReadLimits()
    with check_zip(path) as zf:
        limits.check("paragraphs", _count_paragraphs(zf, limits.paragraphs), str(path))
    try:
        document = docx.Document(str(path))
    except MemoryError:
        raise  # the sandbox names the limit
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise CorruptFile(f"Word 文档已损坏，无法读取（{type(exc).__name__}）", path=str(path)) from exc
    except Exception as exc:  # lxml errors on damaged XML parts
        raise CorruptFile(f"Word 文档内容损坏，无法解析（{type(exc).__name__}）", path=str(path)) from exc

    fields: dict = {}
    if document.core_properties.title:
        fields["title"] = document.core_properties.title.strip()
    lines: list[SourceLine] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(child, document)
            text = para.text.replace("\v", "\n")
            style = para.style.name if para.style is not None else ""
            if style == "Title" and text.strip():
                fields.setdefault("title", text.strip())
            m = _HEADING_STYLE.match(style or "")
            level = int(m.group(1)) if m else None
            for piece in text.split("\n"):
                lines.append(SourceLine(piece, hard=True, heading_level=level))
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells: list[str] = []
                for cell in row.cells:  # merged cells repeat: keep each once
                    value = cell.text.strip()
                    if value and (not cells or cells[-1] != value):
                        cells.append(value)
                if len(cells) >= 2 and cells[0].rstrip("：:") in _KEY_FIELDS:
                    fields.setdefault(_KEY_FIELDS[cells[0].rstrip("：:")], cells[1])
                if cells:
                    lines.append(SourceLine(" | ".join(cells), hard=True))
    if not any(line.text.strip() for line in lines):
        raise EmptyDocument("Word 文档中没有文字内容", path=str(path))
    return lines, fields
