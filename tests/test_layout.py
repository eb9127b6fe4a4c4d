"""The layout of a 公文 as a structure signal: unnumbered headings by their typeface (DOCX, PDF)
and two-column PDF pages in reading order, on a real work report (`layout_files.py`)."""

from __future__ import annotations

import re
import unicodedata

import pytest

from jianyan.ingest.clean import clean_lines
from jianyan.ingest.pipeline import split_paragraphs
from jianyan.ingest.readers.docx import read_docx
from jianyan.ingest.structure import iter_nodes
from jianyan.ingest.typography import Look, face_of, mark_headings
from jianyan.documents import SourceLine

from .conftest import SHARED, requires_office, requires_shared
from .layout_files import OFFICE_FACES, PRINT_FACES, report_items, write_gbt_docx

from .conftest import REPORTS_JSONL as REPORTS  # noqa: E402


@pytest.fixture(scope="module")
def items():
    if not REPORTS.exists():
        pytest.skip("needs the real corpora in ../shared")
    found = report_items(REPORTS)
    assert sum(k == "sub" for k, _ in found) >= 8 and sum(k == "heading" for k, _ in found) >= 2
    return found


def _tree(lines):
    _, structure, _ = split_paragraphs(clean_lines(lines))
    return list(iter_nodes(structure.tree))


def _expected(items):
    """(heading, [its sub-headings]) in the source's order: the reference."""
    out = []
    for kind, text in items:
        if kind == "heading":
            out.append((text, []))
        elif kind == "sub" and out:
            out[-1][1].append(text)
    return out


def _found(nodes):
    """(一、 heading, [its children found by typeface]) as read back."""
    out = []
    for depth, node in nodes:
        if node.kind == "cn" and depth == 0:
            out.append((node.label, [c.label for c in node.children if c.kind == "style"]))
    return out


def _norm(text: str) -> str:
    """Compared as cleaning stores it: full-width digits and letters folded, no spaces."""
    return re.sub(r"[\s\u200b-\u200f\ufeff]", "", unicodedata.normalize("NFKC", text))


def _same_structure(nodes, items) -> None:
    expected = [(_norm(h), [_norm(s) for s in subs]) for h, subs in _expected(items)]
    found = [(_norm(h), [_norm(s) for s in subs]) for h, subs in _found(nodes)]
    assert found == expected
    # Nothing else became a heading by its face: every typeface heading is a sub-heading.
    style_labels = {_norm(n.label) for _, n in nodes if n.kind == "style"}
    assert style_labels <= {_norm(t) for k, t in items if k == "sub"}


@requires_shared
def test_docx_unnumbered_sub_headings_nest_under_their_numbered_heading(items, tmp_path):
    lines, _ = read_docx(write_gbt_docx(items, tmp_path / "report.docx"))
    _same_structure(_tree(lines), items)


@requires_shared
def test_docx_level_follows_the_documents_own_numbered_headings(items, tmp_path):
    """An office that sets 一、 in bold 仿宋 and the sub-headings in 黑体: the 黑体 lines are more
    prominent than any numbered heading, so they rank above 一、 (not nested under it)."""
    swapped = {**OFFICE_FACES, "heading": OFFICE_FACES["body"], "sub": "黑体"}
    lines, _ = read_docx(write_gbt_docx(items, tmp_path / "swapped.docx", swapped, bold=("heading",)))
    ranks = {ln.heading_rank for ln in lines if ln.heading_rank is not None}
    assert ranks and all(r < 3 for r in ranks)  # above 一、 (rank 3)
    subs = {_norm(t) for k, t in items if k == "sub"}
    assert {_norm(ln.text) for ln in lines if ln.heading_rank is not None} == subs


@requires_shared
def test_docx_in_one_face_has_no_typeface_headings(items, tmp_path):
    one_face = {k: OFFICE_FACES["body"] for k in OFFICE_FACES}
    lines, _ = read_docx(write_gbt_docx(items, tmp_path / "plain.docx", one_face))
    assert not [ln.text for ln in lines if ln.heading_rank is not None]
    # The sub-headings stay plain paragraphs; the numbered structure is found as before.
    assert all(not subs for _, subs in _found(_tree(lines)))


@requires_shared
@requires_office
@pytest.mark.parametrize("columns", [1, 2])
def test_pdf_headings_by_font_and_columns_in_reading_order(items, tmp_path, columns):
    from jianyan.ingest.readers.pdf import read_pdf
    from .ofd_files import docx_to_pdf

    docx = write_gbt_docx(items, tmp_path / f"report{columns}.docx", PRINT_FACES, columns=columns)
    (pdf,) = docx_to_pdf([docx], tmp_path)
    lines, _ = read_pdf(pdf)
    _same_structure(_tree(lines), items)
    _in_reading_order(lines, items)


def _in_reading_order(lines, items) -> None:
    """The source's paragraphs come back whole and in order (a two-column page read across
    would interleave the columns line by line)."""
    source = [_norm(t) for k, t in items if k != "title"]
    got = [_norm(p.text) for p in clean_lines(lines)]
    # Nothing read twice or lost: a title across both columns is read once, whole.
    title = _norm(items[0][1])
    assert sum(g.count(title) for g in got) == 1
    assert len("".join(got)) == len("".join(_norm(t) for _, t in items))
    position = {t: i for i, t in enumerate(got)}
    found = [position[t] for t in source if t in position]
    assert len(found) >= 0.97 * len(source)
    in_order = sum(1 for a, b in zip(found, found[1:]) if b > a)
    assert in_order >= 0.95 * (len(found) - 1)


@pytest.mark.parametrize("name, face", [
    ("黑体", "hei"), ("ABCDEF+SimHei", "hei"), ("NotoSansCJKsc-Regular", "hei"), ("楷体_GB2312", "kai"),
    ("AR PL UKai CN", "kai"), ("仿宋_GB2312", "fangsong"), ("FangSong", "fangsong"), ("宋体", "song"),
    ("方正小标宋简体", "song"), ("Noto Serif CJK SC", "song"), ("Calibri", "calibri"), (None, None)])
def test_face_classes(name, face):
    assert face_of(name) == face


def test_a_bold_first_word_or_a_sentence_is_no_heading():
    body = Look("fangsong", False, 16.0)
    long = "这是正文段落，" * 8
    lines = [SourceLine(long, True, look=body, look_share=1.0),
             SourceLine("注意：以下内容另行通知", True, look=Look("fangsong", True, 16.0), look_share=0.3),
             SourceLine("加强领导。落实责任。", True, look=Look("hei", False, 16.0), look_share=1.0),
             SourceLine("小一号的说明文字", True, look=Look("kai", False, 12.0), look_share=1.0),
             SourceLine("推进乡村振兴", True, look=Look("kai", False, 16.0), look_share=1.0),
             SourceLine(long, True, look=body, look_share=1.0)]
    mark_headings(lines)
    assert [ln.heading_rank for ln in lines] == [None, None, None, None, 4.0, None]


def test_the_head_of_a_document_is_not_a_heading():
    """Title and subtitle above the first body paragraph stay metadata lines."""
    body = Look("fangsong", False, 16.0)
    lines = [SourceLine("政府工作报告", True, look=Look("song", False, 22.0), look_share=1.0),
             SourceLine("——在全国人民代表大会上", True, look=Look("kai", False, 16.0), look_share=1.0),
             SourceLine("各位代表：" + "现在我代表国务院向大会报告政府工作，请予审议。" * 3, True, look=body, look_share=1.0),
             SourceLine("经济运行总体平稳", True, look=Look("kai", False, 16.0), look_share=1.0),
             SourceLine("正文" * 30, True, look=body, look_share=1.0)]
    mark_headings(lines)
    assert [ln.heading_rank for ln in lines] == [None, None, None, 4.0, None]


@requires_shared
@requires_office
def test_ofd_headings_by_font_and_columns_in_reading_order(items, tmp_path):
    """The two-column PDF converted to OFD (easyofd): the OFD's fonts (PublicRes) mark the
    sub-headings, and its two columns are read one after the other."""
    from jianyan.ingest.readers.ofd import read_ofd
    from .ofd_files import docx_to_pdf, pdfs_to_ofd

    docx = write_gbt_docx(items, tmp_path / "report.docx", PRINT_FACES, columns=2)
    (pdf,) = docx_to_pdf([docx], tmp_path)
    (ofd,) = pdfs_to_ofd([(pdf, tmp_path / "report.ofd", True)])
    lines, _ = read_ofd(ofd)
    _same_structure(_tree(lines), items)
    _in_reading_order(lines, items)


def test_a_run_that_sets_only_its_western_font_keeps_its_styles_chinese_face(tmp_path):
    """Word's "select all → Times New Roman" writes w:ascii only: the 楷体 the style gives the
    Chinese text still shows, and a date whose digits are in Times is still a body line."""
    from docx import Document
    from docx.oxml.ns import qn

    document = Document()
    kai = document.styles.add_style("SubHeading", 1)
    kai.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "楷体_GB2312")
    body = document.styles["Normal"]
    body.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋_GB2312")
    long = "为深入贯彻落实党中央、国务院决策部署，推动全市经济社会高质量发展，现就有关事项通知如下。"
    texts = [(long, None), ("坚持稳中求进工作总基调", "SubHeading"), (long, None), ("2024年3月15日", None)]
    for text, style in texts:
        para = document.add_paragraph(style=style)
        run = para.add_run(text)
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:ascii"), "Times New Roman")
    # A basedOn without a value (seen in converted files) ends the style chain, not the file.
    broken = document.styles.add_style("Broken", 1)
    based = broken.element.makeelement(qn("w:basedOn"), {})
    broken.element.append(based)
    document.add_paragraph(long, style="Broken")
    path = tmp_path / "fonts.docx"
    document.save(str(path))
    lines, _ = read_docx(path)
    ranked = {ln.text: ln.heading_rank for ln in lines}
    assert ranked["坚持稳中求进工作总基调"] is not None and ranked["2024年3月15日"] is None
    assert lines[1].look.face == "kai" and lines[3].look.face == "fangsong"


def test_damaged_sizes_say_nothing():
    from jianyan.ingest.typography import look_of

    assert look_of("黑体", float("nan")).size is None and look_of("黑体", float("inf")).size is None
    assert look_of("黑体", 1e400).size is None and look_of("黑体", 16.2).size == 16.0


def test_a_signature_set_to_the_right_is_not_a_second_column():
    """Short lines on the left and a signature block on the right leave a gutter, but no column
    of text fills its side: the page is one column and keeps its order."""
    from jianyan.ingest.readers.lines import column_groups

    def line(text, x0, x1, top):
        return {"text": text, "x0": x0, "x1": x1, "top": top, "bottom": top + 16}

    page = [line("正文" * 14, 90, 510, 100), line("正文" * 14, 90, 510, 128), line("特此通知。", 122, 202, 156),
            line("附件：工作方案", 122, 234, 184), line("某某市人民政府办公室", 340, 500, 240),
            line("2024 年 1 月 10 日", 360, 500, 268), line("（此件公开发布）", 122, 250, 296)]
    assert column_groups(page) == [(0, page)]
    # Two real columns: each side's rows fill it.
    cols = [line("左栏" * 6, 90, 290, 100 + 28 * i) for i in range(5)] + \
           [line("右栏" * 6, 310, 510, 100 + 28 * i) for i in range(5)]
    groups = column_groups(cols)
    assert [c for c, _ in groups] == [1, 2] and all(len(g) == 5 for _, g in groups)
