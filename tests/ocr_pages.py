"""Scanned-page test material for the OCR engine, made with real tools from real text.

Real text (State Council documents, CPPCC proposals from ../shared/corpora) is laid out in a
DOCX with python-docx in a real CJK font from Debian (Noto Serif/Sans CJK SC, AR PL UKai CN),
converted to PDF by LibreOffice (`soffice --headless --convert-to pdf`, with its own throw-away
profile), rasterised by pypdfium2 at 300 or 150 dpi, then rotated or skewed with Pillow, and saved
as image-only PDFs with Pillow. The ground truth of each page is the text layer of the PDF that
LibreOffice wrote (pdfplumber), checked against the source text, so it is what is printed on that
page, line by line, in reading order.

Everything is written into a folder the caller gives; nothing is cached in the repository.

    from tests.ocr_pages import CASES, build_pages
    pages = build_pages(tmp_path, ["12pt-300dpi", "rot90"])   # {name: Page}
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpora"
POLICIES_JSONL = SHARED / "state-council-policies" / "policies_clean.jsonl"
PROPOSALS_CSV = SHARED / "jiangsu-cppcc-proposals-2019" / "jszx2019.csv"

SERIF = "Noto Serif CJK SC"  # 宋体-like
SANS = "Noto Sans CJK SC"  # 黑体-like
KAI = "AR PL UKai CN"  # 楷体


@dataclass(frozen=True)
class Case:
    """One kind of page: how it is typeset, rendered and degraded."""

    name: str
    size_pt: float = 12
    dpi: int = 300
    font: str = SERIF
    columns: int = 1
    rotate: int = 0  # counter-clockwise degrees, as Pillow's Image.rotate: a page fed in sideways
    skew: float = 0.0  # counter-clockwise degrees: a page laid slightly askew on the scanner
    crop: float = 1.0  # keep the top of the page only, this fraction of its height (quicker tests)
    scan: str = ""  # "" clean | "noisy": blur, grain, JPEG | "bw": 1-bit, as fax-like office scanners
    source: str = "policies"  # policies | proposals
    doc: int = 0  # which document of the source


CASES: dict[str, Case] = {c.name: c for c in (
    Case("10.5pt-300dpi", size_pt=10.5, doc=1),
    Case("12pt-300dpi", size_pt=12, doc=2),
    Case("14pt-300dpi", size_pt=14, doc=3),
    Case("16pt-300dpi", size_pt=16, doc=4),
    Case("12pt-150dpi", size_pt=12, dpi=150, doc=5),
    Case("10.5pt-150dpi", size_pt=10.5, dpi=150, doc=15),
    Case("12pt-kai-300dpi", size_pt=12, font=KAI, source="proposals", doc=7),
    Case("12pt-sans-150dpi", size_pt=12, dpi=150, font=SANS, source="proposals", doc=11),
    Case("rot90", size_pt=12, rotate=90, doc=6),
    Case("rot180", size_pt=12, rotate=180, doc=8),
    Case("rot270", size_pt=12, rotate=270, doc=9),
    Case("skew2", size_pt=12, skew=2.0, doc=10),
    Case("two-column", size_pt=10.5, columns=2, doc=12),
    Case("12pt-noisy-200dpi", size_pt=12, dpi=200, scan="noisy", doc=13),
    Case("12pt-bw-200dpi", size_pt=12, dpi=200, scan="bw", doc=14),
    Case("10.5pt-noisy-150dpi", size_pt=10.5, dpi=150, scan="noisy", doc=16),
)}


@dataclass
class Page:
    case: Case
    image: object  # PIL.Image.Image, the page as scanned
    lines: list[str]  # the printed lines of the page, in reading order (column by column)
    pdf: Path  # the LibreOffice PDF (with its text layer) the page was rendered from
    image_pdf: Path | None = None  # the same page as an image-only PDF
    meta: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _policies() -> list[dict]:
    return [json.loads(x) for x in POLICIES_JSONL.read_text(encoding="utf-8").splitlines() if x.strip()]


def _proposals() -> list[dict]:
    with open(PROPOSALS_CSV, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def source_paragraphs(source: str, doc: int) -> tuple[str, list[str]]:
    """(title, body paragraphs) of one real document, whitespace inside paragraphs removed."""
    if source == "policies":
        rows = [r for r in _policies() if len(r["text"]) > 3000]
        row = rows[doc % len(rows)]
        title, text = row["title"], row["text"]
        paras = [p for p in text.splitlines() if p.strip()]
        # the record starts with the title (broken over lines) and the document number: keep
        # the body that follows the document number
        for i, p in enumerate(paras[:6]):
            if re.search(r"〔\d{4}〕\d+号", p):
                paras = paras[i + 1:]
                break
    else:
        rows = [r for r in _proposals() if len(r["content"]) > 2500]
        row = rows[doc % len(rows)]
        title = row["reason"]
        # pasted from PDF: hard breaks mid-sentence; re-join lines that do not end a sentence
        paras, cur = [], ""
        for ln in row["content"].splitlines():
            ln = re.sub(r"\s+", "", ln)
            if not ln or re.fullmatch(r"\d+", ln):
                continue
            cur += ln
            if cur[-1] in "。：；！？":
                paras.append(cur)
                cur = ""
        if cur:
            paras.append(cur)
    paras = [re.sub(r"\s+", "", p) for p in paras]
    return re.sub(r"\s+", "", title), [p for p in paras if p]


def write_docx(path: Path, title: str, paragraphs: list[str], font: str, size_pt: float,
               columns: int = 1) -> None:
    """An A4 office document: centred title, body paragraphs with a two-character first-line
    indent, in `font` for both Latin and East Asian text."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    d = Document()
    sec = d.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.top_margin = sec.bottom_margin = Cm(3.0)
    sec.left_margin = sec.right_margin = Cm(2.6)
    if columns > 1:
        cols = sec._sectPr.find(qn("w:cols"))
        if cols is None:
            cols = OxmlElement("w:cols")
            sec._sectPr.append(cols)
        cols.set(qn("w:num"), str(columns))
        cols.set(qn("w:space"), str(int(Cm(1.0).twips)))

    def run_font(run, size):
        run.font.name = font
        run.font.size = Pt(size)
        rpr = run._element.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = OxmlElement("w:rFonts")
            rpr.append(rfonts)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            rfonts.set(qn(attr), font)

    p = d.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.space_after = Pt(size_pt)
    run_font(p.add_run(title), size_pt + 4)
    for text in paragraphs:
        p = d.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        fmt = p.paragraph_format
        fmt.first_line_indent = Pt(2 * size_pt)
        fmt.space_after = Pt(0)
        fmt.line_spacing = 1.25
        run_font(p.add_run(text), size_pt)
    d.save(str(path))


def convert_to_pdf(docx_paths: list[Path], outdir: Path) -> list[Path]:
    """One LibreOffice run for all documents, with its own throw-away user profile."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("soffice (LibreOffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="jianyan-lo-") as profile:
        subprocess.run(
            [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", "pdf", "--outdir", str(outdir), *map(str, docx_paths)],
            check=True, capture_output=True, timeout=300)
    pdfs = [outdir / (p.stem + ".pdf") for p in docx_paths]
    missing = [p.name for p in pdfs if not p.exists()]
    if missing:
        raise RuntimeError(f"LibreOffice wrote no PDF for {missing}")
    return pdfs


def printed_lines(pdf: Path, columns: int = 1, page_no: int = 0) -> list[tuple[str, float, float]]:
    """The lines LibreOffice printed on one page, from its text layer, in reading order (column
    by column): (text, top, bottom), top and bottom as fractions of the page's height."""
    import pdfplumber

    with pdfplumber.open(str(pdf)) as doc:
        page = doc.pages[page_no]
        height = float(page.height)
        if columns == 1:
            parts = [page]
        else:
            w = float(page.width)
            parts = [page.crop((w * i / columns, 0, w * (i + 1) / columns, height))
                     for i in range(columns)]
        lines = []
        for part in parts:
            got = part.extract_text_lines(return_chars=False)
            got.sort(key=lambda ln: (round(ln["top"]), ln["x0"]))
            lines += [(re.sub(r"\s+", "", ln["text"]), float(ln["top"]) / height, float(ln["bottom"]) / height)
                      for ln in got]
    return [ln for ln in lines if ln[0]]


def render(pdf: Path, dpi: int, page_no: int = 0):
    """The page as a scanner at `dpi` would see it: 8-bit grey."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        img = doc[page_no].render(scale=dpi / 72).to_pil().convert("L")
    finally:
        doc.close()
    return img


def degrade(img, rotate: int = 0, skew: float = 0.0, scan: str = "", seed: int = 0, crop: float = 1.0):
    import io

    import numpy as np
    from PIL import Image, ImageFilter

    if crop < 1.0:  # the top of the page only (a quicker test)
        img = img.crop((0, 0, img.width, round(img.height * crop)))
    if scan == "noisy":  # a worn copy on a cheap scanner: soft focus, grey paper, grain, JPEG
        img = img.filter(ImageFilter.GaussianBlur(0.9))
        a = np.asarray(img, dtype=np.float32) * 0.8 + 30  # ink not black, paper not white
        a += np.random.default_rng(seed).normal(0, 12, a.shape)
        img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L")
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=40)
        img = Image.open(io.BytesIO(buf.getvalue()))
        img.load()
    elif scan == "bw":  # 1-bit, thresholded as office scanners and fax do
        img = img.point(lambda v: 255 if v > 160 else 0).convert("1", dither=Image.Dither.NONE)
    if skew:
        img = img.rotate(skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    if rotate:
        img = img.rotate(rotate, expand=True)
    return img


def image_only_pdf(images: list, path: Path, dpi: int) -> Path:
    """Pages as a scanner's PDF: images only, no text layer."""
    first, *rest = [im.convert("RGB") if im.mode not in ("L", "RGB") else im for im in images]
    first.save(str(path), "PDF", resolution=float(dpi), save_all=True, append_images=rest)
    return path


def _check_against_source(lines: list[str], title: str, paragraphs: list[str], name: str) -> None:
    """The printed lines must be the source text (the layer is our ground truth)."""
    printed = "".join(lines)
    source = title + "".join(paragraphs)
    if not source.startswith(printed) or len(printed) < 300:
        i = next((k for k, (a, b) in enumerate(zip(printed, source)) if a != b), len(printed))
        raise RuntimeError(f"{name}: the PDF's text layer differs from the source at {i}: "
                           f"{printed[i - 10:i + 10]!r} vs {source[i - 10:i + 10]!r}")


def _gap_near(y: float, spans: list[tuple[float, float]]) -> float:
    """The middle of the gap between lines (of any column) nearest to height `y`."""
    merged: list[list[float]] = []
    for top, bottom in sorted(spans):
        if merged and top <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], bottom)
        else:
            merged.append([top, bottom])
    gaps = [(a[1] + b[0]) / 2 for a, b in zip(merged, merged[1:])]
    return min(gaps, key=lambda g: abs(g - y)) if gaps else y


def _document_key(case: Case) -> tuple:
    return (case.source, case.doc, case.font, case.size_pt, case.columns)


def build_pages(folder: Path, cases: list | None = None, image_pdfs: bool = False) -> dict[str, Page]:
    """Make the cases (names from CASES or Case objects; all of CASES by default) in `folder`:
    {name: Page}. Cases that differ only in how the page is scanned share one document."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cases = [CASES[c] if isinstance(c, str) else c for c in (cases or list(CASES))]
    docs: dict[tuple, Path] = {}
    sources: dict[tuple, tuple[str, list[str]]] = {}
    for case in cases:
        key = _document_key(case)
        if key in docs:
            continue
        title, paras = source_paragraphs(case.source, case.doc)
        sources[key] = (title, paras)
        path = folder / f"{case.name}.docx"
        # a page holds at most ~1,600 characters at 10.5 pt: 4,000 fill the first page
        body, n = [], 0
        for p in paras:
            body.append(p)
            n += len(p)
            if n > 4000:
                break
        write_docx(path, title, body, case.font, case.size_pt, case.columns)
        docs[key] = path
    pdfs = dict(zip(docs, convert_to_pdf(list(docs.values()), folder)))
    pages = {}
    for case in cases:
        key = _document_key(case)
        pdf = pdfs[key]
        printed = printed_lines(pdf, case.columns)
        title, paras = sources[key]
        _check_against_source([t for t, _, _ in printed], title, paras, case.name)
        cut = _gap_near(case.crop, [(t, b) for _, t, b in printed]) if case.crop < 1.0 else 1.0
        lines = [t for t, _, bottom in printed if bottom <= cut]
        img = degrade(render(pdf, case.dpi), case.rotate, case.skew, case.scan, case.doc, cut)
        page = Page(case, img, lines, pdf)
        if image_pdfs:
            page.image_pdf = image_only_pdf([img], folder / f"{case.name}-scan.pdf", case.dpi)
        pages[case.name] = page
    return pages


def load_or_build(folder: Path, names: list[str] | None = None) -> dict[str, Page]:
    """Like build_pages, but reuses pages an earlier call left in `folder` (for iterating)."""
    folder = Path(folder)
    names = names or list(CASES)
    todo = [n for n in names if not (folder / f"{n}.png").exists() or not (folder / f"{n}.json").exists()]
    if todo:
        for name, page in build_pages(folder, todo).items():
            page.image.save(folder / f"{name}.png")
            (folder / f"{name}.json").write_text(json.dumps(page.lines, ensure_ascii=False), encoding="utf-8")
    from PIL import Image

    pages = {}
    for n in names:
        with Image.open(folder / f"{n}.png") as im:
            img = im.copy()
        lines = json.loads((folder / f"{n}.json").read_text(encoding="utf-8"))
        pages[n] = Page(CASES[n], img, lines, folder / f"{n}.pdf")
    return pages


# -- scoring --------------------------------------------------------------------------------

def normalise(text: str, fold_width: bool = True) -> str:
    """Whitespace removed; with `fold_width`, the full-width forms of ASCII characters
    (U+FF01-FF5E: （）：；，！？％ and full-width digits and letters), which print as the same
    glyphs as their ASCII forms, folded to ASCII. 、。“”《》〔〕 and the like are kept as they are."""
    text = re.sub(r"\s+", "", text)
    if fold_width:
        text = "".join(unicodedata.normalize("NFKC", c) if "\uff01" <= c <= "\uff5e" else c for c in text)
    return text


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance over characters (numpy, one vectorised pass per character of a)."""
    import numpy as np

    if not a or not b:
        return max(len(a), len(b))
    bb = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    ar = np.arange(len(b) + 1)
    prev = ar.copy()
    for i, ch in enumerate(a, 1):
        sub = prev[:-1] + (bb != ord(ch))
        cur = np.empty_like(prev)
        cur[0] = i
        cur[1:] = np.minimum(prev[1:] + 1, sub)
        cur = np.minimum.accumulate(cur - ar) + ar  # insertions along the row
        prev = cur
    return int(prev[-1])


def cer(truth: str, got: str, fold_width: bool = True) -> float:
    """Character error rate: edit distance over the truth's length, whitespace ignored."""
    a, b = normalise(truth, fold_width), normalise(got, fold_width)
    return edit_distance(a, b) / max(1, len(a))


def errors(truth: str, got: str, fold_width: bool = True, context: int = 4) -> list[str]:
    """The differing stretches, for a look at what the engine gets wrong."""
    import difflib

    a, b = normalise(truth, fold_width), normalise(got, fold_width)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op != "equal":
            out.append(f"{a[max(0, i1 - context):i1]}[{a[i1:i2]}→{b[j1:j2]}]{a[i2:i2 + context]}")
    return out


if __name__ == "__main__":  # write the pages as PNG and image-only PDF for a look
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="ocr-pages-"))
    for name, page in build_pages(out, sys.argv[2:] or None, image_pdfs=True).items():
        page.image.save(out / f"{name}.png")
        (out / f"{name}.txt").write_text(page.text + "\n", encoding="utf-8")
        print(f"{name}: {page.image.size[0]}x{page.image.size[1]}, {len(page.lines)} lines, "
              f"{sum(map(len, page.lines))} chars -> {out}")
