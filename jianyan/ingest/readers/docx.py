"""DOCX with python-docx: paragraphs and tables in document order, heading styles kept, and
each paragraph's typeface (for the headings only a typeface marks: `typography.py`)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ...documents import SourceLine
from ...errors import CorruptFile, EmptyDocument
from ..filetype import check_zip
from ..limits import ReadLimits
from ..markers import style_rank
from ..typography import Look, leading_look, look_of, mark_headings

_HEADER_CELL_MAX = 20  # characters: a column name, not a sentence
_NUMBER = re.compile(r"[\d.,%％\-－—]+")
_HEADING_STYLE = re.compile(r"^(?:Heading|标题)\s*(\d)$", re.IGNORECASE)
# Key cells of a metadata table ("提案人 | 张三") and the field each fills.
_KEY_FIELDS = {"提案人": "author", "作者": "author", "类别": "category", "分类": "category",
               "日期": "date", "提交时间": "date", "时间": "date", "文号": "doc_number",
               "发文字号": "doc_number", "发文机关": "issuer", "案由": "title", "标题": "title"}


def _count_paragraphs(zf: zipfile.ZipFile, limit: int) -> int:
    """`<w:p>` elements of the body, counted while inflating it in pieces (stopping past `limit`):
    a small file of millions of empty paragraphs is refused before an XML tree is built."""
    count = 0  # (a tag cut between two pieces is missed: a few in millions)
    try:
        with zf.open("word/document.xml") as fh:
            while count <= limit and (chunk := fh.read(1 << 20)):
                count += chunk.count(b"<w:p>") + chunk.count(b"<w:p ") + chunk.count(b"<w:p/>")
    except (KeyError, zipfile.BadZipFile, OSError, EOFError):
        return 0  # python-docx reports the damage below
    return count


def _distinct(cells: list[str]) -> list[str]:
    """A row's non-empty cells, each once (a merged cell repeats in every column it spans)."""
    kept: list[str] = []
    for value in cells:
        if value and (not kept or kept[-1] != value):
            kept.append(value)
    return kept


def _is_header(cells: list[str]) -> bool:
    kept = _distinct(cells)
    return len(kept) >= 2 and all(len(c) <= _HEADER_CELL_MAX and not _NUMBER.fullmatch(c) for c in kept)


def table_lines(rows: list[list[str]]) -> list[str]:
    """A table as lines a reader (and a search) can follow. A table with a header row: each data
    row as "列名：值；列名：值" (the header applied to each row, so a row found alone still says what
    its numbers are). A key–value table (two columns, or keys down the first): "键：值". Else the
    cells of each row, in order."""
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    width = max(len(r) for r in rows)
    if len(rows) >= 2 and width >= 2 and _is_header(rows[0]) and not _key_value(rows):
        header = rows[0]
        out = []
        for row in rows[1:]:
            pairs: list[str] = []
            for name, value in zip(header, row):
                pair = f"{name}：{value}" if name and value and name != value else value
                if pair and (not pairs or pairs[-1] != pair):
                    pairs.append(pair)
            if pairs:
                out.append("；".join(pairs))
        return out
    if _key_value(rows):
        return [f"{kept[0].rstrip('：:')}：{'　'.join(kept[1:])}" if len(kept) >= 2 else kept[0]
                for kept in map(_distinct, rows) if kept]
    return ["　".join(kept) for kept in map(_distinct, rows) if kept]


def _key_value(rows: list[list[str]]) -> bool:
    """Keys down the first column: a 提案人/类别/日期 form, or any table of two columns whose
    first cells are short labels."""
    firsts = [_distinct(r)[0] for r in rows if _distinct(r)]
    if any(f.rstrip("：:") in _KEY_FIELDS for f in firsts):
        return True
    return all(len(_distinct(r)) == 2 for r in rows) and all(len(f) <= 8 for f in firsts) and len(rows) <= 12


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _run_props(rpr) -> dict:
    """The East Asian font (the face of Chinese text), the western font, size in points and bold,
    as far as this `w:rPr` sets them; each inherited on its own (a run that sets only its
    western font keeps its style's 楷体)."""
    out: dict = {}
    if rpr is None:
        return out
    fonts = rpr.find(f"{_W}rFonts")
    if fonts is not None:
        if fonts.get(f"{_W}eastAsia"):
            out["east_asia"] = fonts.get(f"{_W}eastAsia")
        if fonts.get(f"{_W}ascii") or fonts.get(f"{_W}hAnsi"):
            out["western"] = fonts.get(f"{_W}ascii") or fonts.get(f"{_W}hAnsi")
    size = rpr.find(f"{_W}sz")
    if size is not None:
        try:
            out["size"] = int(size.get(f"{_W}val")) / 2
        except (TypeError, ValueError):
            pass
    bold = rpr.find(f"{_W}b")
    if bold is not None:
        out["bold"] = bold.get(f"{_W}val", "true").lower() not in ("0", "false", "off")
    return out


class _Looks:
    """Each run's look, its unset properties inherited from the paragraph's style chain and the
    document defaults (cached per style)."""

    def __init__(self, document) -> None:
        defaults = document.styles.element.find(f"{_W}docDefaults/{_W}rPrDefault/{_W}rPr")
        self._defaults = _run_props(defaults)
        self._styles: dict[str, dict] = {}

    def _style(self, style) -> dict:
        if style is None:
            return dict(self._defaults)
        key = style.style_id
        if key not in self._styles:
            chain, seen = [], set()
            try:
                while style is not None and style.style_id not in seen and len(chain) < 20:
                    seen.add(style.style_id)
                    chain.append(style)
                    style = style.base_style
            except Exception:  # noqa: BLE001 - a damaged basedOn ends the chain, not the file
                pass
            props = dict(self._defaults)
            for st in reversed(chain):
                props.update(_run_props(st.element.find(f"{_W}rPr")))
            self._styles[key] = props
        return self._styles[key]

    def paragraph(self, para, style) -> tuple[Look | None, float]:
        base = self._style(style)
        runs = []
        for run in para.runs:
            props = {**base, **_run_props(run._element.rPr)}
            font = props.get("east_asia") or props.get("western")
            runs.append((run.text, look_of(font, props.get("size"), props.get("bold", False))))
        return leading_look(runs)


def read_docx(path: Path, limits: ReadLimits | None = None) -> tuple[list[SourceLine], dict]:
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    limits = limits or ReadLimits()
    with check_zip(path) as zf:
        limits.check("paragraphs", _count_paragraphs(zf, limits.paragraphs), str(path))
    try:
        document = docx.Document(str(path))
    except MemoryError:
        raise  # the sandbox names the limit
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise CorruptFile(f"Word 文档已损坏，无法读取（{type(exc).__name__}）", path=str(path)) from exc
    except Exception as exc:  # lxml errors on damaged XML parts
        raise CorruptFile(f"Word 文档内容损坏，无法解析（{type(exc).__name__}）", path=str(path)) from exc

    fields: dict = {}
    if document.core_properties.title:
        fields["title"] = document.core_properties.title.strip()
    lines: list[SourceLine] = []
    looks = _Looks(document)
    styles: dict[str | None, object] = {}  # python-docx scans every style for each lookup
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(child, document)
            text = para.text.replace("\v", "\n")
            style_id = child.style
            if style_id not in styles:
                styles[style_id] = para.style
            style_obj = styles[style_id]
            style = style_obj.name if style_obj is not None else ""
            if style == "Title" and text.strip():
                fields.setdefault("title", text.strip())
            m = _HEADING_STYLE.match(style or "")
            rank = style_rank(int(m.group(1))) if m else None
            look, share = looks.paragraph(para, style_obj)
            for piece in text.split("\n"):
                lines.append(SourceLine(piece, hard=True, heading_rank=rank, look=look, look_share=share))
        elif tag == "tbl":
            rows = [[cell.text.strip() for cell in row.cells] for row in Table(child, document).rows]
            for cells in rows:
                kept = _distinct(cells)
                if len(kept) >= 2 and kept[0].rstrip("：:") in _KEY_FIELDS:
                    fields.setdefault(_KEY_FIELDS[kept[0].rstrip("：:")], kept[1])
            lines.extend(SourceLine(text, hard=True) for text in table_lines(rows))
    if not any(line.text.strip() for line in lines):
        raise EmptyDocument("Word 文档中没有文字内容", path=str(path))
    mark_headings(lines)
    return lines, fields
