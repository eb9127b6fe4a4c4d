"""Cleaning on the real messes the corpora's SOURCE.md files describe."""

from __future__ import annotations

import re

from jianyan.documents import Paragraph, SourceLine, lines_from_text
from jianyan.ingest.boilerplate import find_tail_boilerplate, strip_tail
from jianyan.ingest.clean import clean_lines, is_page_number, normalize_chars

from .conftest import REPORTS_JSONL, jsonl, proposal_rows, requires_shared


def _clean(raw: str) -> str:
    return "\n".join(p.text for p in clean_lines(lines_from_text(raw)))


def test_width_and_zero_width_normalised_chinese_punctuation_kept():
    assert normalize_chars("增长７．５％左右\u200b，ＧＤＰ达到１２３亿元。") == "增长7.5%左右，GDP达到123亿元。"


def test_page_number_lines():
    for line in ("3", " - 12 - ", "— 2 —", "第3页 共9页", "第 3 页"):
        assert is_page_number(line), line
    for line in ("3.加强领导", "2021年", "一、总则"):
        assert not is_page_number(line), line


def test_pdf_pasted_lines_rejoined_and_headings_kept():
    raw = ("一、总体要求\n"
           "为深入贯彻落实党中央、国务院关于优化营商环境的决策部署，进\n"
           "一步提升政务服务水平，切实增强企业和群众的获得感，现就有关\n"
           "事项通知如下。\n"
           "7\n"
           "二、主要任务\n"
           "各地区各部门要按照职责分工，抓紧制定具体实施方案，确保各项\n"
           "措施落地见效。要加强统筹协调，强化督促检查，及时研究解决\n"
           "工作推进中遇到的困难和问题，重大情况及时报告。")
    assert _clean(raw).split("\n") == [
        "一、总体要求",
        "为深入贯彻落实党中央、国务院关于优化营商环境的决策部署，进一步提升政务服务水平，切实增强企业和群众的获得感，现就有关事项通知如下。",
        "二、主要任务",
        "各地区各部门要按照职责分工，抓紧制定具体实施方案，确保各项措施落地见效。要加强统筹协调，强化督促检查，"
        "及时研究解决工作推进中遇到的困难和问题，重大情况及时报告。",
    ]


def test_spaces_between_chinese_dropped_latin_kept():
    assert _clean("2015 年 4 月 1 日，GDP growth 达 到 7%") == "2015年4月1日，GDP growth达到7%"


def test_hard_lines_are_not_joined():
    lines = [SourceLine("第一段没有句号", hard=True), SourceLine("第二段", hard=True)]
    assert [p.text for p in clean_lines(lines)] == ["第一段没有句号", "第二段"]


@requires_shared
def test_words_broken_across_lines_in_work_reports_are_joined():
    broken = 0
    for rec in jsonl(REPORTS_JSONL):
        for m in re.finditer(r"政府工作报\n告", rec["content"]):
            broken += 1
        if "政府工作报\n告" in rec["content"]:
            assert "政府工作报告" in _clean(rec["content"])
            assert "政府工作报\n告" not in _clean(rec["content"])
    assert broken > 0


@requires_shared
def test_report_without_zero_width_and_with_halfwidth_percent():
    recs = jsonl(REPORTS_JSONL)
    assert any("\u200b" in r["content"] for r in recs)
    for rec in recs:
        text = _clean(rec["content"])
        assert "\u200b" not in text and "％" not in text
    r2012 = next(r for r in recs if r["title"].startswith("2012年"))
    assert "7.5%" in _clean(r2012["content"])


@requires_shared
def test_proposal_pasted_from_pdf():
    row = next(r for r in proposal_rows() if r["rownum"] == "1")
    assert "国家对厕所\n问题" in row["content"]
    text = _clean(row["content"])
    assert "国家对厕所问题的关注" in text
    assert "2015年4月1日" in text
    assert "\xa0" not in text


@requires_shared
def test_licence_footer_is_learnt_from_the_batch_not_hard_coded():
    docs = [clean_lines(lines_from_text(r["content"])) for r in jsonl(REPORTS_JSONL)]
    boilerplate = find_tail_boilerplate(docs)
    assert any("本作品" in b for b in boilerplate)
    for paragraphs in docs:
        kept = strip_tail(paragraphs, boilerplate)
        tail = "\n".join(p.text for p in kept[-3:])
        assert "本作品" not in tail and "Public domain" not in tail
        assert len(kept) >= len(paragraphs) - 8


def test_boilerplate_mechanism_on_any_footer():
    footer = "本文件由某某系统自动导出，仅供内部参考。"
    bodies = ["加强基层卫生人才队伍建设。", "推进老旧小区改造。", "完善农村公路养护机制。",
              "发展社区托育服务。", "健全生态补偿制度。", "优化营商环境。"]
    endings = ["以上建议请审议。", "妥否，请批示。", "特此报告。", "请予支持。", "谨此建议。", "望采纳。"]
    docs = [[Paragraph(b), Paragraph(e), Paragraph(footer)] for b, e in zip(bodies, endings)]
    boilerplate = find_tail_boilerplate(docs)
    for paragraphs in docs:
        kept = [p.text for p in strip_tail(paragraphs, boilerplate)]
        assert footer not in kept and kept[-1] in endings
    # Too few documents to learn from: nothing is removed.
    assert find_tail_boilerplate(docs[:2]) == set()
