"""Structure of real documents: the seed's sections, proposals' sections, in-paragraph runs."""

from __future__ import annotations

import pytest

from jianyan.documents import SourceDocument, lines_from_text
from jianyan.ingest.clean import clean_lines
from jianyan.ingest.pipeline import prepare
from jianyan.ingest.structure import parse_structure

from .conftest import CORPORA, SEED, proposal_rows, requires_shared


def _prepare(raw: str, fields=None):
    lines = lines_from_text(raw)
    doc = SourceDocument("x", "x", "txt", lines, "h", fields or {})
    return prepare(doc, clean_lines(lines))


# The seed's real outline, read off the document by hand: three sections and their 一是… items.
SEED_OUTLINE = {
    "一、强化理论武装，提高政治站位": ["一是强化理论武装", "二是强化党的领导", "三是强化思想引领"],
    "二、聚焦中心工作，激发委员活力": ["一是协商咨政荐举措", "二是考察调研谋思路", "三是视察监督促发展",
                                  "四是注重基层协商", "五是注重履职为民", "六是注重凝聚共识"],
    "三、强化党风廉政建设，不断改进工作作风": ["一是有效抓好学习教育", "二是有效抓好党的建设",
                                      "三是有效做到履职尽责", "四是有效做好履职为民", "五是有效抓好队伍建设"],
}


def _seed_text() -> str:
    path = SEED if SEED.exists() else CORPORA / "seed" / "2021年县政协工作总结.txt"
    return path.read_text(encoding="utf-8")


def test_seed_sections_and_items_become_heading_paths():
    doc = _prepare(_seed_text())
    assert {n.label: [c.label for c in n.children] for n in doc.structure} == SEED_OUTLINE
    paths = {" › ".join(p.heading_path) for p in doc.passages}
    for section, items in SEED_OUTLINE.items():
        for item in items:
            assert f"{section} › {item}" in paths
    # Each item's passage starts at its own marker and holds its words.
    item = next(p for p in doc.passages if p.heading_path[-1:] == ["一是协商咨政荐举措"])
    assert item.text.startswith("一是协商咨政荐举措。修改完善《季度协商座谈会工作办法》")
    assert "二是考察调研谋思路" not in item.text


def test_heading_spans_nest_and_cover_their_items():
    doc = _prepare(_seed_text())
    for section in doc.structure:
        for child in section.children:
            assert section.start <= child.start < child.end <= section.end
    starts = [n.start for n in doc.structure]
    assert starts == sorted(starts)


@requires_shared
def test_proposal_sections_found_in_real_proposals():
    rows = proposal_rows()
    with_all = [r for r in rows if all(k + "：" in r["content"] for k in ("调研情况", "问题分析", "具体建议"))]
    found = 0
    for r in with_all:
        labels = [n.label for n in _prepare(r["content"]).structure]
        found += labels[:3] == ["调研情况", "问题分析", "具体建议"] or \
            {"调研情况", "问题分析", "具体建议"} <= set(labels)
    assert len(with_all) > 350
    assert found / len(with_all) >= 0.97


@requires_shared
def test_numbered_suggestions_inside_one_paragraph_are_split():
    row = next(r for r in proposal_rows() if r["reason"].startswith("关于统筹高新园区未来产业发展")
               or "1.去同质化，细化产业领域" in r["content"])
    doc = _prepare(row["content"])
    suggestions = next(n for n in doc.structure if n.label == "具体建议")
    assert [c.label for c in suggestions.children][:2] == ["1.去同质化，细化产业领域", "2.统筹规划，坚持创新培育"]


def test_stray_ordinal_in_running_text_is_not_a_heading():
    doc = _prepare("一、总体要求\n各地要统筹推进，其二是指标问题。3.5万亿元投资中，2.落实到位。")
    assert [n.label for n in doc.structure] == ["一、总体要求"]
    assert doc.structure[0].children == []


def test_eleventh_section_and_nested_numbering():
    raw = "\n".join(f"{'一二三四五六七八九十'[i]}、第{i + 1}部分\n正文内容。" for i in range(10))
    raw += "\n十一、第十一部分\n（一）分项\n1.要点\n（1）细目。内容。\n（2）细目二。内容。\n2.要点二。内容。"
    doc = _prepare(raw)
    top = [n.label for n in doc.structure]
    assert top[-1] == "十一、第十一部分" and len(top) == 11
    sub = doc.structure[-1].children[0]
    assert sub.label == "（一）分项"
    assert [c.label for c in sub.children] == ["1.要点", "2.要点二"]
    assert [c.label for c in sub.children[0].children] == ["（1）细目", "（2）细目二"]


def test_chapters_and_articles():
    path = CORPORA / "policy" / "关于印发某市营商环境优化办法的通知.md"
    from jianyan.ingest.readers import read_file

    (src,), _ = read_file(path, path.name)
    doc = prepare(src, clean_lines(src.lines))
    labels = [" › ".join(p.heading_path) for p in doc.passages]
    assert any(lbl.endswith("第一章总则 › 第一条") for lbl in labels)
    chapters = [n for n in _walk(doc.structure) if n.kind == "chapter"]
    articles = [n for n in _walk(doc.structure) if n.kind == "article"]
    assert len(chapters) == 3 and len(articles) == 10


def _walk(nodes):
    for n in nodes:
        yield n
        yield from _walk(n.children)


def test_enumeration_with_di_commas():
    doc = _prepare("今年重点做好以下工作：第一，稳定经济增长。要扩大内需。第二，推进改革。第三，改善民生。")
    assert [c.label for c in doc.structure] == ["第一，稳定经济增长", "第二，推进改革", "第三，改善民生"]


@pytest.mark.parametrize("text", ["", "\n\n", "没有任何标题的一段话。"])
def test_no_headings(text):
    s = parse_structure(text)
    assert s.tree == []
