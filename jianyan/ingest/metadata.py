"""Metadata of official documents: title, 文号, 发文机关, date and year, document type."""

from __future__ import annotations

import re

from ..documents import DocumentMetadata, Paragraph
from .markers import CANONICAL_PROPOSAL_SECTIONS, starts_with_marker
from .numerals import cn_digits_to_int, cn_small_to_int

DOC_TYPES = ("proposal", "report", "policy", "other")

# 文号 as GB/T 9704 §7.2.4 writes it: 机关代字〔年份〕序号号 (hexagonal brackets; others seen in practice).
DOC_NUMBER = re.compile(r"[A-Za-z\u4e00-\u9fa5]{1,12}\s*[〔\[［【(（]\s*((?:19|20)\d{2})\s*[〕\]］】)）]\s*第?\s*\d{1,5}\s*号")
_DATE_ARABIC = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_DATE_CN = re.compile(r"([〇零一二三四五六七八九]{4})\s*年\s*([一二三四五六七八九十]{1,3})\s*月\s*([一二三四五六七八九十]{1,3})\s*日")
_DATE_ISO = re.compile(r"((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_ISSUER_SUFFIX = re.compile(r"(国务院|政府|办公厅|办公室|委员会|政协|人大常委会|部|委|局|厅|署|院|会|中心|公司|组)$")
# 文号 prefixes of the State Council (国务院公文 numbering).
_ISSUER_BY_PREFIX = {"国发": "国务院", "国函": "国务院", "国令": "国务院", "国办发": "国务院办公厅",
                     "国办函": "国务院办公厅"}
_POLICY_SUFFIX = re.compile(r"(通知|意见|批复|办法|决定|条例|规定|复函|函|通报|方案|答复|决议|规划|细则|"
                            r"命令|公告|通告|纲要|规则|指引|实施意见|指导意见)[）)]?$")
_REPORT_TITLE = re.compile(r"工作报告|工作总结|述职报告|年度报告|工作要点|工作情况的报告|履职报告")
_PROPOSAL_TITLE = re.compile(r"提案|^关于.*的(建议|提议)$|建议$")
_REPORT_CUES = ("一年来", "过去一年", "过去五年", "回顾", "我们将", "取得成绩", "主要工作", "工作总结")


def find_date(text: str) -> str | None:
    """The first full date in `text`, as yyyy-mm-dd."""
    best = None
    for pattern in (_DATE_ARABIC, _DATE_ISO, _DATE_CN):
        m = pattern.search(text)
        if m and (best is None or m.start() < best[0]):
            try:
                if pattern is _DATE_CN:
                    y = cn_digits_to_int(m.group(1))
                    mo, d = cn_small_to_int(m.group(2)), cn_small_to_int(m.group(3))
                else:
                    y, mo, d = (int(g) for g in m.groups())
            except (KeyError, ValueError):
                continue
            if mo is not None and d is not None and 1 <= mo <= 12 and 1 <= d <= 31:
                best = (m.start(), f"{y:04d}-{mo:02d}-{d:02d}")
    return best[1] if best else None


def _is_date_line(text: str) -> bool:
    rest = re.sub(r"[\d年月日〇零一二三四五六七八九十\s（）()]", "", text)
    return len(text) <= 20 and len(rest) <= 2 and find_date(text) is not None


def _signature(paragraphs: list[Paragraph]) -> tuple[str | None, str | None]:
    """(issuer, date) from the signature block: an issuing body line above a date line.

    The first such block counts (attachments after it may carry dates of their own); without
    an issuer line, a date line among the last paragraphs does.
    """
    for i in range(1, len(paragraphs)):
        text = paragraphs[i].text.strip()
        if _is_date_line(text):
            prev = paragraphs[i - 1].text.strip()
            if len(prev) <= 30 and _ISSUER_SUFFIX.search(prev) and not re.search(r"[。，；：]", prev):
                return prev, find_date(text)
    for p in reversed(paragraphs[-6:]):
        if _is_date_line(p.text.strip()):
            return None, find_date(p.text)
    return None, None


def _title_from_text(paragraphs: list[Paragraph]) -> str | None:
    """A short first line that is not body text; a 文号 or masthead (…文件) line before it is skipped."""
    for p in paragraphs[:4]:
        text = p.text.strip()
        if not text or DOC_NUMBER.fullmatch(text) or text.endswith("文件"):
            continue
        if len(text) <= 60 and not re.search(r"[。；！？：:]$", text) and not starts_with_marker(text) \
                and not text.startswith("——") and not _is_date_line(text):
            return text
        return None
    return None


_ADDRESSEE_END = re.compile(r"[：:]$")
# The last words of a 主送机关 (a body, or a person a 复函 answers).
_ADDRESSEE_TAIL = re.compile(r"(政府|机关|部门|单位|部委|机构|委员会|办公厅|办公室|厅|局|委|部|署|院|会|公司|集团|学校|兵团|军区|省|市|县|区|"
                             r"同志|代表|委员|主席|总理|省长|市长|县长|书记|先生|女士)$")
_ATTACHMENT_NOTE = re.compile(r"^附\s*件\s*[：:]\s*(.+)$")
_ATTACHMENT_ITEM = re.compile(r"(?:^|(?<=[^\d]))(\d{1,2})\s*[.．、]\s*")
_ADDRESSEE_MAX = 300


def find_addressees(paragraphs: list[Paragraph]) -> str | None:
    """The 主送机关 (GB/T 9704 §7.3.2): a line of the head, after the title and 文号, that names
    bodies and ends with a colon ("各省、自治区、直辖市人民政府，国务院各部委、各直属机构：")."""
    for p in paragraphs[:8]:
        text = p.text.strip()
        if len(text) > _ADDRESSEE_MAX or re.search(r"[。；！？]", text):
            if len(text) > _ADDRESSEE_MAX:
                return None  # the body has begun
            continue
        name = _ADDRESSEE_END.sub("", text).strip()
        if name != text and not starts_with_marker(text) and _ADDRESSEE_TAIL.search(name):
            return name
    return None


def find_attachments(paragraphs: list[Paragraph]) -> list[str]:
    """The 附件说明 (§7.3.5): "附件：1.名称" after the body, its further items on the lines below
    ("2.名称"), or several on one line. The names, in order."""
    for i, p in enumerate(paragraphs):
        m = _ATTACHMENT_NOTE.match(p.text.strip())
        if not m:
            continue
        lines = [m.group(1)]
        for q in paragraphs[i + 1:i + 20]:
            t = q.text.strip()
            if not re.match(r"\d{1,2}\s*[.．、]", t) or len(t) > 80:
                break
            lines.append(t)
        names: list[str] = []
        for line in lines:
            parts = [x.strip() for x in _ATTACHMENT_ITEM.split(line)]
            if len(parts) == 1:
                names.append(parts[0])
            else:  # ["", "1", "名称", "2", "名称"…]
                names.extend(name for name in parts[2::2] if name)
        return [n for n in names if n and len(n) <= 80]
    return []


def infer_doc_type(title: str, text: str, has_doc_number: bool) -> str:
    """proposal | report | policy | other, from the title first, then from cues in the text."""
    t = title.strip()
    if _POLICY_SUFFIX.search(t):
        return "policy"
    if _REPORT_TITLE.search(t):
        return "report"
    if _PROPOSAL_TITLE.search(t):
        return "proposal"
    head = text[:3000]
    if sum(label in head for label in CANONICAL_PROPOSAL_SECTIONS) >= 2:
        return "proposal"
    if has_doc_number:
        return "policy"
    if sum(cue in head for cue in _REPORT_CUES) >= 2:
        return "report"
    return "other"


def extract_metadata(paragraphs: list[Paragraph], text: str, fields: dict,
                     doc_type: str | None = None) -> DocumentMetadata:
    head = "\n".join(p.text for p in paragraphs[:12])
    title = fields.get("title") or _title_from_text(paragraphs) or fields.get("file_title") or "（无标题）"
    doc_number = fields.get("doc_number")
    if not doc_number:
        m = DOC_NUMBER.search(head)
        doc_number = re.sub(r"\s+", "", m.group(0)) if m else None
    sig_issuer, sig_date = _signature(paragraphs)
    issuer = fields.get("issuer") or sig_issuer
    if not issuer and doc_number:
        prefix = re.match(r"[\u4e00-\u9fa5]+", doc_number)
        issuer = _ISSUER_BY_PREFIX.get(prefix.group(0)) if prefix else None
    date = find_date(fields["date"]) if fields.get("date") else None
    if fields.get("date") and not date:
        m = re.match(r"((?:19|20)\d{2})(?:[-/.](\d{1,2}))?", fields["date"])
        date = (m.group(1) + (f"-{int(m.group(2)):02d}" if m.group(2) else "")) if m else None
    date = date or sig_date or find_date("\n".join(p.text for p in paragraphs[:3] if len(p.text) <= 80))
    year = None
    for candidate in (fields.get("year"), date, title, paragraphs[0].text[:200] if paragraphs else ""):
        if not candidate:
            continue
        m = re.match(r"((?:19|20)\d{2})$", str(candidate).strip()) or re.match(r"((?:19|20)\d{2})-", str(candidate)) \
            or _YEAR.search(str(candidate))
        if m:
            year = int(m.group(1))
            break
    if doc_type is None:
        doc_type = fields.get("doc_type") if fields.get("doc_type") in DOC_TYPES else None
    doc_type = doc_type or infer_doc_type(title, text, bool(doc_number))
    return DocumentMetadata(title=title, doc_type=doc_type, doc_number=doc_number, issuer=issuer,
                            date=date, year=year, category=fields.get("category"),
                            author=fields.get("author"))
