"""Scanned pages: images (PNG, JPEG, TIFF with one page per frame, BMP) and the image-only pages
of PDFs, recognised offline (`ingest/ocr.py`).

Recognised lines are re-joined into paragraphs by the same geometry as a PDF's text layer
(`lines.py`). What was recognised is recorded in the document's fields as `recognised`:
each page's number, confidence and the rotation applied, so that the document view can tell
recognised text from native text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from ...documents import SourceLine
from ...errors import CorruptFile, EmptyDocument, LimitExceeded, NeedsOCR
from ..limits import ReadLimits
from .lines import paragraphs

Progress = Callable[[int, int], None]


def needs_no_ocr(limits: ReadLimits, shown: str) -> None:
    """Refuse a scan where recognising is not allowed (`ocr_pages` 0: 查重 drafts)."""
    if limits.ocr_pages <= 0:
        raise NeedsOCR("这是扫描件（图像），查重不做文字识别：请改用带文字的文件（DOCX、TXT、有文字层的 PDF），"
                       "或先通过“导入”上传该扫描件", path=shown)


def recognise_pages(images: Iterable, numbers: list[int], limits: ReadLimits, progress: Progress | None,
                    shown: str, scale: float = 1.0) -> tuple[list[list[dict]], list[dict]]:
    """Lines of each image (coordinates divided by `scale`) and a record per page. `numbers`:
    the page numbers of the images, in order."""
    from ..ocr import recognise

    needs_no_ocr(limits, shown)
    limits.check("ocr_pages", len(numbers), shown)
    pages, info = [], []
    for done, (number, image) in enumerate(zip(numbers, images), 1):
        page = recognise(image)
        for line in page.lines:
            for key in ("x0", "x1", "top", "bottom"):
                line[key] /= scale
        pages.append(page.lines)
        info.append({"page": number, "confidence": round(page.confidence, 3), "angle": page.angle,
                     "chars": sum(len(ln["text"]) for ln in page.lines)})
        if progress is not None:
            progress(done, len(numbers))
    return pages, info


def recognised_field(info: list[dict], total_pages: int) -> dict:
    from ..ocr import ENGINE

    chars = sum(p["chars"] for p in info) or 1
    return {"engine": ENGINE, "pages": info, "of_pages": total_pages,
            "confidence": round(sum(p["confidence"] * p["chars"] for p in info) / chars, 3)}


def _frames(image, count: int, limits: ReadLimits, shown: str):
    for i in range(count):
        image.seek(i)
        width, height = image.size  # each frame its own size: checked before it is decoded
        limits.check("megapixels", int(width * height / 1e6), shown)
        yield image.convert("RGB")


def _count_frames(image, most: int) -> int:
    """Frames of a multi-page image, counted up to `most + 1` (Pillow's `n_frames` walks them all)."""
    count = 1
    try:
        while count <= most:
            image.seek(count)
            count += 1
    except EOFError:
        pass
    image.seek(0)
    return count


def read_image(path: Path, limits: ReadLimits | None = None,
               progress: Progress | None = None) -> tuple[list[SourceLine], dict]:
    from PIL import Image, UnidentifiedImageError

    limits = limits or ReadLimits()
    shown = str(path)
    needs_no_ocr(limits, shown)
    Image.MAX_IMAGE_PIXELS = None  # checked below, against the setting, before anything is decoded
    try:
        image = Image.open(path)
        count = _count_frames(image, limits.pages) if getattr(image, "is_animated", False) else 1
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise CorruptFile(f"图像文件已损坏，无法读取（{type(exc).__name__}）", path=shown) from exc
    with image:
        width, height = image.size
        limits.check("megapixels", int(width * height / 1e6), shown)
        limits.check("pages", count, shown)
        try:
            pages, info = recognise_pages(_frames(image, count, limits, shown), list(range(1, count + 1)),
                                          limits, progress, shown)
        except (MemoryError, LimitExceeded, NeedsOCR):
            raise
        except (OSError, ValueError, SyntaxError, EOFError) as exc:  # a frame cut short or damaged
            raise CorruptFile(f"图像文件内容损坏，无法识别（{type(exc).__name__}）", path=shown) from exc
    lines = [ln for page in pages for ln in page]
    if not lines:
        raise EmptyDocument("图像中没有识别出文字", path=shown)
    return paragraphs(lines), {"recognised": recognised_field(info, count)}
