"""Ingest: read → clean → (batch boilerplate) → structure → chunk → metadata → store.

A batch is what one path argument brings: the files of a folder, or the records of one export.
Boilerplate is learnt per batch (see boilerplate.py), so the batch is read and cleaned first,
then each document is structured and stored in its own transaction.

Within one ingest call (a `jianyan ingest` run, an upload) an external id belongs to the first
document read that has it, file or record; a second is refused (`duplicate_id`), never stored
over the first. Replacing a document stored by an earlier call is how updates work.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from ..documents import Paragraph, Passage, PreparedDocument, SourceDocument
from ..errors import BadFileName, InputError, JianyanError
from ..hashing import sha256_hex
from ..names import file_id, shown, shown_path
from ..script import fold, is_traditional, restore
from ..store import Store
from .boilerplate import find_tail_boilerplate, strip_tail
from .chunk import chunk_blocks
from .clean import clean_lines
from .filetype import KNOWN_SUFFIXES
from .limits import ReadLimits
from .metadata import extract_metadata, find_addressees, find_attachments
from .readers import RECORD_FORMATS, FieldMapping, file_hash
from .sandbox import read_limited
from .structure import Structure, iter_nodes, parse_structure

log = logging.getLogger("jianyan.ingest")

# Problems of one ingest call logged one by one; the rest are counted in one line at its end
# (an export of a million bad rows must not write a million log lines).
LOGGED_PROBLEMS = 20

# Part of every document's source hash: when cleaning or structure rules change, bump it so
# that re-ingesting the same files re-processes them.
PIPELINE_VERSION = "3"


@dataclass
class Outcome:
    """What happened to one file or record."""

    source: str
    status: str  # added | replaced | unchanged | failed | skipped
    message: str = ""
    code: str = ""
    external_id: str = ""


@dataclass
class IngestReport:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    chars: int = 0
    passages: int = 0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def stored(self) -> int:
        return self.count("added") + self.count("replaced")

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def prepare(doc: SourceDocument, paragraphs: list[Paragraph], doc_type: str | None = None,
            boilerplate: set[str] | None = None) -> PreparedDocument:
    """Structure, chunk and describe one cleaned document (boilerplate removed from its text)."""
    text = "\n".join(p.text for p in paragraphs)
    folded = fold(text)  # patterns (關於…的提案, 文號) are written in simplified characters
    folded_paragraphs = _folded(paragraphs)
    metadata = extract_metadata(folded_paragraphs, folded, doc.fields, doc_type)
    if folded != text:
        for name in ("title", "doc_number", "issuer"):
            setattr(metadata, name, restore(getattr(metadata, name), folded, text))
    kept = strip_tail(paragraphs, boilerplate) if boilerplate else paragraphs
    if len(kept) != len(paragraphs):  # the tail went: fold what is left again
        paragraphs, folded_paragraphs = kept, _folded(kept)
    text, structure, passages = split_paragraphs(paragraphs)
    extra = dict(doc.extra)
    for name in ("encoding", "recognised", "converted_from"):  # how the text was read, shown with it
        if doc.fields.get(name):
            extra[name] = doc.fields[name]
    if is_traditional(text):
        extra["script"] = "traditional"
    # 主送机关 and 附件说明, found in simplified form and kept as written (shown with the document).
    folded = fold(text)
    addressees = find_addressees(folded_paragraphs) if metadata.doc_type in ("policy", "other") else None
    if addressees:
        extra["addressees"] = restore(addressees, folded, text)
    attachments = find_attachments(folded_paragraphs)
    if attachments:
        extra["attachments"] = [restore(name, folded, text) for name in attachments]
    return PreparedDocument(doc.external_id, doc.source, doc.source_format,
                            _versioned(doc.source_hash, doc_type), text, metadata,
                            structure.tree, passages, extra)


def split_paragraphs(paragraphs: list[Paragraph]) -> tuple[str, Structure, list[Passage]]:
    """Cleaned paragraphs → (text, heading structure, passages): what every text goes through,
    a stored document or a draft for 查重 alike."""
    text = "\n".join(p.text for p in paragraphs)
    ranks = {i: p.heading_rank for i, p in enumerate(paragraphs) if p.heading_rank is not None}
    folded = fold(text)  # markers such as 第一條 are matched in simplified form; offsets are the same
    structure = parse_structure(folded, ranks)
    if folded != text:
        _restore_labels(structure, folded, text)
    return text, structure, chunk_blocks(structure.blocks, text)


def _folded(paragraphs: list[Paragraph]) -> list[Paragraph]:
    return [Paragraph(fold(p.text), p.heading_rank) for p in paragraphs]


def _restore_labels(structure: Structure, folded: str, text: str) -> None:
    """Heading labels found in the folded text, written as the document writes them."""
    written: dict[str, str] = {}
    for _, node in iter_nodes(structure.tree):
        core = node.label.removesuffix("…")
        at = folded.find(core, node.start)
        if at >= 0:
            written[node.label] = text[at:at + len(core)] + node.label[len(core):]
            node.label = written[node.label]
    for block in structure.blocks:
        block.heading_path = [written.get(label, label) for label in block.heading_path]


def _versioned(source_hash: str, doc_type: str | None) -> str:
    return sha256_hex(f"{PIPELINE_VERSION}|{doc_type}|{source_hash}")


def _expand(path: Path) -> tuple[list[tuple[Path, str, str]], list[Outcome]]:
    """Files to read under `path`, each with its external id (its path relative to `path`, or a
    file's own name; `names.file_id`) and the name it is shown by; files skipped or refused."""
    if path.is_file():
        return _named([(path, (path.name,))])
    if not path.exists():
        return [], [Outcome(shown_path(str(path)), "failed", "文件或文件夹不存在", "not_found")]
    found, skipped = [], []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            f = Path(root) / name
            if f.suffix.lower() in KNOWN_SUFFIXES:
                found.append((f, f.relative_to(path).parts))
            else:
                skipped.append(Outcome(shown_path(str(f)), "skipped",
                                       f"不支持的文件类型（{f.suffix or '无扩展名'}），已跳过", "unsupported_type"))
    files, refused = _named(found)
    return files, skipped + refused


def _named(found: list[tuple[Path, tuple[str, ...]]]) -> tuple[list[tuple[Path, str, str]], list[Outcome]]:
    """Each found file with its external id and shown name, or refused: a name is never cleaned
    into another file's id (`names.py`)."""
    files, refused = [], []
    for f, parts in found:
        ext_id, problem = file_id(parts)
        if problem:
            refused.append(Outcome(shown(shown_path(str(f))), "failed", problem, BadFileName.code, ext_id))
        else:
            files.append((f, ext_id, shown_path(str(f))))
    return files, refused


@dataclass
class FileToIngest:
    """One file of a batch: where it is, its external id, and the name users know it by."""

    path: Path
    external_id: str
    name: str | None = None  # default: the path


ProgressCallback = Callable[[Outcome], None]
PagesCallback = Callable[[str, int, int], None]  # (file, pages recognised, pages to recognise)


class _Run:
    """What the batches of one ingest call share: its report, who is told of each outcome, the
    external ids its documents claimed (see the module docstring), how many problems it logged."""

    def __init__(self, on_outcome: ProgressCallback | None, on_pages: PagesCallback | None = None) -> None:
        self.report = IngestReport()
        self.on_outcome, self.on_pages = on_outcome, on_pages
        # external id → its claimant (resolved file, record row or None) and how it is named
        self.claimed: dict[str, tuple[tuple[Path, int | None], str]] = {}
        self.problems = 0

    def record(self, o: Outcome) -> None:
        self.report.outcomes.append(o)
        if self.on_outcome is not None:
            self.on_outcome(o)
        if o.status in ("failed", "skipped"):
            self.problems += 1
            if self.problems <= LOGGED_PROBLEMS:
                log.info("%s %s：%s", "跳过" if o.status == "skipped" else "导入失败", o.source, o.message)

    def claim(self, doc: SourceDocument, resolved: Path, name: str) -> str | None:
        """None when `doc` (read from the file `resolved`, known as `name`) may have its external
        id: the first document of the call to claim an id has it, and the same file given twice
        is one claimant. Otherwise why not, naming both documents."""
        who = f"{name} 第 {doc.row} 行" if doc.row is not None else name
        return self.claim_id(doc.external_id, (resolved, doc.row), who)

    def claim_id(self, external_id: str, key: tuple[Path, int | None], who: str) -> str | None:
        first_key, first = self.claimed.setdefault(external_id, (key, who))
        if first_key == key:
            return None
        if key[1] is None and first_key[1] is None:
            # Two files, one id: the same name under two folder arguments, or equal once NFC.
            advice = "同名文件请从共同的上级文件夹一起导入，外部编号即相对它的路径；或改名后再导入"
        else:
            advice = "一次导入中每篇文档的编号须各不相同；请修改记录的编号或文件名后重新导入"
        return f"外部编号“{external_id}”与本次导入的 {first} 相同，{who} 已跳过（{advice}）"

    def close(self) -> IngestReport:
        if self.problems > LOGGED_PROBLEMS:
            log.info("另有 %d 个文件或记录未能导入或被跳过，未逐条写入日志（详见导入结果）",
                     self.problems - LOGGED_PROBLEMS)
        return self.report


def ingest_paths(paths: list[str | Path], store: Store, mapping: FieldMapping | None = None,
                 doc_type: str | None = None, progress: bool = True,
                 on_outcome: ProgressCallback | None = None) -> IngestReport:
    """Ingest files and folders; each path argument is one batch (see the module docstring)."""
    run = _Run(on_outcome)
    for arg in paths:
        files, skipped = _expand(Path(arg))
        for o in skipped:
            run.record(o)
        _ingest_files([FileToIngest(f, ext_id, name) for f, ext_id, name in files], store, mapping,
                      doc_type, run, progress, shown_path(str(arg)))
    return run.close()


def ingest_files(files: list[FileToIngest], store: Store, mapping: FieldMapping | None = None,
                 doc_type: str | None = None, progress: bool = False, label: str = "上传",
                 on_outcome: ProgressCallback | None = None,
                 on_pages: PagesCallback | None = None) -> IngestReport:
    """Ingest named files as one batch (the service's uploads: saved under generated names).
    `on_pages(file, done, total)`: pages of a scan recognised so far."""
    run = _Run(on_outcome, on_pages)
    _ingest_files(files, store, mapping, doc_type, run, progress, label)
    return run.close()


def _unchanged(f: FileToIngest, store: Store, doc_type: str | None) -> bool:
    """A single-document file stored from these very bytes: not read again (a scan is not
    recognised again). Exports are compared record by record after reading."""
    known = store.source_hash(f.external_id)
    return known is not None and known == _versioned(file_hash(f.path.read_bytes()), doc_type)


def _ingest_files(files: list[FileToIngest], store: Store, mapping: FieldMapping | None,
                  doc_type: str | None, run: _Run, progress: bool, label: str) -> None:
    file_docs: list[SourceDocument] = []
    limits = ReadLimits.from_env()
    for f in files:
        shown = f.name or str(f.path)
        if _unchanged(f, store, doc_type):
            taken = run.claim_id(f.external_id, (f.path.resolve(), None), shown)
            run.record(Outcome(shown, "failed", taken, "duplicate_id", f.external_id) if taken
                       else Outcome(shown, "unchanged", "", "", f.external_id))
            continue
        t0 = time.perf_counter()
        pages = _PageProgress(shown, progress, run.on_pages)
        try:
            docs, problems = read_limited(f.path, f.external_id, mapping, f.name, limits, pages)
        except JianyanError as exc:
            run.record(Outcome(shown, "failed", exc.message, exc.code))
            continue
        finally:
            run.report.seconds["read"] += time.perf_counter() - t0
            pages.close()
        for p in problems:
            run.record(Outcome(p.source, "failed", p.message, p.code))
        kept, resolved = [], f.path.resolve()
        for doc in docs:
            taken = run.claim(doc, resolved, shown)
            if taken:
                run.record(Outcome(doc.source, "failed", taken, "duplicate_id", doc.external_id))
            else:
                kept.append(doc)
        if kept and kept[0].source_format in RECORD_FORMATS:
            _ingest_batch(kept, store, doc_type, run, progress, Path(shown).name)
        else:
            file_docs.extend(kept)
    if file_docs:
        _ingest_batch(file_docs, store, doc_type, run, progress, label)


class _PageProgress:
    """Progress of one file's scanned pages being recognised: a bar, a log line, the callback."""

    def __init__(self, shown: str, bar: bool, callback: PagesCallback | None) -> None:
        self.shown, self.show_bar, self.callback, self.bar = shown, bar, callback, None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            log.info("%s：%d 页扫描件，正在识别文字", self.shown, total)
            self.bar = tqdm(total=total, desc=f"识别 {Path(self.shown).name}"[:40], unit="页",
                            disable=not self.show_bar, leave=False)
        self.bar.update(done - self.bar.n)
        if self.callback is not None:
            self.callback(self.shown, done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _ingest_batch(docs: list[SourceDocument], store: Store, doc_type: str | None, run: _Run,
                  progress: bool, label: str) -> None:
    report, record = run.report, run.record
    t0 = time.perf_counter()
    cleaned = [clean_lines(d.lines) for d in docs]
    boilerplate = find_tail_boilerplate(cleaned)
    report.seconds["clean"] += time.perf_counter() - t0
    if boilerplate:
        log.info("%s：识别出 %d 段批量重复的结尾模板文字，已去除", label, len(boilerplate))
    bar = tqdm(total=len(docs), desc=f"导入 {label}"[:40], unit="篇", disable=not progress,
               leave=False)
    for doc, paragraphs in zip(docs, cleaned):
        bar.update(1)
        try:
            if store.source_hash(doc.external_id) == _versioned(doc.source_hash, doc_type):
                record(Outcome(doc.source, "unchanged", "", "", doc.external_id))
                continue
            if not any(p.text.strip() for p in paragraphs):
                raise InputError("清理后没有可导入的文字内容", path=doc.source)
            t1 = time.perf_counter()
            prepared = prepare(doc, paragraphs, doc_type, boilerplate)
            t2 = time.perf_counter()
            _, status = store.put_document(prepared)
            t3 = time.perf_counter()
        except JianyanError as exc:
            record(Outcome(doc.source, "failed", exc.message, exc.code, doc.external_id))
            continue
        except (RecursionError, ValueError, IndexError, KeyError, TypeError) as exc:
            # A defect of ours on an odd document must not fail the rest of its batch.
            record(Outcome(doc.source, "failed", f"处理文档时出错（{type(exc).__name__}），已跳过",
                           "internal", doc.external_id))
            log.exception("处理文档出错 %s", doc.source)
            continue
        report.seconds["structure"] += t2 - t1
        report.seconds["store"] += t3 - t2
        report.chars += len(prepared.text)
        report.passages += len(prepared.passages)
        record(Outcome(doc.source, status, "", "", doc.external_id))
    bar.close()
