"""Metadata extracted from text, compared with the fields the real records carry."""

from __future__ import annotations

from collections import Counter

from jianyan.documents import lines_from_text
from jianyan.ingest.clean import clean_lines
from jianyan.ingest.metadata import extract_metadata, find_date, infer_doc_type

from .conftest import POLICIES_JSONL, REPORTS_JSONL, jsonl, requires_shared


def _extract(body: str, fields=None):
    paragraphs = clean_lines(lines_from_text(body))
    return extract_metadata(paragraphs, "\n".join(p.text for p in paragraphs), fields or {})


@requires_shared
def test_doc_number_and_issuer_from_text_match_the_records():
    recs = [r for r in jsonl(POLICIES_JSONL) if r.get("doc_number")]
    numbers = issuers = 0
    for r in recs:
        meta = _extract(r["text"])
        numbers += meta.doc_number == r["doc_number"].replace(" ", "")
        issuers += meta.issuer == r["issuer"]
    assert len(recs) >= 50
    assert numbers / len(recs) >= 0.9
    assert issuers / len(recs) >= 0.8


@requires_shared
def test_policy_signature_date():
    rec = next(r for r in jsonl(POLICIES_JSONL) if r["doc_number"] == "国函〔2018〕145号")
    meta = _extract(rec["text"])
    assert (meta.date, meta.year, meta.issuer) == ("2018-11-23", 2018, "国务院")


@requires_shared
def test_types_inferred_on_real_corpora():
    reports = jsonl(REPORTS_JSONL)
    kinds = Counter(_extract(r["content"], {"title": r["title"]}).doc_type for r in reports if r["year"])
    assert kinds == Counter({"report": sum(1 for r in reports if r["year"])})
    resolutions = Counter(_extract(r["content"], {"title": r["title"]}).doc_type for r in reports if not r["year"])
    assert set(resolutions) == {"policy"}
    policies = Counter(_extract(r["text"], {"title": r["title"]}).doc_type for r in jsonl(POLICIES_JSONL))
    assert policies["policy"] >= 58


@requires_shared
def test_proposals_recognised_without_type_flag(real_store):
    kinds = Counter(d["doc_type"] for d in real_store.list_documents() if d["source_format"] == "csv")
    assert kinds["proposal"] / sum(kinds.values()) >= 0.97


def test_dates_in_their_forms():
    assert find_date("二〇二一年十二月三十一日") == "2021-12-31"
    assert find_date("发布于 2019-01-12 16:04:48") == "2019-01-12"
    assert find_date("2022年3月15日") == "2022-03-15"
    assert find_date("2022年13月15日") is None


def test_type_from_title_and_cues():
    assert infer_doc_type("国务院关于印发某某方案的通知", "", False) == "policy"
    assert infer_doc_type("关于加快发展托育服务的建议", "", False) == "proposal"
    assert infer_doc_type("政协XX市委员会常务委员会工作报告", "", False) == "report"
    assert infer_doc_type("无题", "一年来，我们……回顾过去……我们将继续", False) == "report"
    assert infer_doc_type("无题", "今天天气很好。", False) == "other"


def test_seed_year_and_type():
    from .conftest import CORPORA

    text = (CORPORA / "seed" / "2021年县政协工作总结.txt").read_text(encoding="utf-8")
    meta = _extract(text, {"file_title": "000_d3ce3beb9149fa2b"})
    assert meta.year == 2021 and meta.doc_type == "report"


@requires_shared
def test_signature_survives_batch_boilerplate(real_store):
    doc = next(d for d in real_store.list_documents(doc_type="policy") if d["doc_number"] == "国函〔2018〕145号")
    assert (doc["date"], doc["issuer"]) == ("2018-11-23", "国务院")
    assert "国务院\n2018年11月23日" in real_store.get_document(doc["id"])["text"]


@requires_shared
def test_addressees_of_the_state_council_documents():
    """Every document but a 国务院令 (an order is published, not addressed) names its 主送机关;
    no proposal and no work report line is taken for one."""
    from jianyan.ingest.metadata import find_addressees

    found = {}
    for r in jsonl(POLICIES_JSONL):
        found[r["title"]] = find_addressees(clean_lines(lines_from_text(r["text"])))
    orders = {t for t, r in zip(found, jsonl(POLICIES_JSONL)) if r["text"].lstrip().startswith("中华人民共和国国务院令")}
    assert orders and all(found[t] is None for t in orders)
    assert all(found[t] for t in found if t not in orders), [t for t in found if t not in orders and not found[t]]
    batch = next(r for r in jsonl(POLICIES_JSONL) if r["doc_number"] == "国函〔2018〕145号")
    assert found[batch["title"]] == "科技部、新疆维吾尔自治区人民政府、新疆生产建设兵团"
    assert sum(v == "各省、自治区、直辖市人民政府，国务院各部委、各直属机构" for v in found.values()) >= 20
    reports = [find_addressees(clean_lines(lines_from_text(r["content"]))) for r in jsonl(REPORTS_JSONL)]
    assert set(reports) <= {"各位代表", None}  # a speech's 称谓; prepare keeps 主送 for policies only


@requires_shared
def test_attachment_notes_of_the_state_council_documents():
    from jianyan.ingest.metadata import find_attachments

    notes = {}
    for r in jsonl(POLICIES_JSONL):
        names = find_attachments(clean_lines(lines_from_text(r["text"])))
        if names:
            notes[r["title"]] = names
    assert len(notes) >= 6
    two = next(v for t, v in notes.items() if "巴东县" in t)
    assert two == ["国土资源部关于湖北省巴东县官渡口镇马鬃山村地质险情调研情况的报告",
                   "湖北省巴东县官渡口镇马鬃山村地质险情调查专家组意见"]
    assert all(len(v) >= 1 and all(2 <= len(n) <= 80 for n in v) for v in notes.values())


def test_attachment_items_on_one_line_and_on_their_own_lines():
    from jianyan.documents import Paragraph
    from jianyan.ingest.metadata import find_attachments

    one = [Paragraph("正文。"), Paragraph("附件：1.实施方案2.任务分工表")]
    assert find_attachments(one) == ["实施方案", "任务分工表"]
    own = [Paragraph("附件：1．实施方案"), Paragraph("2．任务分工表"), Paragraph("国务院办公厅")]
    assert find_attachments(own) == ["实施方案", "任务分工表"]
    assert find_attachments([Paragraph("附件3提到的情况另行说明。")]) == []
