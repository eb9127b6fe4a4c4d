"""Record exports of proposal systems (CSV, XLSX, JSONL): one document a row.

A field mapping names the column for each field, e.g.
`id=pkid,title=reason,body=content,author=personnel_name,category=type,date=publish_time`.
Fields the mapping leaves out are looked for under common column names; columns no field uses
are kept in the document's `extra`. A row that cannot be read is reported and skipped; the
rest of the file is still ingested.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from ...documents import SourceDocument, lines_from_text
from ...errors import BadFileName, CorruptFile, EmptyDocument, LimitExceeded, MappingError
from ...hashing import sha256_hex
from ...names import MAX_RECORD_ID_CHARS, name_problem, normalise
from ..encoding import decode_text
from ..limits import ReadLimits

FIELDS = ("id", "title", "body", "author", "category", "date", "year", "doc_number", "issuer",
          "doc_type")
# Column names tried, in order, for a field the mapping does not name.
GUESSES = {
    "id": ("id", "pkid", "编号", "序号"),
    "title": ("title", "reason", "标题", "案由", "题目"),
    "body": ("body", "content", "text", "正文", "内容"),
    "author": ("author", "personnel_name", "提案人", "作者"),
    "category": ("category", "类别", "分类"),
    "date": ("date", "publish_time", "日期", "提交时间", "发布时间"),
    "year": ("year", "年份", "年度"),
    "doc_number": ("doc_number", "文号", "发文字号"),
    "issuer": ("issuer", "发文机关"),
}


@dataclass
class FieldMapping:
    columns: dict[str, str] = field(default_factory=dict)  # field -> column

    @classmethod
    def parse(cls, spec: str | None) -> "FieldMapping":
        """Parse `field=column,field=column`."""
        columns: dict[str, str] = {}
        for part in (spec or "").split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise MappingError(f"字段映射“{part}”格式错误，应为 字段=列名，例如 body=content")
            key, column = (x.strip() for x in part.split("=", 1))
            if key not in FIELDS:
                raise MappingError(f"未知字段“{key}”，可用字段：{', '.join(FIELDS)}")
            columns[key] = column
        return cls(columns)

    def resolve(self, header: list[str], path: str) -> dict[str, str]:
        missing = [c for c in self.columns.values() if c not in header]
        if missing:
            raise MappingError(
                f"字段映射中的列不存在：{'、'.join(missing)}；文件中的列有：{'、'.join(header)}", path=path)
        resolved = dict(self.columns)
        lower = {h.lower(): h for h in header}
        used = set(resolved.values())
        for key, names in GUESSES.items():
            if key in resolved:
                continue
            for name in names:
                col = lower.get(name.lower())
                if col is not None and col not in used:
                    resolved[key] = col
                    used.add(col)
                    break
        if "body" not in resolved:
            raise MappingError(
                f"找不到正文列，请用 --map body=列名 指定；文件中的列有：{'、'.join(header)}", path=path)
        return resolved


@dataclass
class RecordProblem:
    source: str  # file#row
    message: str
    code: str


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


Rows = tuple[list[str], list[tuple[int, dict]], list[RecordProblem]]


def _rows_csv(path: Path, limits: ReadLimits) -> Rows:
    """Rows read strictly: a quote left open (which would swallow every later row into one
    record) or a broken quote refuses the file, naming the line; a row whose cells do not match
    the header is a problem of that row. Rows are numbered as a spreadsheet shows them (the
    header is row 1); messages add the text lines when a record spans several."""
    text, _ = decode_text(path.read_bytes(), str(path))
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    csv.field_size_limit(limits.field_chars)
    # newline="" as the csv module wants: a line may end in \r\n, \n or a lone \r (old Mac
    # exports), and a quoted field keeps its own line breaks.
    reader = csv.reader(io.StringIO(text, newline=""), dialect=dialect, strict=True)
    header: list[str] = []
    rows, problems = [], []
    rownum, first_line = 1, 1
    try:
        for cells in reader:
            lines = _lines(first_line, reader.line_num)
            first_line = reader.line_num + 1
            if not cells:  # a blank line is no record
                continue
            if not header:
                header = [c.strip() for c in cells]
                continue
            rownum += 1
            limits.check("rows", rownum - 1, str(path))
            if len(cells) != len(header):
                problems.append(RecordProblem(
                    f"{path}#{rownum}", f"第 {rownum} 行{lines}有 {len(cells)} 列，表头有 {len(header)} 列"
                    "（可能有未闭合或多余的引号、分隔符），已跳过", "corrupt"))
                continue
            rows.append((rownum, dict(zip(header, cells))))
    except csv.Error as exc:
        at = _lines(first_line, reader.line_num)
        if "field larger than field limit" in str(exc):
            raise limits.exceeded("field_chars", f"第 {rownum + 1} 行{at}", str(path)) from exc
        if "unexpected end of data" in str(exc):
            raise CorruptFile(f"第 {rownum + 1} 行{at}的引号没有闭合，其后各行都会被并入这一条记录；"
                              "文件未导入，请修正该行的引号后重新导入", path=str(path)) from exc
        raise CorruptFile(f"第 {rownum + 1} 行{at} CSV 格式错误（{exc}），文件未导入", path=str(path)) from exc
    return header, rows, problems


def _lines(first: int, last: int) -> str:
    return f"（文本第 {first}–{last} 行）" if last > first else ""


def _depth(value) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [v for x in level if isinstance(x, (dict, list))
                 for v in (x.values() if isinstance(x, dict) else x)]
    return depth - 1


def _rows_jsonl(path: Path, limits: ReadLimits) -> Rows:
    text, _ = decode_text(path.read_bytes(), str(path))
    header: list[str] = []
    rows, problems = [], []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        limits.check("rows", len(rows) + len(problems) + 1, str(path))
        source = f"{path}#{i}"
        if len(line) > limits.field_chars:
            problems.append(RecordProblem(source, f"第 {i} 行{limits.exceeded('field_chars').message}", "limit_exceeded"))
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(RecordProblem(source, f"第 {i} 行不是有效的 JSON（{exc.msg}）", "corrupt"))
            continue
        except RecursionError:
            problems.append(RecordProblem(source, f"第 {i} 行嵌套过深，已跳过", "limit_exceeded"))
            continue
        except ValueError as exc:  # e.g. a number of thousands of digits
            problems.append(RecordProblem(source, f"第 {i} 行含有无法读取的值（{str(exc)[:80]}），已跳过", "corrupt"))
            continue
        if not isinstance(obj, dict):
            problems.append(RecordProblem(source, f"第 {i} 行不是 JSON 对象", "corrupt"))
            continue
        if _depth(obj) > limits.depth:
            problems.append(RecordProblem(source, f"第 {i} 行{limits.exceeded('depth').message}", "limit_exceeded"))
            continue
        try:
            cells = {k: _cell(v) if not isinstance(v, (dict, list)) else json.dumps(v, ensure_ascii=False)
                     for k, v in obj.items()}
        except ValueError as exc:  # an integer too long to print
            problems.append(RecordProblem(source, f"第 {i} 行含有无法读取的值（{str(exc)[:80]}），已跳过", "corrupt"))
            continue
        for key in obj:
            if key not in header:
                header.append(key)
        rows.append((i, cells))
    if not rows and problems:
        raise CorruptFile("文件中没有一行有效的 JSON 记录", path=str(path))
    return header, rows, problems


def _rows_xlsx(path: Path, limits: ReadLimits) -> Rows:
    import openpyxl

    from ..filetype import check_zip

    check_zip(path).close()
    try:
        wb = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as exc:
        raise CorruptFile(f"Excel 文件已损坏，无法读取（{type(exc).__name__}）", path=str(path)) from exc
    try:
        sheet = wb.worksheets[0]
        # The declared dimension is the file's claim, not its content: without this every row of
        # a file declaring the whole sheet is padded to 16,384 cells.
        sheet.reset_dimensions()
        it = sheet.iter_rows(values_only=True)
        header = [_cell(v).strip() for v in next(it, ())]
        rows, problems = [], []
        for i, values in enumerate(it, start=2):
            limits.check("rows", i - 1, str(path))
            if values is None or all(v in (None, "") for v in values):
                continue
            cells = {h: _cell(v) for h, v in zip(header, values) if h}
            if any(len(v) > limits.field_chars for v in cells.values()):
                problems.append(RecordProblem(f"{path}#{i}", f"第 {i} 行{limits.exceeded('field_chars').message}",
                                              "limit_exceeded"))
                continue
            rows.append((i, cells))
    except (MemoryError, LimitExceeded):
        raise
    except Exception as exc:
        raise CorruptFile(f"Excel 内容损坏，无法读取（{type(exc).__name__}）", path=str(path)) from exc
    finally:
        wb.close()
    return [h for h in header if h], rows, problems


_READERS = {"csv": _rows_csv, "jsonl": _rows_jsonl, "xlsx": _rows_xlsx}


def read_records(path: Path, fmt: str, file_id: str, mapping: FieldMapping, name: str | None = None,
                 limits: ReadLimits | None = None) -> tuple[list[SourceDocument], list[RecordProblem]]:
    """`name` (default: the path) is how records are named to users: `name#row`. Every row of
    the file becomes a document or a problem: the counts add up to the rows. An id from the id
    column is a document's name: NFC, refused as file names are (`names.name_problem`)."""
    label = name or str(path)
    limits = limits or ReadLimits()
    header, rows, problems = _READERS[fmt](path, limits)
    for p in problems:  # named as the user knows the file
        p.source = p.source.replace(str(path), label, 1)
    if not header:
        raise EmptyDocument("文件中没有表头或记录", path=label)
    columns = mapping.resolve(header, label)
    used = set(columns.values())
    docs: list[SourceDocument] = []
    seen: set[str] = set()
    chars = 0  # every cell of the records kept (body, mapped fields, extra, id): the file's text
    for rownum, row in rows:
        source = f"{label}#{rownum}"
        body = (row.get(columns["body"]) or "").strip()
        if not body:
            problems.append(RecordProblem(source, f"第 {rownum} 行正文为空，已跳过", "empty"))
            continue
        ext_id = normalise((row.get(columns["id"]) or "").strip()) if "id" in columns else ""
        problem = name_problem(ext_id, f"第 {rownum} 行的编号", MAX_RECORD_ID_CHARS) if ext_id else None
        if problem:
            problems.append(RecordProblem(source, f"{problem}（该行已跳过）", BadFileName.code))
            continue
        ext_id = ext_id or f"{file_id}#{rownum}"
        if ext_id in seen:
            problems.append(RecordProblem(source, f"第 {rownum} 行编号“{ext_id}”与前面的记录重复，已跳过",
                                          "duplicate_id"))
            continue
        seen.add(ext_id)
        fields = {k: (row.get(col) or "").strip() for k, col in columns.items()
                  if k not in ("id", "body") and (row.get(col) or "").strip()}
        extra = {k: v for k, v in row.items() if k not in used and v not in (None, "")}
        chars += sum(len(v) for v in row.values())
        limits.check("chars", chars, label)
        digest = sha256_hex(json.dumps([columns, row], ensure_ascii=False, sort_keys=True))
        docs.append(SourceDocument(ext_id, source, fmt, lines_from_text(body), digest, fields, extra, rownum))
    if not docs and not problems:  # a header and nothing else: no silent "0 documents"
        raise EmptyDocument("文件中只有表头，没有记录", path=label)
    return docs, problems
