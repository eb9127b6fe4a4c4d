"""PDF via pdfplumber: the text layer's lines, column by column on a two-column page, with
their fonts, re-joined into paragraphs (`lines.py`). Scanned pages (an image and no text layer)
are recognised, page by page, so a mixed PDF reads whole.
"""

from __future__ import annotations

from pathlib import Path

from ...documents import SourceLine
from ...errors import CorruptFile, EmptyDocument, EncryptedFile, LimitExceeded, NeedsOCR
from ..limits import ReadLimits
from ..typography import look_of
from .image import needs_no_ocr, recognise_pages, recognised_field
from .lines import body_lines, carry_columns, column_groups, paragraphs

# A scanned page: fewer text-layer characters than this (a stamped page number, a scanner's
# header) and an image covering at least this share of the page.
_SCANNED_MAX_CHARS = 20
_SCANNED_MIN_IMAGE_SHARE = 0.5
OCR_DPI = 300


def _declared_pages(pdf) -> int:
    """The page count the page tree declares, read before the tree is walked."""
    from pdfminer.pdftypes import resolve1

    try:
        return int(resolve1(resolve1(pdf.doc.catalog["Pages"])["Count"]))
    except Exception:  # noqa: BLE001 - no usable count: the walk below counts
        return 0


def _open(path: Path, limits: ReadLimits):
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(str(path))
        limits.check("pages", _declared_pages(pdf), str(path))
        _ = pdf.pages  # forces the page tree to be parsed
        limits.check("pages", len(pdf.pages), str(path))
        return pdf
    except (MemoryError, LimitExceeded):
        raise
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise EncryptedFile("PDF 已加密，需要密码才能读取，请先解除加密", path=str(path)) from exc
    except Exception as exc:
        # pdfplumber wraps pdfminer's errors: look at the whole chain for a password problem.
        chain, e = [], exc
        while e is not None and len(chain) < 5:
            chain.append(type(e).__name__ + " " + " ".join(map(repr, getattr(e, "args", ()))))
            e = e.__cause__ or e.__context__
        name = type(exc).__name__
        if any("Password" in c or "Encrypt" in c for c in chain):
            raise EncryptedFile("PDF 已加密，需要密码才能读取，请先解除加密", path=str(path)) from exc
        raise CorruptFile(f"PDF 文件已损坏或被截断，无法读取（{name}）", path=str(path)) from exc


def _with_runs(line: dict) -> dict:
    """The line with its characters grouped into runs of one font and size, each with its look."""
    runs: list[tuple[str, object]] = []
    key = None
    for ch in line.pop("chars", ()):
        k = (ch.get("fontname"), round(float(ch.get("size") or 0) * 2) / 2)
        if k != key:
            runs.append(("", look_of(k[0], k[1] or None)))
            key = k
        runs[-1] = (runs[-1][0] + ch.get("text", ""), runs[-1][1])
    line["runs"] = runs
    return line


def _text_lines(page) -> list[dict]:
    """The page's text lines in reading order. pdfplumber joins characters at one height across
    the whole page, so a two-column page is first cut into its bands and columns by its words
    (`column_groups`) and each piece's own characters are read into lines (no crop: a crop
    filters the whole page again for each piece)."""
    from pdfplumber.utils.text import chars_to_textmap

    def ordered(lines) -> list[dict]:
        found = [_with_runs(ln) for ln in lines if ln["text"].strip()]
        found.sort(key=lambda ln: (round(ln["top"]), ln["x0"]))
        return found

    words = page.extract_words(return_chars=True)
    groups = column_groups(words)
    if len(groups) == 1:
        return ordered(page.extract_text_lines(return_chars=True))
    out = []
    for column, group in groups:
        chars = [ch for word in group for ch in word["chars"]]
        for ln in ordered(chars_to_textmap(chars).extract_text_lines(return_chars=True)):
            ln["column"] = column
            out.append(ln)
    return out


def _is_scanned(page, lines: list[dict]) -> bool:
    """A page whose text is in an image: next to no text layer, and an image over most of it."""
    if sum(len(ln["text"].strip()) for ln in lines) >= _SCANNED_MAX_CHARS:
        return False
    area = float(page.width * page.height) or 1.0
    return any((im["x1"] - im["x0"]) * (im["bottom"] - im["top"]) >= _SCANNED_MIN_IMAGE_SHARE * area
               for im in page.images)


def _render(page, limits: ReadLimits) -> tuple[object, float]:
    """The page as an image at OCR resolution (less for a huge page: the pixel limit), and the
    scale from PDF points to its pixels."""
    scale = OCR_DPI / 72
    pixels = page.width * page.height * scale * scale
    if pixels > limits.megapixels * 1e6:
        scale *= (limits.megapixels * 1e6 / pixels) ** 0.5
    return page.to_image(resolution=72 * scale).original.convert("RGB"), scale


def _page_lines(pdf, path: Path, limits: ReadLimits, progress) -> tuple[list[list[dict]], list[dict]]:
    """Each page's lines (native text, or recognised for scanned pages) and a record per page
    recognised."""
    pages, chars, recognised = [], 0, []
    scanned = []
    try:
        for number, page in enumerate(pdf.pages, 1):
            lines = _text_lines(page)
            if _is_scanned(page, lines):
                needs_no_ocr(limits, str(path))  # a 查重 draft: refused in words, not as a limit
                scanned.append(number)
                limits.check("ocr_pages", len(scanned), str(path))
            pages.append(lines)
            chars += sum(len(ln["text"]) for ln in lines)
            limits.check("chars", chars, str(path))
            page.close()  # drops the page's parsed objects: memory stays one page's
        if scanned:
            for number in scanned:  # rendered one at a time: memory stays one page's
                image, scale = _render(pdf.pages[number - 1], limits)
                done, info = recognise_pages([image], [number], limits, None, str(path), scale)
                pages[number - 1] = done[0]
                recognised.extend(info)
                pdf.pages[number - 1].close()
                if progress is not None:
                    progress(len(recognised), len(scanned))
                chars += info[0]["chars"]
                limits.check("chars", chars, str(path))
    except (MemoryError, LimitExceeded, NeedsOCR):
        raise
    except Exception as exc:
        raise CorruptFile(f"PDF 内容损坏，无法提取文字（{type(exc).__name__}）", path=str(path)) from exc
    return pages, recognised


def read_pdf(path: Path, limits: ReadLimits | None = None, progress=None) -> tuple[list[SourceLine], dict]:
    """Paragraphs of the PDF's pages: the text layer, or for a scanned page (`_is_scanned`)
    what OCR recognises in it (`readers/image.py`); `progress(done, total)` per page recognised."""
    limits = limits or ReadLimits()
    pdf = _open(path, limits)
    with pdf:
        info = pdf.metadata or {}
        pages, recognised = _page_lines(pdf, path, limits, progress)
    if not any(pages):
        raise EmptyDocument("PDF 中没有文字（也没有可识别的扫描页）", path=str(path))
    carry_columns(pages)
    body = body_lines(pages)
    fields = {"recognised": recognised_field(recognised, len(pages))} if recognised else {}
    title = str(info.get("Title") or "").strip()
    if title:
        fields["title"] = title
    return paragraphs(body), fields
