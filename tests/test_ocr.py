"""The OCR engine (jianyan.ingest.ocr) on scanned pages made from real text by real tools.

The pages come from tests/ocr_pages.py: real State Council documents typeset by LibreOffice in
Noto Serif CJK, rasterised by pypdfium2, rotated/skewed/saved as image-only PDF by Pillow. The
CER floors are the measured values (benchmarks/ocr_quality.py) plus a margin. Several cases
share one document and some use the top part of a page only, to keep the OCR time down.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from jianyan.ingest import ocr

from . import ocr_pages
from .conftest import ROOT, requires_shared

Case = ocr_pages.Case

NOTO_SERIF = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"  # Debian's fonts-noto-cjk
needs_soffice = pytest.mark.skipif(
    ocr_pages.soffice() is None or not os.path.exists(NOTO_SERIF),
    reason="needs LibreOffice (soffice) and fonts-noto-cjk to typeset the test pages (installed on CI)")

DOC = 2  # one State Council document for the single-column cases
CASES = [  # the top part of a page is enough for most checks, and quicker
    Case("top-300", size_pt=12, dpi=300, doc=DOC, crop=0.5),
    Case("top-150", size_pt=12, dpi=150, doc=DOC, crop=0.5),
    Case("rot90", size_pt=12, dpi=300, doc=DOC, crop=0.3, rotate=90),
    Case("rot180", size_pt=12, dpi=200, doc=DOC, crop=0.3, rotate=180),
    Case("skew2", size_pt=12, dpi=200, doc=DOC, crop=0.4, skew=2.0),
    Case("two-column", size_pt=10.5, dpi=200, columns=2, doc=12, crop=0.5),
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    return ocr_pages.build_pages(tmp_path_factory.mktemp("ocr-pages"), CASES)


_results: dict[str, ocr.OcrPage] = {}


def read(pages, name: str) -> tuple[ocr_pages.Page, ocr.OcrPage]:
    """Each test page is recognised once per session."""
    if name not in _results:
        _results[name] = ocr.recognise(pages[name].image)
    return pages[name], _results[name]


def text(res: ocr.OcrPage) -> str:
    return "\n".join(ln["text"] for ln in res.lines)


def in_order(truth: list[str], got: list[str]) -> bool:
    """Every printed line is found, and in the printed order."""
    if len(truth) != len(got):
        return False
    return all(ocr_pages.cer(t, g) < 0.1 for t, g in zip(truth, got))


# -- pages made from the real corpora ---------------------------------------------------------

@pytest.mark.parametrize("name, floor", [("top-300", 0.01), ("top-150", 0.02)])
@requires_shared
@needs_soffice
def test_clean_pages_are_read_almost_exactly(pages, name, floor):
    page, res = read(pages, name)
    got = text(res)
    assert ocr_pages.cer(page.text, got) <= floor, ocr_pages.errors(page.text, got)
    # without folding full-width forms (（ vs ( print alike), still under the targets
    assert ocr_pages.cer(page.text, got, fold_width=False) <= (0.02 if "300" in name else 0.05)
    assert in_order(page.lines, [ln["text"] for ln in res.lines])
    assert res.angle == 0 and abs(res.skew) < 0.2
    assert (res.width, res.height) == page.image.size


@requires_shared
@needs_soffice
def test_line_geometry_rebuilds_the_paragraphs(pages):
    """The lines' x0/x1/top/bottom work with the PDF reader's paragraph builder."""
    from jianyan.ingest.readers.lines import paragraphs

    page, res = read(pages, "top-300")
    assert all(0 <= ln["x0"] < ln["x1"] <= res.width and 0 <= ln["top"] < ln["bottom"] <= res.height
               for ln in res.lines)
    tops = [ln["top"] for ln in res.lines]
    assert tops == sorted(tops)
    title, paras = ocr_pages.source_paragraphs("policies", DOC)
    got = [ocr_pages.normalise(p.text) for p in paragraphs(res.lines)]
    want = [ocr_pages.normalise(p) for p in [title] + paras]
    # every paragraph that ends on the page comes out whole (the last one may run on)
    whole = got[:-1]
    assert len(whole) >= 5
    for p in whole:
        assert p in want or any(ocr_pages.cer(w, p) < 0.02 for w in want), p


@requires_shared
@needs_soffice
def test_confidence_is_a_probability_and_lower_at_150_dpi(pages):
    _, hi = read(pages, "top-300")
    _, lo = read(pages, "top-150")
    for res in (hi, lo):
        assert 0 < res.confidence <= 1
        assert all(0 < ln["confidence"] <= 1 for ln in res.lines)
    assert lo.confidence < hi.confidence


@pytest.mark.parametrize("name, angle", [("rot90", 270), ("rot180", 180)])
@requires_shared
@needs_soffice
def test_rotated_pages_are_turned_upright(pages, name, angle):
    page, res = read(pages, name)
    assert res.angle == angle
    upright = page.image.rotate(angle, expand=True)
    assert (res.width, res.height) == upright.size
    got = text(res)
    assert ocr_pages.cer(page.text, got) <= 0.01, ocr_pages.errors(page.text, got)
    assert in_order(page.lines, [ln["text"] for ln in res.lines])


@requires_shared
@needs_soffice
def test_skewed_page_is_read_and_its_lines_straightened(pages):
    page, res = read(pages, "skew2")
    assert 1.7 <= res.skew <= 2.3
    got = text(res)
    assert ocr_pages.cer(page.text, got) <= 0.01, ocr_pages.errors(page.text, got)
    assert in_order(page.lines, [ln["text"] for ln in res.lines])
    # after deskewing, lines that start at the left margin line up, and so do the indented first
    # lines of paragraphs (lines that start with an opening bracket or quote are left out: their
    # ink starts half a character in)
    char_h = sorted(ln["bottom"] - ln["top"] for ln in res.lines)[len(res.lines) // 2]
    x0 = sorted(ln["x0"] for ln in res.lines if ln["text"][0] not in "（(“《〔[")
    margin = [x for x in x0 if x < x0[0] + 0.5 * char_h]
    indented = [x for x in x0 if x0[0] + 1.5 * char_h < x < x0[0] + 2.5 * char_h]
    assert len(margin) >= 3 and len(indented) >= 3
    assert margin[-1] - margin[0] < 0.25 * char_h
    assert indented[-1] - indented[0] < 0.25 * char_h


@requires_shared
@needs_soffice
def test_two_columns_are_read_column_by_column(pages):
    page, res = read(pages, "two-column")
    got = [ln["text"] for ln in res.lines]
    assert ocr_pages.cer(page.text, "\n".join(got)) <= 0.01, ocr_pages.errors(page.text, "\n".join(got))
    assert in_order(page.lines, got)
    mid = res.width / 2
    sides = ["L" if ln["x1"] < mid else "R" for ln in res.lines]
    first_r = sides.index("R")
    assert set(sides[:first_r]) == {"L"} and set(sides[first_r:]) == {"R"}


@requires_shared
@needs_soffice
def test_image_only_pdf_of_a_scan(pages, tmp_path):
    """A scanner's PDF (images only, no text layer) rasterised back reads like the image."""
    import pdfplumber
    import pypdfium2 as pdfium

    page = pages["rot180"]
    pdf = ocr_pages.image_only_pdf([page.image], tmp_path / "scan.pdf", page.case.dpi)
    with pdfplumber.open(str(pdf)) as doc:
        assert not doc.pages[0].chars  # no text layer: the reader reports it as needing OCR
    doc = pdfium.PdfDocument(str(pdf))
    image = doc[0].render(scale=page.case.dpi / 72).to_pil()
    doc.close()
    assert abs(image.width - page.image.width) <= 2
    res = ocr.recognise(image)
    assert res.angle == 180
    assert ocr_pages.cer(page.text, text(res)) <= 0.01


# -- no corpora needed --------------------------------------------------------------------------

def _drawn_page(mode: str):
    """A small page drawn with Pillow in a real CJK font, in the given image mode."""
    from PIL import Image, ImageDraw, ImageFont

    if not os.path.exists(NOTO_SERIF):
        pytest.skip("needs fonts-noto-cjk")
    img = Image.new("L", (900, 220), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(NOTO_SERIF, 40, index=2)  # Noto Serif CJK SC
    draw.text((40, 40), "各省、自治区、直辖市人民政府：", font=font, fill=0)
    draw.text((40, 120), "现将有关事项通知如下。", font=font, fill=0)
    if mode == "RGBA":
        rgba = Image.new("RGBA", img.size, (0, 0, 0, 0))
        rgba.putalpha(Image.eval(img, lambda v: 255 - v))
        return rgba
    if mode == "I;16":
        return img.convert("I").point(lambda v: v * 256).convert("I;16")
    return img.convert(mode)


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "CMYK", "I;16"])
def test_any_image_mode(mode):
    res = ocr.recognise(_drawn_page(mode))
    assert [ln["text"] for ln in res.lines] == ["各省、自治区、直辖市人民政府：", "现将有关事项通知如下。"]
    assert res.angle == 0 and (res.width, res.height) == (900, 220)
    assert set(res.lines[0]) == {"text", "x0", "x1", "top", "bottom", "confidence", "column"}


def test_blank_page():
    from PIL import Image

    res = ocr.recognise(Image.new("L", (620, 877), 255))
    assert res.lines == [] and res.confidence == 0.0 and res.angle == 0


def test_engine_is_loaded_once():
    assert ocr.engine() is ocr.engine()


def test_offline_and_quiet(tmp_path):
    """In a fresh process with networking disabled, the engine loads the wheel's models, reads a
    page, and prints nothing."""
    code = textwrap.dedent("""
        import socket, sys
        def refuse(*a, **k):
            raise OSError("network disabled by the test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        from PIL import Image, ImageDraw, ImageFont
        from jianyan.ingest import ocr
        img = Image.new("L", (700, 120), 255)
        font = ImageFont.truetype(sys.argv[1], 40, index=2)
        ImageDraw.Draw(img).text((30, 30), "国务院办公厅关于印发方案的通知", font=font, fill=0)
        page = ocr.recognise(img)
        assert [l["text"] for l in page.lines] == ["国务院办公厅关于印发方案的通知"], page.lines
    """)
    if not os.path.exists(NOTO_SERIF):
        pytest.skip("needs fonts-noto-cjk")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PROXY") and not k.endswith("_proxy")}
    env["HOME"] = env["XDG_CACHE_HOME"] = str(tmp_path)  # no model cache to find
    out = subprocess.run([sys.executable, "-c", code, NOTO_SERIF], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout == "" and out.stderr == ""
    # nothing fetched or cached (onnxruntime itself keeps a device id under HOME: not a model)
    assert not [p for p in tmp_path.rglob("*") if p.suffix in (".onnx", ".txt", ".yaml")]
