"""Scans through the product (#11): a mixed PDF (a native page and a scanned one), an image file
and a draft, read through the sandbox and the ingest pipeline with the real OCR engine.

The pages are real text (State Council documents) typeset by LibreOffice and rendered, as
`tests/ocr_pages.py` makes them; `tests/test_ocr.py` measures the engine itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jianyan.errors import NeedsOCR
from jianyan.ingest.draft import read_draft
from jianyan.ingest.pipeline import FileToIngest, ingest_files
from jianyan.ingest.sandbox import read_limited
from jianyan.store import Store

from . import ocr_pages
from .conftest import requires_office, requires_shared

pytestmark = [requires_shared, requires_office]
NATIVE = ocr_pages.Case("native", size_pt=12, doc=2)
SCANNED = ocr_pages.Case("scanned", size_pt=12, source="proposals", doc=7, crop=0.5)  # another kind of text:
# two State Council documents share their 主送 line, which two pages would take for a running header


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> dict:
    from pypdf import PdfWriter

    folder = tmp_path_factory.mktemp("scans")
    pages = ocr_pages.build_pages(folder, [NATIVE, SCANNED], image_pdfs=True)
    native, scanned = pages["native"], pages["scanned"]
    mixed = PdfWriter()
    mixed.append(str(native.pdf), pages=(0, 1))  # page 1: LibreOffice's text layer
    mixed.append(str(scanned.image_pdf))  # page 2: an image, as a scanner writes it
    with open(folder / "mixed.pdf", "wb") as fh:
        mixed.write(fh)
    png = folder / "scan.png"
    scanned.image.save(png, dpi=(300, 300))
    return {"native": native, "scanned": scanned, "mixed": folder / "mixed.pdf", "png": png}


def _text(doc) -> str:
    return "\n".join(line.text for line in doc.lines)


def test_a_mixed_pdf_reads_its_native_page_as_is_and_recognises_its_scanned_page(scans):
    progress = []
    (doc,), _ = read_limited(scans["mixed"], "mixed", name="mixed.pdf", on_progress=lambda *a: progress.append(a))
    recognised = doc.fields["recognised"]
    assert [p["page"] for p in recognised["pages"]] == [2] and recognised["of_pages"] == 2
    assert 0.8 < recognised["pages"][0]["confidence"] <= 1 and recognised["engine"]
    assert progress == [(1, 1)]
    text = _text(doc)
    native_only, _ = read_limited(scans["native"].pdf, "n", name="native.pdf")
    first_page = [ln for ln in scans["native"].lines]
    assert all(ocr_pages.normalise(line) in ocr_pages.normalise(text) for line in first_page[:5])
    assert "recognised" not in native_only[0].fields
    # The scanned page's text, in order, within the CER the engine is held to (test_ocr.py).
    scanned_truth = "".join(scans["scanned"].lines)
    tail = ocr_pages.normalise(text)[-len(ocr_pages.normalise(scanned_truth)):]
    assert ocr_pages.cer(scanned_truth, tail) <= 0.02


def test_an_image_is_ingested_with_its_recognition_recorded_and_not_recognised_twice(scans, tmp_path):
    store = Store(tmp_path / "data")
    pages_seen = []
    report = ingest_files([FileToIngest(scans["png"], "scan.png", "扫描件.png")], store,
                          on_pages=lambda *a: pages_seen.append(a))
    assert report.stored == 1 and pages_seen == [("扫描件.png", 1, 1)]
    doc = store.get_document("scan.png")
    assert doc["source_format"] == "image"
    assert [p["page"] for p in doc["extra"]["recognised"]["pages"]] == [1]
    assert ocr_pages.cer("".join(scans["scanned"].lines), doc["text"]) <= 0.02
    again = ingest_files([FileToIngest(scans["png"], "scan.png", "扫描件.png")], store,
                         on_pages=lambda *a: pages_seen.append(a))
    assert [o.status for o in again.outcomes] == ["unchanged"] and len(pages_seen) == 1
    store.close()


@pytest.mark.parametrize("which", ["png", "mixed"])
def test_a_scanned_draft_is_refused_in_words_never_recognised_in_a_request(scans, which):
    with pytest.raises(NeedsOCR, match="导入"):
        read_draft(Path(scans[which]), f"草稿.{'png' if which == 'png' else 'pdf'}")
