"""Every reader fuzzed with hypothesis, through `read_limited` (the sandbox every file goes
through in ingest and 查重) under small limits.

Inputs: text in random encodings and raw bytes; CSV with random delimiters, quoting and line
ends; JSONL with random nesting and values (lone surrogates, huge numbers, non-objects…); real
DOCX/XLSX (made by python-docx/openpyxl, and the DOCX/PDF of corpora/) with bytes flipped,
inserted or cut, and zip members dropped, truncated, replaced or altered.

For every input the reader either returns documents (and, for records, problems) whose text is
plain Unicode that can be stored (no lone surrogates), or raises an `InputError` with a Chinese
message — never another exception — and returns within its time limit. Well-formed inputs
(CJK text in a common encoding, a CSV/JSONL written by the csv/json modules) must read back
what was written, row for row.

Modes: short (default) — `EXAMPLES` (25) examples per test, derandomised; long —
`JIANYAN_FUZZ_READER_EXAMPLES=2000 .venv/bin/python -m pytest -q tests/test_fuzz_readers.py`
(random seeds, each run explores new inputs).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import time
import zipfile
from functools import lru_cache
from pathlib import Path

import docx
import openpyxl
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from jianyan.documents import SourceDocument
from jianyan.errors import InputError, JianyanError
from jianyan.ingest.limits import ReadLimits
from jianyan.ingest.readers import RecordProblem
from jianyan.ingest.sandbox import read_limited

from .conftest import CORPORA

EXAMPLES = int(os.environ.get("JIANYAN_FUZZ_READER_EXAMPLES") or 25)
LONG = "JIANYAN_FUZZ_READER_EXAMPLES" in os.environ
LIMITS = ReadLimits(seconds=8.0, memory_mb=768, pages=20, paragraphs=2_000, rows=300, chars=60_000,
                    field_chars=5_000, depth=8)
MARGIN = 4.0  # seconds past the time limit: the fork, the kill, the join
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not LONG,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CJK = re.compile(r"[\u3400-\u9fff]")

# -- the property every read must keep -------------------------------------------------------------


def read(data: bytes, suffix: str) -> tuple[list[SourceDocument], list[RecordProblem]] | InputError:
    """Read `data` as a file named `fuzz<suffix>`: the documents and problems, or the error."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(data)
        t0 = time.monotonic()
        try:
            docs, problems = read_limited(path, "fuzz", name=path.name, limits=LIMITS)
        except JianyanError as exc:
            assert isinstance(exc, InputError), f"{type(exc).__name__} is not an input error: {exc}"
            assert CJK.search(exc.message), f"message not in Chinese: {exc.message!r}"
            return exc
        finally:
            elapsed = time.monotonic() - t0
            assert elapsed < LIMITS.seconds + MARGIN, f"took {elapsed:.1f} s"
    assert docs or problems, "neither documents nor problems nor an error"
    for doc in docs:
        assert isinstance(doc, SourceDocument)
        for text in [line.text for line in doc.lines] + [str(v) for v in {**doc.fields, **doc.extra}.values()]:
            assert isinstance(text, str)
            text.encode("utf-8")  # storable: no lone surrogates
        assert sum(len(line.text) for line in doc.lines) <= LIMITS.chars
    for problem in problems:
        assert CJK.search(problem.message), f"problem not in Chinese: {problem.message!r}"
    return docs, problems


def ok(result) -> tuple[list[SourceDocument], list[RecordProblem]]:
    assert not isinstance(result, InputError), f"refused: {result.code}: {result.message}"
    return result


def visible(text: str) -> str:
    return "".join(text.split())


# -- text ------------------------------------------------------------------------------------------
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk", "big5", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
             "latin-1", "cp1252", "shift_jis"]
# Characters a Chinese document is made of (no Markdown marks: the .txt reader keeps every one).
DOC_CHARS = st.sampled_from(list("关于加快推进养老服务体系建设的提案一二三四五六七八九十年月日。，、；：？！（）《》“”"
                                 "abcXYZ0123456789 .,;:-") + ["\n"])


@FUZZ
@given(text=st.text(), encoding=st.sampled_from(ENCODINGS), suffix=st.sampled_from([".txt", ".md"]),
       noise=st.binary(max_size=64), where=st.integers(0, 10**6))
def test_any_text_in_any_encoding(text, encoding, suffix, noise, where):
    data = text.encode(encoding, errors="ignore")
    cut = where % (len(data) + 1)
    read(data[:cut] + noise + data[cut:], suffix)


@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".txt", ".md", ".csv", ".tsv", ".jsonl"]))
def test_raw_bytes(data, suffix):
    read(data, suffix)


@FUZZ
@given(text=st.text(DOC_CHARS, min_size=1, max_size=300).filter(lambda t: visible(t)),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-32"]))
def test_chinese_text_reads_back(text, encoding):
    (doc,), problems = ok(read(text.encode(encoding), ".txt"))
    assert not problems
    assert visible("".join(line.text for line in doc.lines)) == visible(text)


# -- CSV -------------------------------------------------------------------------------------------
CELL = st.text(st.one_of(DOC_CHARS, st.sampled_from(list('",;|\t\r\'\\'))), max_size=40)
QUOTING = [csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC, csv.QUOTE_NONE]


def _csv(rows: list[list[str]], delimiter: str, quoting: int, newline: str, quotechar: str = '"') -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=newline, quotechar=quotechar,
                        escapechar="\\" if quoting == csv.QUOTE_NONE else None)
    try:
        writer.writerows(rows)
    except csv.Error:  # rows QUOTE_NONE cannot write (a single empty field)
        reject()
    return out.getvalue()


@FUZZ
@given(header=st.lists(st.sampled_from(["编号", "案由", "内容", "body", "id", "title", "x", ""]), min_size=1, max_size=5),
       rows=st.lists(st.lists(CELL, max_size=6), max_size=12),
       delimiter=st.sampled_from([",", ";", "\t", "|", " "]), quoting=st.sampled_from(QUOTING),
       quotechar=st.sampled_from(['"', "'"]), newline=st.sampled_from(["\r\n", "\n", "\r"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
       suffix=st.sampled_from([".csv", ".tsv"]), cut=st.integers(0, 10**6))
def test_csv_of_any_dialect(header, rows, delimiter, quoting, quotechar, newline, encoding, suffix, cut):
    data = _csv([header] + rows, delimiter, quoting, newline, quotechar).encode(encoding, errors="ignore")
    read(data[:len(data) - cut % (len(data) + 1) // 4], suffix)  # sometimes cut short


# (No lone \r: Python 3.11's csv writer leaves it unquoted, and every CSV reader, Excel's and
# ours, takes it for a line end.)
DOC_CELL = st.text(st.one_of(DOC_CHARS, st.sampled_from(list('",;|\t\'\\'))), max_size=40)


@FUZZ
@given(rows=st.lists(st.tuples(st.text(DOC_CHARS, max_size=8), DOC_CELL, DOC_CELL), min_size=1, max_size=12),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]), newline=st.sampled_from(["\r\n", "\n"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]), tsv=st.booleans())
def test_csv_written_by_the_csv_module_reads_back_row_for_row(rows, quoting, newline, encoding, tsv):
    text = _csv([["编号", "案由", "内容"]] + [list(r) for r in rows], "\t" if tsv else ",", quoting, newline)
    docs, problems = ok(read(text.encode(encoding), ".tsv" if tsv else ".csv"))
    assert len(docs) + len(problems) == len(rows)  # every row a document or a problem
    bodies = {d.source: visible("".join(line.text for line in d.lines)) for d in docs}
    for n, (_, _, body) in enumerate(rows, start=2):
        if f"fuzz{'.tsv' if tsv else '.csv'}#{n}" in bodies:
            assert bodies[f"fuzz{'.tsv' if tsv else '.csv'}#{n}"] == visible(body)
        elif visible(body):  # a row with a body is refused only for its id: repeated, or not a name
            assert any(p.code in ("duplicate_id", "bad_name") and p.source.endswith(f"#{n}") for p in problems), problems


# -- JSONL -----------------------------------------------------------------------------------------
SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
JSON_TEXT = st.text(st.one_of(DOC_CHARS, st.characters(), SURROGATES), max_size=30)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**4000, max_value=10**4400)
    | st.floats(allow_nan=True, allow_infinity=True) | JSON_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(JSON_TEXT, inner, max_size=4),
    max_leaves=30)
RECORD = st.fixed_dictionaries({"id": JSON_VALUES, "body": JSON_VALUES},
                               optional={"title": JSON_VALUES, "extra": JSON_VALUES})


def _json_line(value, ensure_ascii: bool) -> str:
    try:
        return json.dumps(value, ensure_ascii=ensure_ascii)
    except (ValueError, UnicodeEncodeError):  # an integer too long to print
        return "{}"


@FUZZ
@given(values=st.lists(st.one_of(RECORD, JSON_VALUES), min_size=1, max_size=10),
       deep=st.integers(0, 3000), ensure_ascii=st.booleans(),
       garbage=st.lists(st.text(max_size=20), max_size=3), newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_jsonl_of_any_values(values, deep, ensure_ascii, garbage, newline):
    lines = [_json_line(v, ensure_ascii) for v in values] + garbage
    if deep:
        lines.append("[" * deep + "]" * deep)
        lines.append('{"body": ' + '{"a": ' * (deep // 10) + "1" + "}" * (deep // 10) + "}")
    read(newline.join(lines).encode("utf-8", errors="surrogatepass"), ".jsonl")


@FUZZ
@given(bodies=st.lists(st.text(DOC_CHARS, max_size=60), min_size=1, max_size=10), ensure_ascii=st.booleans())
def test_jsonl_written_by_json_reads_back_row_for_row(bodies, ensure_ascii):
    text = "\n".join(json.dumps({"id": f"r{i}", "body": b, "meta": {"n": i}}, ensure_ascii=ensure_ascii)
                     for i, b in enumerate(bodies))
    docs, problems = ok(read(text.encode("utf-8"), ".jsonl"))
    assert len(docs) + len(problems) == len(bodies)
    by_id = {d.external_id: visible("".join(line.text for line in d.lines)) for d in docs}
    for i, body in enumerate(bodies):
        assert by_id.get(f"r{i}", "") == visible(body)


# -- DOCX / XLSX / PDF, real files mutated ---------------------------------------------------------
BODY = "关于加快农村养老服务体系建设的建议。建议各地统筹资金，建设互助养老站点，培养本地护理人员。"


@lru_cache(maxsize=None)
def seeds() -> dict[str, list[bytes]]:
    """Real files of each zip/PDF format: made by python-docx and openpyxl, and corpora/'s own."""
    document = docx.Document()
    document.core_properties.title = "关于养老服务的提案"
    document.add_heading("关于养老服务的提案", level=1)
    document.add_paragraph(BODY)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "提案人", "张三"
    table.cell(1, 0).text, table.cell(1, 1).text = "类别", "社会"
    made_docx = io.BytesIO()
    document.save(made_docx)

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["编号", "案由", "内容", "提交时间"])
    for i in range(5):
        sheet.append([f"2022-{i:03d}", f"提案{i}", BODY, 2022.0 + i])
    made_xlsx = io.BytesIO()
    workbook.save(made_xlsx)
    return {
        ".docx": [made_docx.getvalue(), (CORPORA / "proposals" / "关于加快发展社区嵌入式养老服务的提案.docx").read_bytes()],
        ".xlsx": [made_xlsx.getvalue()],
        ".pdf": [(CORPORA / "policy" / "关于加强政务信息公开工作的通知.pdf").read_bytes()],
    }


def _flip(data: bytes, spots: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for where, value in spots:
        out[where % len(out)] = value
    return bytes(out)


@st.composite
def byte_mutation(draw, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["flip", "cut", "insert", "flip_tail"]))
    if kind == "flip":
        return _flip(data, draw(st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 255)), min_size=1, max_size=20)))
    if kind == "flip_tail":  # the zip's central directory, the PDF's xref and trailer
        spots = draw(st.lists(st.tuples(st.integers(1, 600), st.integers(0, 255)), min_size=1, max_size=8))
        return _flip(data, [(len(data) - n, v) for n, v in spots])
    where = draw(st.integers(0, len(data)))
    if kind == "cut":
        return data[:where]
    return data[:where] + draw(st.binary(min_size=1, max_size=200)) + data[where:]


@st.composite
def zip_mutation(draw, data: bytes) -> bytes:
    """The same container with one or more members dropped, cut, replaced, altered or added."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        members = [(info, src.read(info)) for info in src.infolist()]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(members) - 1))
        info, content = members[i]
        kind = draw(st.sampled_from(["drop", "cut", "replace", "flip", "xml", "add", "stored"]))
        if kind == "drop":
            members.pop(i)
        elif kind == "cut":
            members[i] = (info, content[:draw(st.integers(0, len(content)))])
        elif kind == "replace":
            members[i] = (info, draw(st.binary(max_size=300)))
        elif kind == "flip" and content:
            members[i] = (info, _flip(content, draw(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)),
                                                               min_size=1, max_size=10))))
        elif kind == "xml":  # a well-formed part with unexpected content
            members[i] = (info, draw(st.sampled_from([
                b"<?xml version='1.0'?><a/>", b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]><x>&a;&a;</x>",
                b"<w:document xmlns:w='http://schemas.openxmlformats.org/wordprocessingml/2006/main'/>",
                content.replace(b"<w:t>", b"<w:t>\x01\xff", 3), content * 2])))
        elif kind == "add":
            members.append((zipfile.ZipInfo(draw(st.sampled_from(["word/document.xml", "xl/workbook.xml", "x.bin"]))),
                            draw(st.binary(max_size=100))))
        else:  # the same bytes, stored instead of deflated
            stored = zipfile.ZipInfo(info.filename)
            members[i] = (stored, content)
        if not members:
            break
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, content in members:
            dst.writestr(info, content)
    return out.getvalue()


@st.composite
def mutated_file(draw, suffix: str) -> bytes:
    data = draw(st.sampled_from(seeds()[suffix]))
    if suffix != ".pdf" and draw(st.booleans()):
        data = draw(zip_mutation(data))
    if suffix == ".pdf" or draw(st.booleans()):
        data = draw(byte_mutation(data))
    return data


@pytest.mark.filterwarnings("ignore:Duplicate name")  # zip_mutation adds a second member of a name
@FUZZ
@given(data=st.data(), suffix=st.sampled_from([".docx", ".xlsx", ".pdf"]))
def test_mutated_real_files(data, suffix):
    read(data.draw(mutated_file(suffix)), suffix)


def test_the_seeds_read_as_they_are():
    """Unmutated, each seed reads (so the mutations start from files the readers take)."""
    for suffix, files in seeds().items():
        for content in files:
            docs, _ = ok(read(content, suffix))
            assert docs and any(line.text.strip() for d in docs for line in d.lines)
