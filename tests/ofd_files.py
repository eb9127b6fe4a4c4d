"""OFD test files made with real tools, from real documents.

The route: a State Council document from ../shared (its JSONL text) → a DOCX laid out like a
公文 (python-docx) → a PDF (LibreOffice, `soffice --headless --convert-to pdf`) → an OFD
(easyofd's PDF → OFD writer, which places each PDF text span as an OFD TextObject with its
TextCode and DeltaX, or, for a scanned OFD, each page as an image). Hostile and unusual
files are such a real OFD with its XML then altered with `zipfile` (`altered`): a bomb, a DTD,
a page path out of the package are what an attacker would do to a real file.

easyofd writes into its working directory (./test, test.ofd) and prints much: it runs in a
subprocess inside a private folder. The writer gives each span of a PDF line the line's box,
so a line's runs in a second font (Latin quotes, digits) would lose their place: the DOCX sets
one CJK font, which holds Latin glyphs too, for every script.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

FONT = "Noto Serif CJK SC"  # a CJK font with Latin glyphs (Debian's fonts-noto-cjk)
EASYOFD = importlib.util.find_spec("easyofd") is not None
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def policies(jsonl: Path) -> dict[str, dict]:
    """The State Council documents of ../shared, by id."""
    rows = [json.loads(x) for x in jsonl.read_text(encoding="utf-8").splitlines() if x.strip()]
    return {str(r["id"]): r for r in rows}


def paragraphs(record: dict) -> list[str]:
    """The source document's paragraphs (the reference a read-back is compared with)."""
    return [x.strip() for x in record["text"].split("\n") if x.strip()]


def _set_font(style, size: float) -> None:
    style.font.name = FONT
    style.font.size = Pt(size)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _page_number_footer(section) -> None:
    """A footer "— N —" with a PAGE field, as 公文 (GB/T 9704) numbers its pages."""
    para = section.footer.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    para._p.append(field)
    para.add_run(" —")


def write_docx(record: dict, path: Path) -> Path:
    """A DOCX of the record laid out like a 公文: A4, 28 characters a line, centred title and
    文号, body paragraphs indented by two characters and justified, page numbers."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    _set_font(document.styles["Normal"], 16)
    _page_number_footer(section)
    lines = paragraphs(record)
    head = next((i for i, x in enumerate(lines) if x == record.get("doc_number")), -1)
    for i, line in enumerate(lines):
        para = document.add_paragraph(line)
        fmt = para.paragraph_format
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.line_spacing = Pt(28)
        if i <= head:  # title lines and 文号
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        else:
            para.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            fmt.first_line_indent = Pt(32)
    document.save(str(path))
    return path


def docx_to_pdf(docx_paths: list[Path], folder: Path) -> list[Path]:
    """PDFs of the DOCX files by LibreOffice (one run, a private profile in `folder`)."""
    if not SOFFICE:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    profile = (folder / "lo-profile").resolve().as_uri()
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(folder), *map(str, docx_paths)],
                   check=True, capture_output=True, timeout=300)
    out = [folder / (p.stem + ".pdf") for p in docx_paths]
    missing = [p for p in out if not p.exists()]
    if missing:
        raise RuntimeError(f"LibreOffice made no PDF for {missing}")
    return out


_WRITE = """
import os, sys, tempfile
from easyofd.ofd import OFD
jobs = sys.argv[1:]
for pdf, out, mode in zip(jobs[0::3], jobs[1::3], jobs[2::3]):
    os.chdir(tempfile.mkdtemp(dir=os.environ["EASYOFD_WORK"]))  # it writes ./test, test.ofd
    data = OFD().pdf2ofd(open(pdf, "rb").read(), optional_text=mode == "text")
    open(out, "wb").write(data)
"""


def pdfs_to_ofd(jobs: list[tuple[Path, Path, bool]]) -> list[Path]:
    """OFDs of PDFs by easyofd, one run for all: for each (pdf, out, text), the PDF's text as
    TextObjects, or (text=False) each page as an image, the way a scanned OFD is."""
    if not EASYOFD:
        raise RuntimeError("easyofd is not installed")
    args = [str(x) for pdf, out, text in jobs for x in (pdf.resolve(), out.resolve(),
                                                       "text" if text else "image")]
    with tempfile.TemporaryDirectory(prefix="easyofd-") as work:
        subprocess.run([sys.executable, "-c", _WRITE, *args], cwd=work, check=True,
                       capture_output=True, timeout=600, env={**os.environ, "EASYOFD_WORK": work})
    return [out for _, out, _ in jobs]


def altered(src: Path, dst: Path, edits: dict[str, Callable[[bytes], bytes | None]] | None = None,
            add: dict[str, bytes] | None = None,
            rename: Callable[[str], str] | None = None) -> Path:
    """A copy of the real OFD `src` with members changed by `edits` (name → new bytes from
    the old, None drops the member), members added, names changed by `rename`."""
    edits, add = edits or {}, add or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in edits:
                data = edits[info.filename](data)
                if data is None:
                    continue
            zout.writestr(rename(info.filename) if rename else info.filename, data)
        for name, data in add.items():
            zout.writestr(name, data)
    return dst


def make_ofds(records: list[dict], folder: Path, scanned: tuple[str, ...] = ()) -> dict[str, Path]:
    """A text OFD of each record in `folder` (beside its DOCX and PDF), by id; and for the ids in
    `scanned`, an image-only OFD too, by "<id>-scanned"."""
    folder.mkdir(parents=True, exist_ok=True)
    docs = [write_docx(r, folder / f"doc_{r['id']}.docx") for r in records]
    pdfs = dict(zip((str(r["id"]) for r in records), docx_to_pdf(docs, folder)))
    jobs = {key: (pdfs[key], folder / f"doc_{key}.ofd", True) for key in pdfs}
    jobs.update({f"{key}-scanned": (pdfs[key], folder / f"doc_{key}-scanned.ofd", False)
                 for key in scanned})
    return dict(zip(jobs, pdfs_to_ofd(list(jobs.values()))))
