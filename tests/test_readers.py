"""Every reader on real files: the sample corpora and the encoding fixtures."""

from __future__ import annotations

import json

import pytest

from jianyan.errors import CorruptFile, LimitExceeded
from jianyan.ingest.clean import clean_lines
from jianyan.ingest.limits import ReadLimits
from jianyan.ingest.pipeline import ingest_paths, prepare
from jianyan.ingest.readers import FieldMapping, read_file

from .conftest import CORPORA, FIXTURES


def _prepared(path):
    docs, problems = read_file(path, path.name)
    assert not problems
    return [prepare(d, clean_lines(d.lines)) for d in docs]


@pytest.mark.parametrize("name", ["gbk_legacy.txt", "utf16.txt", "utf8_bom.md"])
def test_encodings_detected(name):
    expected = (FIXTURES / "encodings" / "expected.txt").read_text(encoding="utf-8")
    (doc,), _ = read_file(FIXTURES / "encodings" / name, name)
    got = "\n".join(line.text for line in doc.lines)
    assert [x.strip() for x in got.splitlines() if x.strip()] == \
        [x.strip() for x in expected.splitlines() if x.strip()]


def test_gbk_report_with_wraps_and_page_number():
    path = CORPORA / "reports" / "2022年市政协工作报告.txt"
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    (doc,) = _prepared(path)
    assert doc.extra["encoding"] in ("gbk", "gb18030")
    assert doc.metadata.doc_type == "report" and doc.metadata.year == 2023
    assert "政协工作报告" in doc.text and "政协工作报\n告" not in doc.text
    assert "\n3\n" not in doc.text
    assert [n.label[:2] for n in doc.structure][:3] == ["一、", "二、", "三、"]


def test_pdf_headers_footers_dropped_and_paragraphs_rejoined():
    path = CORPORA / "policy" / "关于加强政务信息公开工作的通知.pdf"
    (doc,) = _prepared(path)
    assert "— 1 —" not in doc.text and "— 2 —" not in doc.text
    assert doc.text.count("XX县人民政府办公室文件") <= 1
    assert "进一步提升我县政务公开标准化" in doc.text
    assert doc.metadata.title == "关于加强政务信息公开工作的通知"
    assert doc.metadata.doc_number == "X政办发〔2022〕15号"
    assert doc.metadata.issuer == "XX县人民政府办公室" and doc.metadata.date == "2022-03-15"
    assert doc.metadata.doc_type == "policy"
    assert [n.label for n in doc.structure] == [
        "一、提高思想认识，压实工作责任", "二、突出公开重点，提升公开质量", "三、加强平台建设，强化监督保障"]
    # Paragraphs follow the indents: each （一） item starts its own paragraph.
    assert "\n（一）明确责任主体。" in doc.text


def test_docx_paragraphs_tables_and_headings():
    path = CORPORA / "proposals" / "关于加快发展社区嵌入式养老服务的提案.docx"
    (doc,) = _prepared(path)
    assert doc.metadata.title == "关于加快发展社区嵌入式养老服务的提案"
    assert doc.metadata.doc_type == "proposal"
    assert doc.metadata.author
    labels = {n.label for n in doc.structure} | {c.label for n in doc.structure for c in n.children}
    assert {"调研情况", "问题分析", "具体建议"} <= labels or any(
        {"调研情况", "问题分析", "具体建议"} <= {c.label for c in n.children} for n in doc.structure)


def test_csv_export_with_mapping(store):
    path = CORPORA / "proposals" / "提案导出_2022.csv"
    report = ingest_paths([path], store, FieldMapping.parse(
        "id=编号,title=案由,author=提案人,category=类别,date=提交时间,body=内容"), "proposal", progress=False)
    assert report.stored == 6 and not report.failed
    doc = store.get_document("2022-002")
    assert doc["author"] and doc["category"] and doc["date"].startswith("2022")
    assert doc["title"].startswith("关于")


def test_column_guessing_without_mapping(store):
    report = ingest_paths([CORPORA / "proposals" / "提案导出_2022.csv"], store, None, None, progress=False)
    assert report.stored == 6
    assert {d["doc_type"] for d in store.list_documents()} == {"proposal"}


def test_docx_tables_are_rows_with_their_column_names(tmp_path):
    """A table with a header row reads as one line per row, each value with its column's name
    (a row found alone by a search still says what its figures are); a 提案人/类别 form reads as
    key：value and fills the fields. Made with python-docx, as Word writes tables."""
    import docx

    from jianyan.ingest.readers.docx import read_docx

    document = docx.Document()
    document.add_paragraph("关于2022年重点民生实事完成情况的报告")
    form = document.add_table(rows=2, cols=2)
    for i, (key, value) in enumerate([("提案人", "张三"), ("类别", "社会事业")]):
        form.cell(i, 0).text, form.cell(i, 1).text = key, value
    header = ["项目", "计划投资（万元）", "完成率"]
    rows = [["城乡供水一体化", "12,000", "98%"], ["老旧小区改造", "8,500", "100%"], ["农村公路提档", "6,300", ""]]
    table = document.add_table(rows=1 + len(rows), cols=3)
    for j, name in enumerate(header):
        table.cell(0, j).text = name
    for i, row in enumerate(rows, 1):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    merged = document.add_table(rows=2, cols=3)  # a title cell spanning the row, as forms have
    merged.cell(0, 0).merge(merged.cell(0, 2)).text = "附表：进度说明"
    merged.cell(1, 0).text, merged.cell(1, 1).text, merged.cell(1, 2).text = "一季度", "开工", "按期"
    path = tmp_path / "table.docx"
    document.save(path)

    lines, fields = read_docx(path)
    texts = [ln.text for ln in lines]
    assert fields["author"] == "张三" and fields["category"] == "社会事业"
    assert "提案人：张三" in texts and "类别：社会事业" in texts
    expected = ["；".join(f"{h}：{v}" for h, v in zip(header, row) if v) for row in rows]
    assert [t for t in texts if t.startswith("项目：")] == expected
    assert "附表：进度说明" in texts and "一季度　开工　按期" in texts


BODY = "建议加快推进社区养老服务设施建设，完善居家养老服务网络。"


def test_record_ids_follow_the_name_rules(tmp_path):
    """An id from the id column is a document's name: NFC, and refused (that row alone, named)
    for an invisible character, as a file name is, or more than 2,048 characters (ids are often
    URLs: longer than a file name may be)."""
    path = tmp_path / "导出.csv"
    rows = [("编号", "内容"), ("A\u200b1", BODY), ("长" * 2049, BODY), ("cafe\u0301", BODY), ("café", BODY),
            ("长" * 2048, BODY), ("R-6", BODY)]
    path.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    docs, problems = read_file(path, path.name)
    assert [d.external_id for d in docs] == ["café", "长" * 2048, "R-6"]
    by_source = {p.source: p for p in problems}
    assert sorted(by_source) == [f"{path}#2", f"{path}#3", f"{path}#5"], problems
    zero_width, too_long, repeated = (by_source[f"{path}#{n}"] for n in (2, 3, 5))
    assert zero_width.code == too_long.code == "bad_name"
    assert zero_width.message.startswith("第 2 行的编号“A<U+200B>1”") and "看不见" in zero_width.message
    assert "\u200b" not in zero_width.message
    assert too_long.message.startswith("第 3 行的编号过长（2049 个字符，最多 2,048 个）"), too_long.message
    # NFD and NFC are one id: the second spelling is the same record id repeated.
    assert repeated.code == "duplicate_id" and "“café”" in repeated.message


def test_jsonl_record_ids_follow_the_name_rules(tmp_path):
    path = tmp_path / "导出.jsonl"
    lines = [{"id": "甲\u202e乙", "body": BODY}, {"id": "e\u0301", "body": BODY}]
    path.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    docs, problems = read_file(path, path.name)
    assert [d.external_id for d in docs] == ["\u00e9"]
    (problem,) = problems
    assert problem.source == f"{path}#1" and problem.code == "bad_name" and "<U+202E>" in problem.message


def test_extra_columns_count_against_the_chars_limit(tmp_path):
    """Unmapped columns are kept with the document (`extra`): they are part of the file's text."""
    limits = ReadLimits(chars=5_000)
    header = "编号,内容,备注"
    # Bodies 280 characters in all, notes 9,000: ASCII, so that the file's bytes (9,600) stay
    # under the guard by size (4 bytes a character) and only counting characters can refuse it.
    rows = [f"R{i},{BODY},{'x' * 900}" for i in range(10)]
    with_notes = tmp_path / "with_notes.csv"
    with_notes.write_text("\n".join([header] + rows), encoding="utf-8")
    without = tmp_path / "without.csv"
    without.write_text("\n".join(["编号,内容"] + [r.rsplit(",", 1)[0] for r in rows]), encoding="utf-8")
    docs, problems = read_file(without, without.name, limits=limits)
    assert len(docs) == 10 and not problems and not docs[0].extra
    with pytest.raises(LimitExceeded) as exc:
        read_file(with_notes, with_notes.name, limits=limits)
    assert exc.value.limit == "chars" and "文字字数" in exc.value.message
    docs, _ = read_file(with_notes, with_notes.name, limits=ReadLimits(chars=20_000))
    assert docs[0].extra == {"备注": "x" * 900}


def test_images_are_told_by_a_header_checked_in_constant_time(tmp_path):
    """Sniffing runs in the service's own process for every upload: an image is judged by its
    header bytes, not by a decoder walking the file (a 1-pixel-wide TIFF of millions of strips
    took Pillow's header parse 13 s and 1.4 GB)."""
    import io
    import time

    from PIL import Image

    from jianyan.ingest.filetype import sniff

    for fmt, suffix in (("PNG", ".png"), ("JPEG", ".jpg"), ("TIFF", ".tif"), ("BMP", ".bmp")):
        buf = io.BytesIO()
        Image.new("RGB", (40, 20), "white").save(buf, fmt)
        (tmp_path / f"page{suffix}").write_bytes(buf.getvalue())
        assert sniff(tmp_path / f"page{suffix}") == "image"
    # Many strips: the header says TIFF, and it is answered at once.
    strips = 1_000_000
    header = b"II*\x00" + (8).to_bytes(4, "little")
    entries = [(256, 4, 1, 1), (257, 4, 1, strips), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, strips, 8 + 2 + 12 * 8 + 4), (278, 4, 1, 1), (279, 4, strips, 8 + 2 + 12 * 8 + 4 + 4 * strips)]
    ifd = len(entries).to_bytes(2, "little") + b"".join(
        t.to_bytes(2, "little") + k.to_bytes(2, "little") + n.to_bytes(4, "little") + v.to_bytes(4, "little")
        for t, k, n, v in entries) + b"\0\0\0\0"
    data = header + ifd + b"".join((8 + len(ifd) + 8 * strips + i).to_bytes(4, "little") for i in range(strips)) \
        + (1).to_bytes(4, "little") * strips + b"\0" * strips
    (tmp_path / "strips.tif").write_bytes(data)
    started = time.process_time()
    assert sniff(tmp_path / "strips.tif") == "image"
    assert time.process_time() - started < 2  # Pillow: ~1 s per 300,000 strips here
    # A signature alone is no image: judged by the name it carries.
    (tmp_path / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 200)
    with pytest.raises(CorruptFile, match="图片文件已损坏"):
        sniff(tmp_path / "fake.png")
    (tmp_path / "fake.docx").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 200)
    with pytest.raises(CorruptFile, match="不是有效的 Word"):
        sniff(tmp_path / "fake.docx")
