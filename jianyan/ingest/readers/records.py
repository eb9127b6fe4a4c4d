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
from ...errors import CorruptFile, EmptyDocument, MappingError
from ...hashing import sha256_hex
from ..encoding import decode_text

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


def _rows_csv(path: Path) -> tuple[list[str], list[tuple[int, dict]], list[RecordProblem]]:
    text, _ = decode_text(path.read_bytes(), str(path))
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    csv.field_size_limit(1 << 28)
    try:
        reader = csv.DictReader(io.StringIO(text), dialect=dialect)
        header = list(reader.fieldnames or [])
        rows = [(i, row) for i, row in enumerate(reader, start=2)]
    except csv.Error as exc:
        raise CorruptFile(f"CSV 文件格式错误（{exc}）", path=str(path)) from exc
    return header, rows, []


def _rows_jsonl(path: Path) -> tuple[list[str], list[tuple[int, dict]], list[RecordProblem]]:
    text, _ = decode_text(path.read_bytes(), str(path))
    header: list[str] = []
    rows, problems = [], []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(RecordProblem(f"{path}#{i}", f"第 {i} 行不是有效的 JSON（{exc.msg}）", "corrupt"))
            continue
        if not isinstance(obj, dict):
            problems.append(RecordProblem(f"{path}#{i}", f"第 {i} 行不是 JSON 对象", "corrupt"))
            continue
        for key in obj:
            if key not in header:
                header.append(key)
        rows.append((i, {k: _cell(v) if not isinstance(v, (dict, list)) else json.dumps(v, ensure_ascii=False)
                         for k, v in obj.items()}))
    if not rows and problems:
        raise CorruptFile("文件中没有一行有效的 JSON 记录", path=str(path))
    return header, rows, problems


def _rows_xlsx(path: Path) -> tuple[list[str], list[tuple[int, dict]], list[RecordProblem]]:
    import openpyxl

    from ..filetype import check_zip

    check_zip(path).close()
    try:
        wb = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except Exception as exc:
        raise CorruptFile(f"Excel 文件已损坏，无法读取（{type(exc).__name__}）", path=str(path)) from exc
    try:
        sheet = wb.worksheets[0]
        it = sheet.iter_rows(values_only=True)
        header = [_cell(v).strip() for v in next(it, ())]
        rows = []
        for i, values in enumerate(it, start=2):
            if values is None or all(v in (None, "") for v in values):
                continue
            rows.append((i, {h: _cell(v) for h, v in zip(header, values) if h}))
    except Exception as exc:
        raise CorruptFile(f"Excel 内容损坏，无法读取（{type(exc).__name__}）", path=str(path)) from exc
    finally:
        wb.close()
    return [h for h in header if h], rows, []


_READERS = {"csv": _rows_csv, "jsonl": _rows_jsonl, "xlsx": _rows_xlsx}


def read_records(path: Path, fmt: str, file_id: str, mapping: FieldMapping, name: str | None = None
                 ) -> tuple[list[SourceDocument], list[RecordProblem]]:
    """`name` (default: the path) is how records are named to users: `name#row`."""
    label = name or str(path)
    header, rows, problems = _READERS[fmt](path)
    if not header:
        raise EmptyDocument("文件中没有表头或记录", path=label)
    columns = mapping.resolve(header, label)
    used = set(columns.values())
    docs: list[SourceDocument] = []
    seen: set[str] = set()
    for rownum, row in rows:
        source = f"{label}#{rownum}"
        body = (row.get(columns["body"]) or "").strip()
        if not body:
            problems.append(RecordProblem(source, f"第 {rownum} 行正文为空，已跳过", "empty"))
            continue
        ext_id = (row.get(columns["id"]) or "").strip() if "id" in columns else ""
        ext_id = ext_id or f"{file_id}#{rownum}"
        if ext_id in seen:
            problems.append(RecordProblem(source, f"第 {rownum} 行编号“{ext_id}”与前面的记录重复，已跳过",
                                          "duplicate_id"))
            continue
        seen.add(ext_id)
        fields = {k: (row.get(col) or "").strip() for k, col in columns.items()
                  if k not in ("id", "body") and (row.get(col) or "").strip()}
        extra = {k: v for k, v in row.items() if k not in used and v not in (None, "")}
        digest = sha256_hex(json.dumps([columns, row], ensure_ascii=False, sort_keys=True))
        docs.append(SourceDocument(ext_id, source, fmt, lines_from_text(body), digest, fields, extra))
    return docs, problems
