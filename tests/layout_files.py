"""Test files for the layout of a 公文, made from a real State Council work report with real tools:
python-docx writes the DOCX, LibreOffice prints it to PDF.

The 2003 work report in ../shared has headings numbered 一、 and, under them, sub-headings with
no number that the source marks only by blank lines ("五年来，国民经济保持良好发展势头…").
`report_items` takes them from that layout (the reference a read-back is compared with);
`write_gbt_docx` sets them as GB/T 9704 does: 一、 in 黑体, the sub-headings in 楷体, the body
in 仿宋, the title larger. A document can also be set in two columns.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

# Faces as an office's DOCX names them, and as this machine's fonts can print them (LibreOffice
# has no 黑体/楷体/仿宋 here; Debian's Noto and AR PL fonts stand in for them in a PDF).
OFFICE_FACES = {"title": "方正小标宋简体", "head": "楷体_GB2312", "heading": "黑体", "sub": "楷体_GB2312",
                "body": "仿宋_GB2312"}
PRINT_FACES = {"title": "Noto Serif CJK SC", "head": "AR PL UKai CN", "heading": "Noto Sans CJK SC",
               "sub": "AR PL UKai CN", "body": "AR PL UMing CN"}
SIZES = {"title": 22, "head": 16, "heading": 16, "sub": 16, "body": 16}


def report_items(jsonl: Path, year: int = 2003) -> list[tuple[str, str]]:
    """(kind, text) of the year's report: "title", "head" (short lines before the first body
    paragraph or the 各位代表： line: subtitle, speaker, date), "heading" (一、…), "sub" (an unnumbered sub-heading: a short line
    without a sentence end after three blank lines) or "body"."""
    from jianyan.ingest.markers import match_at_start

    record = next(r for r in map(json.loads, jsonl.read_text(encoding="utf-8").splitlines())
                  if r.get("year") == year or str(year) in r.get("title", ""))
    items = [("title", record["title"])]
    blanks = 0
    for raw in record["content"].split("\n"):
        text = raw.strip()
        if not text:
            blanks += 1
            continue
        found = match_at_start(text)
        if found is not None and found[0].kind == "cn":
            items.append(("heading", text))
        elif blanks >= 3 and 2 <= len(text) <= 40 and not re.search(r"[。！？!?]", text) and found is None:
            items.append(("sub" if any(k == "body" and (len(t) > 40 or t.endswith(("：", ":", "！")))
                                       for k, t in items) else "head", text))
        else:
            items.append(("body", text))
        blanks = 0
    return items


def _set_run_font(run, face: str, size: float, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), face)


def write_gbt_docx(items: list[tuple[str, str]], path: Path, faces: dict[str, str] = OFFICE_FACES,
                   columns: int = 1, bold: tuple[str, ...] = ()) -> Path:
    """A DOCX of the items in GB/T 9704's faces (each run's font set directly, as offices'
    templates do), A4; `columns` 2 sets the body after the title in two columns."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    for i, (kind, text) in enumerate(items):
        para = document.add_paragraph()
        fmt = para.paragraph_format
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.line_spacing = Pt(28)
        if kind == "title":
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        else:
            para.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            fmt.first_line_indent = Pt(32)
        _set_run_font(para.add_run(text), faces[kind], SIZES[kind], kind in bold)
        if kind == "title" and columns > 1:
            # The title over the whole width; the rest in columns (a continuous section break).
            body = document.add_section(WD_SECTION.CONTINUOUS)
            cols = body._sectPr.find(qn("w:cols"))
            if cols is None:
                cols = OxmlElement("w:cols")
                body._sectPr.append(cols)
            cols.set(qn("w:num"), str(columns))
            cols.set(qn("w:space"), str(720))
    document.save(str(path))
    return path
