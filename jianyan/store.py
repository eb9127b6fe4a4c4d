"""The store of record: documents and passages in SQLite, in the data folder.

Every write of a document (insert, replace, delete) is one transaction, so an ingest interrupted
at any point leaves each document either fully stored or as it was. Ids are AUTOINCREMENT and
never reused, so derived indexes can key vectors by passage id. `generation` counts writes;
an index records the generation it was built at and knows when it is stale.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .documents import PreparedDocument
from .errors import AmbiguousRef, NotFound, StoreError
from .hashing import text_hash
from .names import shown
from .storage import storage_error

SCHEMA_VERSION = 1
DB_NAME = "jianyan.sqlite3"
ID_PREFIX, EXT_PREFIX = "id:", "ext:"  # explicit document references (`Store.resolve`)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    source_format TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    title TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    doc_number TEXT,
    issuer TEXT,
    date TEXT,
    year INTEGER,
    category TEXT,
    author TEXT,
    text TEXT NOT NULL,
    structure TEXT NOT NULL,
    extra TEXT NOT NULL,
    n_passages INTEGER NOT NULL,
    n_chars INTEGER NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_type_year ON documents(doc_type, year);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    heading_path TEXT NOT NULL,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    UNIQUE (document_id, seq)
);
CREATE INDEX IF NOT EXISTS passages_document ON passages(document_id);
"""

DOC_COLUMNS = ("id", "external_id", "source", "source_format", "title", "doc_type", "doc_number",
               "issuer", "date", "year", "category", "author", "n_passages", "n_chars", "ingested_at")


_IN_CHUNK = 900  # ids per `IN (…)`: under SQLite's variable limit; one query for any page of results


@dataclass
class StoredPassage:
    id: int
    document_id: int
    seq: int
    start: int
    end: int
    heading_path: list[str]
    text: str
    content_hash: str


@dataclass(frozen=True)
class PassageSpan:
    """Where a passage stands, without its text (what the searcher and 查重 keep in memory)."""

    id: int
    document_id: int
    start: int
    end: int
    heading_path: tuple[str, ...]


@dataclass(frozen=True)
class DocumentBrief:
    """A document's identity and the fields results and filters show (no text)."""

    id: int
    external_id: str
    title: str
    doc_type: str
    year: int | None
    category: str | None
    author: str | None


@dataclass(frozen=True)
class PassageForIndex:
    """What the indexes are built from: a passage's text with its document title and headings."""

    id: int
    document_id: int
    title: str
    heading_path: list[str]
    text: str


@dataclass(frozen=True)
class StoreSummary:
    """What a store (or a copy of it) holds: its generation and counts."""

    generation: int
    documents: int
    passages: int


@dataclass(frozen=True)
class StoreCopy:
    """What `Store.backup_to` copied: its generation and counts, and its ids (what the indexes
    copied beside it are checked against)."""

    summary: StoreSummary
    passage_ids: frozenset[int]
    document_ids: frozenset[int]


@dataclass(frozen=True)
class InvariantViolation:
    """Rows that break one of the store's own invariants; `examples`: a few of their ids."""

    kind: str  # "offsets" | "text" | "order" | "n_passages" | "orphans"
    count: int
    examples: tuple[int, ...]


# One query per invariant (`Store.invariant_violations`); each selects the offending ids.
_INVARIANT_QUERIES = {
    # 0 ≤ start ≤ end ≤ length of the document text (SQLite counts characters, as Python does)
    "offsets": "SELECT p.id FROM passages p JOIN documents d ON d.id = p.document_id "
               "WHERE p.start < 0 OR p.end < p.start OR p.end > length(d.text)",
    # passage.text == document.text[start:end]
    "text": "SELECT p.id FROM passages p JOIN documents d ON d.id = p.document_id "
            "WHERE p.start >= 0 AND p.end >= p.start AND p.end <= length(d.text) "
            "AND substr(d.text, p.start + 1, p.end - p.start) IS NOT p.text",
    # in reading order, not overlapping
    "order": "SELECT id FROM (SELECT id, start, LAG(end) OVER (PARTITION BY document_id ORDER BY seq) "
             "AS prev_end FROM passages) WHERE prev_end > start",
    # documents.n_passages is the number of its passages
    "n_passages": "SELECT d.id FROM documents d LEFT JOIN (SELECT document_id, COUNT(*) AS n FROM passages "
                  "GROUP BY document_id) c ON c.document_id = d.id WHERE COALESCE(c.n, 0) != d.n_passages",
    # every passage belongs to a document
    "orphans": "SELECT p.id FROM passages p LEFT JOIN documents d ON d.id = p.document_id WHERE d.id IS NULL",
}


class Store:
    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.path = self.data_dir / DB_NAME
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA busy_timeout = 10000")
            self._migrate()
        except (sqlite3.DatabaseError, OSError) as exc:
            mapped = storage_error(exc, self.data_dir)
            if mapped is None:
                raise StoreError(f"无法打开数据库 {self.data_dir / DB_NAME}（{exc}）") from exc
            raise mapped from exc

    # -- schema -------------------------------------------------------------------------------
    def _migrate(self) -> None:
        has_meta = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
        version = 0
        if has_meta:
            row = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoreError(f"数据库结构版本 {version} 比本程序支持的版本 {SCHEMA_VERSION} 新，请升级 jianyan")
        if version < SCHEMA_VERSION:
            self.conn.executescript(_SCHEMA)  # idempotent CREATE … IF NOT EXISTS
            with self.transaction():
                self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                                  (str(SCHEMA_VERSION),))
                self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")

    def transaction(self):
        return _Transaction(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reads --------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])

    @property
    def generation(self) -> int:
        return int(self.conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])

    def source_hash(self, external_id: str) -> str | None:
        row = self.conn.execute("SELECT source_hash FROM documents WHERE external_id=?",
                                (external_id,)).fetchone()
        return row[0] if row else None

    def count_documents(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]

    def count_passages(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0]

    @staticmethod
    def _document_filter(doc_type: str | None = None, year_from: int | None = None,
                         year_to: int | None = None, category: str | None = None,
                         title_contains: str | None = None) -> tuple[str, list[Any]]:
        clauses, args = [], []
        for sql, value in (("doc_type = ?", doc_type), ("year >= ?", year_from), ("year <= ?", year_to),
                           ("category = ?", category)):
            if value is not None:
                clauses.append(sql)
                args.append(value)
        if title_contains:
            clauses.append("instr(title, ?) > 0")
            args.append(title_contains)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    def list_documents(self, doc_type: str | None = None, limit: int | None = None,
                       offset: int = 0, newest_first: bool = False, **filters: Any) -> list[dict[str, Any]]:
        """Documents in id order (ingest order); `filters`: year_from, year_to, category, title_contains."""
        where, args = self._document_filter(doc_type, **filters)
        order = "id DESC" if newest_first else "id"
        sql = f"SELECT {', '.join(DOC_COLUMNS)} FROM documents{where} ORDER BY {order} LIMIT ? OFFSET ?"
        args += [limit if limit is not None else -1, offset]
        return [dict(r) for r in self.conn.execute(sql, args)]

    def count_matching(self, doc_type: str | None = None, **filters: Any) -> int:
        where, args = self._document_filter(doc_type, **filters)
        return self.conn.execute(f"SELECT COUNT(*) FROM documents{where}", args).fetchone()[0]

    def facets(self) -> dict[str, Any]:
        """What the documents span: counts by type, the years, the categories (for filters)."""
        types = dict(self.conn.execute("SELECT doc_type, COUNT(*) FROM documents GROUP BY doc_type"))
        years = self.conn.execute("SELECT MIN(year), MAX(year) FROM documents").fetchone()
        categories = [r[0] for r in self.conn.execute(
            "SELECT category, COUNT(*) AS n FROM documents WHERE category IS NOT NULL AND category != '' "
            "GROUP BY category ORDER BY n DESC, category LIMIT 200")]
        chars = self.conn.execute("SELECT COALESCE(SUM(n_chars), 0) FROM documents").fetchone()[0]
        return {"documents": sum(types.values()), "passages": self.count_passages(), "chars": chars,
                "by_type": types, "year_min": years[0], "year_max": years[1], "categories": categories}

    def resolve(self, ref: str | int) -> int:
        """A document's id from a reference: `id:N` (its numeric id), `ext:X` (its external id,
        everything after the prefix, as is), an int (an id), or a bare string, which may be
        either — and is refused (`AmbiguousRef`, listing both) when it is one document's id and
        another document's external id. An external id that itself begins with `id:` or `ext:`
        is written `ext:id:…`."""
        if isinstance(ref, int):
            return self._find("id", ref, ref)
        text = str(ref)
        if text.startswith(ID_PREFIX):
            number = text[len(ID_PREFIX):]
            if not _is_number(number):
                raise NotFound(f"找不到文档“{shown(text)}”：{ID_PREFIX} 后应为数字编号（外部编号请写 {EXT_PREFIX}…）")
            return self._find("id", int(number), text)
        if text.startswith(EXT_PREFIX):
            return self._find("external_id", text[len(EXT_PREFIX):], text)
        by_id = self._row("id", int(text)) if _is_number(text) else None
        by_ext = self._row("external_id", text)
        if by_id is not None and by_ext is not None and by_id["id"] != by_ext["id"]:
            a, b = dict(by_id), dict(by_ext)
            a["ref"], b["ref"] = f"{ID_PREFIX}{text}", f"{EXT_PREFIX}{text}"
            raise AmbiguousRef(
                f"“{text}”可能指两篇文档：编号为 {a['id']} 的《{a['title'] or '无标题'}》"
                f"（外部编号“{shown(a['external_id'])}”），和外部编号为“{text}”的《{b['title'] or '无标题'}》"
                f"（编号 {b['id']}）。请写 {a['ref']}（按编号）或 {b['ref']}（按外部编号）指明是哪一篇",
                [a, b])
        found = by_id if by_id is not None else by_ext
        if found is None:
            raise NotFound(f"找不到文档“{shown(text)}”")
        return found["id"]

    def _row(self, column: str, value: str | int) -> sqlite3.Row | None:
        return self.conn.execute(f"SELECT id, external_id, title FROM documents WHERE {column}=?",
                                 (value,)).fetchone()

    def _find(self, column: str, value: str | int, ref: str | int) -> int:
        row = self._row(column, value)
        if row is None:
            raise NotFound(f"找不到文档“{shown(str(ref))}”")
        return row["id"]

    def get_document(self, ref: str | int, with_text: bool = True) -> dict[str, Any]:
        doc_id = self.resolve(ref)
        row = dict(self.conn.execute("SELECT * FROM documents WHERE id=?", (doc_id,)).fetchone())
        row["structure"] = json.loads(row["structure"])
        row["extra"] = json.loads(row["extra"])
        if not with_text:
            row.pop("text")
        row["passages"] = [p.__dict__ for p in self.passages(document_id=doc_id)]
        return row

    # -- bulk reads for the indexes, the searcher and 查重 (a constant number of queries each) --
    def document_briefs(self, doc_type: str | None = None) -> dict[int, DocumentBrief]:
        where, args = self._document_filter(doc_type)
        rows = self.conn.execute(f"SELECT id, external_id, title, doc_type, year, category, author "
                                 f"FROM documents{where}", args)
        return {r[0]: DocumentBrief(*r) for r in rows}

    def passage_spans_of(self, doc_ids: list[int]) -> dict[int, list[PassageSpan]]:
        """The passages of the documents `doc_ids`, each document's in reading order."""
        rows = self._by_ids("SELECT id, document_id, start, end, heading_path, seq FROM passages "
                            "WHERE document_id IN ({})", doc_ids)
        out: dict[int, list[PassageSpan]] = {}
        for r in sorted(rows, key=lambda r: (r[1], r[5])):
            out.setdefault(r[1], []).append(PassageSpan(r[0], r[1], r[2], r[3], tuple(json.loads(r[4]))))
        return out

    def passages_by_id(self, ids: list[int]) -> dict[int, StoredPassage]:
        return {r["id"]: _passage(r) for r in self._by_ids("SELECT * FROM passages WHERE id IN ({})", ids)}

    def passage_texts(self, ids: list[int]) -> dict[int, str]:
        return dict(self._by_ids("SELECT id, text FROM passages WHERE id IN ({})", ids))

    def document_texts(self, ids: list[int]) -> dict[int, str]:
        return dict(self._by_ids("SELECT id, text FROM documents WHERE id IN ({})", ids))

    def document_titles(self) -> dict[int, str]:
        return dict(self.conn.execute("SELECT id, title FROM documents"))

    def passage_ids(self) -> set[int]:
        return set(self.passage_id_array().tolist())

    def passage_id_array(self) -> np.ndarray:
        """Every passage id, ascending (int64): what the indexes are compared with."""
        return self._id_array("passages")

    def document_id_array(self) -> np.ndarray:
        return self._id_array("documents")

    def _id_array(self, table: str) -> np.ndarray:
        """A table's ids, ascending: SQLite joins them into one string and numpy parses it (a
        million rows: ~0.3 s, against ~1 s for a Python iterator over the rows)."""
        joined = self.conn.execute(f"SELECT group_concat(id) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
        if not joined:
            return np.zeros(0, np.int64)
        return np.sort(np.fromstring(joined, dtype=np.int64, sep=","))

    def passage_lengths(self, ids: list[int]) -> int:
        """Total characters of the passages `ids`."""
        return sum(r[0] for r in self._by_ids("SELECT length(text) FROM passages WHERE id IN ({})", ids))

    def document_ids_of_type(self, ids: list[int], doc_type: str) -> list[int]:
        """Those of `ids` whose document type is `doc_type`, ascending."""
        rows = self._by_ids("SELECT id FROM documents WHERE doc_type = ? AND id IN ({})", ids, (doc_type,))
        return sorted(r[0] for r in rows)

    def titles_of(self, ids: list[int]) -> dict[int, str]:
        return dict(self._by_ids("SELECT id, title FROM documents WHERE id IN ({})", ids))

    def passages_for_index(self, ids: list[int]) -> list[PassageForIndex]:
        rows = self._by_ids("SELECT p.id, p.document_id, d.title, p.heading_path, p.text FROM passages p "
                            "JOIN documents d ON d.id = p.document_id WHERE p.id IN ({})", ids)
        return sorted((PassageForIndex(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows), key=lambda p: p.id)

    def _by_ids(self, sql: str, ids: list[int], args: tuple = ()) -> list[sqlite3.Row]:
        """`sql` with its `IN ({})` filled with `ids`, in chunks; `args` bind the `?`s before it."""
        ids = list(ids)
        rows: list[sqlite3.Row] = []
        for i in range(0, len(ids), _IN_CHUNK):
            chunk = ids[i:i + _IN_CHUNK]
            rows += self.conn.execute(sql.format(",".join("?" * len(chunk))), (*args, *chunk)).fetchall()
        return rows

    # -- read views and the WAL (the service's snapshots) ----------------------------------------
    def begin_read(self) -> None:
        """Fix this connection's view of the store until `end_read` (a deferred transaction:
        the next read takes the snapshot; in WAL mode writers on other connections go on)."""
        self.conn.execute("BEGIN")

    def end_read(self) -> None:
        self.conn.execute("COMMIT")

    def checkpoint(self) -> tuple[int, int, int]:
        """Copy the WAL into the database and restart it (busy, WAL frames, frames copied)."""
        return tuple(self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone())

    # -- checks and backups (`jianyan check`, `jianyan backup`; maintenance.py) ------------------
    def summary(self) -> StoreSummary:
        return StoreSummary(self.generation, self.count_documents(), self.count_passages())

    def document_ids(self) -> set[int]:
        return set(self.document_id_array().tolist())

    def sqlite_problems(self, thorough: bool = False) -> list[str]:
        """SQLite's own check of the file (`quick_check`; `integrity_check` when `thorough`, which
        also compares every index with its table): [] when sound, else its first findings."""
        pragma = "integrity_check" if thorough else "quick_check"
        rows = [r[0] for r in self.conn.execute(f"PRAGMA {pragma}(10)")]
        return [] if rows == ["ok"] else rows

    def invariant_violations(self, examples: int = 5) -> list[InvariantViolation]:
        """The store's own invariants that can be checked in SQL (passage offsets within the
        document text and equal to its slice, passages in order, counts, no orphans): one
        `InvariantViolation` per invariant broken, none when all hold."""
        out = []
        for kind, sql in _INVARIANT_QUERIES.items():
            count = self.conn.execute(f"SELECT COUNT(*) FROM ({sql})").fetchone()[0]
            if count:
                ids = tuple(r[0] for r in self.conn.execute(f"{sql} LIMIT {int(examples)}"))
                out.append(InvariantViolation(kind, count, ids))
        return out

    def backup_to(self, target: Path) -> StoreCopy:
        """A consistent copy of the store at `target` through SQLite's online backup API: one read
        transaction's view, while writers on other connections go on. Written under a temporary
        name, as one self-contained file (rollback journal, no WAL), checked, then renamed over
        `target`; returns what the copy holds."""
        from .atomic import replace_atomic

        held: list[StoreCopy] = []

        def produce(tmp: Path) -> None:
            for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
                leftover.unlink(missing_ok=True)
            copy = sqlite3.connect(tmp, isolation_level=None)
            try:
                self.conn.backup(copy)  # all pages in one step: one consistent view of the source
                copy.execute("PRAGMA journal_mode = DELETE")
                problems = [r[0] for r in copy.execute("PRAGMA quick_check(5)")]
                if problems != ["ok"]:
                    raise StoreError(f"备份副本未通过 SQLite 检查：{'；'.join(problems)}")
                meta = dict(copy.execute("SELECT key, value FROM meta"))
                passages = frozenset(r[0] for r in copy.execute("SELECT id FROM passages"))
                documents = frozenset(r[0] for r in copy.execute("SELECT id FROM documents"))
                held.append(StoreCopy(StoreSummary(int(meta["generation"]), len(documents), len(passages)),
                                      passages, documents))
            finally:
                copy.close()

        replace_atomic(Path(target), produce)
        return held[0]

    def passages(self, document_id: int | None = None) -> Iterator[StoredPassage]:
        sql = "SELECT * FROM passages"
        args: tuple = ()
        if document_id is not None:
            sql += " WHERE document_id=?"
            args = (document_id,)
        for r in self.conn.execute(sql + " ORDER BY document_id, seq", args):
            yield _passage(r)

    # -- writes (one transaction each) ---------------------------------------------------------
    def put_document(self, doc: PreparedDocument) -> tuple[int, str]:
        """Insert or replace a document with its passages; returns (id, 'added'|'replaced')."""
        m = doc.metadata
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self.transaction():
            old = self.conn.execute("SELECT id FROM documents WHERE external_id=?",
                                    (doc.external_id,)).fetchone()
            if old:
                self.conn.execute("DELETE FROM documents WHERE id=?", (old[0],))
            cur = self.conn.execute(
                """INSERT INTO documents (external_id, source, source_format, source_hash,
                   content_hash, title, doc_type, doc_number, issuer, date, year, category, author,
                   text, structure, extra, n_passages, n_chars, ingested_at)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (doc.external_id, doc.source, doc.source_format, doc.source_hash, text_hash(doc.text),
                 m.title, m.doc_type, m.doc_number, m.issuer, m.date, m.year, m.category, m.author,
                 doc.text, json.dumps([n.to_dict() for n in doc.structure], ensure_ascii=False),
                 json.dumps(doc.extra, ensure_ascii=False), len(doc.passages), len(doc.text), now))
            doc_id = cur.lastrowid
            self.conn.executemany(
                "INSERT INTO passages (document_id, seq, start, end, heading_path, text, content_hash)"
                " VALUES (?,?,?,?,?,?,?)",
                [(doc_id, p.seq, p.start, p.end, json.dumps(p.heading_path, ensure_ascii=False),
                  p.text, text_hash(p.text)) for p in doc.passages])
            self._bump()
        return doc_id, ("replaced" if old else "added")

    def remove_document(self, ref: str | int) -> dict[str, Any]:
        with self.transaction():
            doc_id = self.resolve(ref)
            row = dict(self.conn.execute(
                "SELECT id, external_id, title FROM documents WHERE id=?", (doc_id,)).fetchone())
            self.conn.execute("DELETE FROM documents WHERE id=?", (doc_id,))
            self._bump()
        return row

    def _bump(self) -> None:
        self.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")


def _is_number(text: str) -> bool:
    """ASCII digits SQLite can hold as an id ("²" and 40-digit strings are not ids)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def _passage(r: sqlite3.Row) -> StoredPassage:
    return StoredPassage(r["id"], r["document_id"], r["seq"], r["start"], r["end"],
                         json.loads(r["heading_path"]), r["text"], r["content_hash"])


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception (including KeyboardInterrupt)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:  # SQLite rolls back by itself on some errors (a full disk…)
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:  # the error that brought us here is the one to report
                pass
