"""Hostile and careless files: each costs bounded time and memory, fails alone with a message
naming the limit or the line, and never takes the rest of its batch with it.

The files are made with the tools that make such files in the wild (python-docx, pypdf,
openpyxl, the csv and json modules); a bomb is a real document whose body is then repeated.
"""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from pypdf import PdfWriter

from jianyan.errors import CorruptFile, LimitExceeded
from jianyan.ingest.draft import read_draft
from jianyan.ingest.limits import ReadLimits
from jianyan.ingest.pipeline import ingest_paths
from jianyan.ingest.readers import FieldMapping
from jianyan.ingest.sandbox import read_limited

BODY = "关于加快农村养老服务体系建设的建议。建议各地统筹资金，建设互助养老站点，培养本地护理人员。"


def _docx_with_empty_paragraphs(path: Path, n: int) -> Path:
    """A real DOCX whose body holds `n` empty paragraphs (tiny once zipped)."""
    real = io.BytesIO()
    document = docx.Document()
    document.add_paragraph(BODY)
    document.save(real)
    with zipfile.ZipFile(real) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + b"<w:p/>" * n, 1)
            out.writestr(item, data)
    return path


def _text(path: Path, text: str = BODY) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _bounded(fn, seconds: float):
    t0 = time.monotonic()
    try:
        return fn()
    finally:
        assert time.monotonic() - t0 < seconds, f"took {time.monotonic() - t0:.1f} s"


def test_docx_of_empty_paragraphs_refused_before_parsing(tmp_path):
    bomb = _docx_with_empty_paragraphs(tmp_path / "bomb.docx", 300_000)
    assert bomb.stat().st_size < 200_000  # a small upload…
    with pytest.raises(LimitExceeded) as info:
        _bounded(lambda: read_limited(bomb, "bomb.docx", limits=ReadLimits(paragraphs=100_000)), 10)
    assert info.value.limit == "paragraphs" and "段落数" in info.value.message
    assert "JIANYAN_READ_MAX_PARAGRAPHS" in info.value.message


def test_draft_from_a_docx_bomb_is_refused_fast(tmp_path):
    """查重 reads drafts under far tighter limits than an archive's."""
    bomb = _docx_with_empty_paragraphs(tmp_path / "draft.docx", 60_000)
    with pytest.raises(LimitExceeded):
        _bounded(lambda: read_draft(bomb, "draft.docx"), 10)


def _blank_pdf(path: Path, pages: int) -> Path:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


def test_pdf_of_many_pages_refused_by_its_page_count(tmp_path):
    path = _blank_pdf(tmp_path / "pages.pdf", 3000)
    with pytest.raises(LimitExceeded) as info:
        _bounded(lambda: read_limited(path, "pages.pdf", limits=ReadLimits(pages=500)), 20)
    assert info.value.limit == "pages"


def test_a_reader_past_its_wall_time_is_killed(tmp_path):
    # 12,000 blank pages take ~5 s to walk (2,000 took ~0.6 s: too close to the limit to fail surely).
    path = _blank_pdf(tmp_path / "slow.pdf", 12_000)
    with pytest.raises(LimitExceeded) as info:
        _bounded(lambda: read_limited(path, "slow.pdf", limits=ReadLimits(seconds=0.5, pages=20_000)), 5)
    assert info.value.limit == "seconds" and "读取用时" in info.value.message


def test_a_reader_past_its_memory_is_stopped_alone(tmp_path):
    # 40 million characters decode to ~160 MB of str: past a 150 MB address-space limit.
    path = _text(tmp_path / "huge.txt", "政协" * 20_000_000)
    with pytest.raises(LimitExceeded) as info:
        _bounded(lambda: read_limited(path, "huge.txt", limits=ReadLimits(memory_mb=150, chars=10**9)), 30)
    assert info.value.limit == "memory_mb"
    # the parent is untouched and the next read works
    docs, _ = read_limited(_text(tmp_path / "ok.txt"), "ok.txt")
    assert docs[0].lines[0].text == BODY


def test_xlsx_past_the_row_limit_refused(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "body"])
    ws.cell(row=1_000_000, column=2, value=BODY)
    path = tmp_path / "tall.xlsx"
    wb.save(path)
    assert path.stat().st_size < 20_000
    with pytest.raises(LimitExceeded) as info:
        _bounded(lambda: read_limited(path, "tall.xlsx"), 20)
    assert info.value.limit == "rows"


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_csv_with_a_huge_field_names_the_row(tmp_path):
    path = _csv(tmp_path / "big.csv", [["id", "body"], ["1", BODY], ["2", "长" * 3_000_000], ["3", BODY]])
    with pytest.raises(LimitExceeded) as info:
        read_limited(path, "big.csv")
    assert info.value.limit == "field_chars" and "第 3 行" in info.value.message


def test_csv_with_an_unclosed_quote_is_refused_not_merged(tmp_path, store):
    good = _csv(tmp_path / "good.csv", [["id", "body"], *[[str(i), f"{BODY}{i}"] for i in range(1, 6)]])
    lines = good.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",", ',"', 1)  # row 4 opens a quote nobody closes
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CorruptFile) as info:
        read_limited(bad, "bad.csv")
    assert "第 4 行" in info.value.message and "引号没有闭合" in info.value.message
    # in a batch: the bad file fails alone, the good one is stored whole
    report = ingest_paths([tmp_path], store, progress=False)
    assert report.stored == 5 and [o.source for o in report.failed] == [str(bad)]


def test_csv_rows_that_do_not_match_the_header_are_per_row_problems(tmp_path, store):
    path = _csv(tmp_path / "ragged.csv", [["id", "title", "body"], ["1", "甲", BODY],
                                           ["2", "乙", BODY, "多出的一列"], ["3", "丙", BODY + "丙"]])
    report = ingest_paths([path], store, progress=False)
    assert report.stored == 2
    (failed,) = report.failed
    assert failed.source.endswith("#3") and "有 4 列，表头有 3 列" in failed.message
    assert len(report.outcomes) == 3  # every row of the file is accounted for


def test_jsonl_deep_nesting_and_huge_numbers_are_per_line_problems(tmp_path, store):
    lines = [json.dumps({"id": "a", "body": BODY}, ensure_ascii=False),
             '{"id": "deep", "body": ' + "[" * 100_000 + "]" * 100_000 + "}",
             '{"id": "num", "body": "x", "n": ' + "9" * 5000 + "}",
             '{"id": "nested", "body": "x", "n": ' + "[" * 60 + "]" * 60 + "}",
             json.dumps({"id": "b", "body": BODY + "乙"}, ensure_ascii=False)]
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = _bounded(lambda: ingest_paths([path], store, FieldMapping(), progress=False), 20)
    assert report.stored == 2 and len(report.outcomes) == 5
    messages = {o.source.rsplit("#", 1)[1]: o.message for o in report.failed}
    assert set(messages) == {"2", "3", "4"}
    assert "嵌套" in messages["2"] and "JSON 嵌套层数" in messages["4"]


def test_utf16_without_bom_is_read_as_text(tmp_path):
    path = tmp_path / "utf16.txt"
    path.write_bytes(("关于加快农村养老服务体系建设的建议\n" + BODY * 3).encode("utf-16-le"))
    docs, _ = read_limited(path, "utf16.txt")
    assert docs[0].lines[0].text == "关于加快农村养老服务体系建设的建议"


def test_lines_split_by_carriage_returns_count_as_paragraphs(tmp_path):
    """Cleaning runs in the parent: a 600 KB text of 300,000 CR-separated lines is refused in the child."""
    path = _text(tmp_path / "cr.txt", "关于养老的提案\r" + "养\r" * 300_000)
    with pytest.raises(LimitExceeded) as info:
        read_limited(path, "cr.txt", limits=ReadLimits(paragraphs=100_000))
    assert info.value.limit == "paragraphs"
