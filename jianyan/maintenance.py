"""Checks, repair, backup and restore of one data folder (`jianyan check | backup | restore`).

The store (`jianyan.sqlite3`) is the record; `<data>/index/` and `<data>/cache/` are derived.

- `check` compares them: the SQLite file (`quick_check`, or `integrity_check` when thorough), the
  store's own invariants that SQL can check cheaply (passage offsets within the document text and
  equal to its slice, order, counts), then the indexes against the store — the model and the
  generation `index.json` names, and the id sets of the vector index, the keyword index and the
  title vectors — and the embedding cache (readable, every vector of its model's size). The
  result is a `CheckReport`, one `Finding` per check, each saying what holds or what differs.
- `repair` brings the derived data back in step: a sync when ids or the generation differ (sync
  works from id sets, so it converges), a full rebuild when an index file cannot be read or
  trusted or was built with another model, wrong-sized or unreadable cache entries dropped. It
  never writes to the store: a damaged store is reported, with restore as the way out.
- `backup` copies the store through SQLite's online backup API (a consistent view while writers
  go on, written under a temporary name and renamed), the indexes only when they are exactly those
  of the copied store (checked on the copy: same generation, same id sets), and a manifest last:
  a folder without its manifest is not a backup.
- `restore` verifies a backup (only plain files, every manifest field of its type, checksums),
  copies it into `<data>/restore.tmp` and checks the copied store as `check` does (quick_check,
  invariants, the manifest's counts), and only then renames it into an empty data folder (or any
  with `force`); then runs `repair`: indexes that were not backed up are rebuilt. A refused
  backup leaves the data folder as it was.

Writes (`repair`, `restore`) hold the folder's write lock (`Library.writing`); `check` and
`backup` only read, and can run while `jianyan serve` holds it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import __version__
from .atomic import replace_atomic, write_json_atomic
from .embed.cache import EmbeddingCache
from .errors import BackupError, JianyanError
from .index.sync import META_FILE, SearchIndexes, SyncReport, index_dir, index_file_paths, load_indexes, read_index_meta
from .store import DB_NAME, InvariantViolation, Store, StoreCopy, StoreSummary

log = logging.getLogger("jianyan.maintenance")

CACHE_FILE = Path("cache") / "embeddings.sqlite3"
MANIFEST = "manifest.json"
BACKUP_FORMAT = "jianyan-backup"
BACKUP_VERSION = 1
LOCK_FILE = "write.lock"  # writelock.py's; not content: a folder holding only it is empty

# What `repair` does about a finding, in rising order of cost.
SYNC, REBUILD, CACHE, STORE = "sync", "rebuild", "cache", "store"  # STORE: nothing (restore a backup)

_VIOLATIONS = {
    "offsets": ("段落位置超出文档正文", "段落"),
    "text": ("段落文字与文档正文对应位置的文字不同", "段落"),
    "order": ("段落顺序错乱或相互重叠", "段落"),
    "n_passages": ("文档记录的段落数与实际段落数不同", "文档"),
    "orphans": ("段落不属于任何文档", "段落"),
}


@dataclass(frozen=True)
class Finding:
    """One check: `ok`, and in `detail` (Chinese) what holds or what differs; `remedy` is what
    `repair` does about a failed one (SYNC, REBUILD, CACHE, or STORE: nothing it can do)."""

    key: str  # sqlite | store | meta | model | generation | vectors | keyword | titles | cache
    name: str
    ok: bool
    detail: str
    remedy: str = ""

    def line(self) -> str:
        return f"{'✔' if self.ok else '✘'} {self.name}：{self.detail}"


@dataclass
class CheckReport:
    data_dir: Path
    findings: list[Finding]
    summary: StoreSummary | None = None  # the store's generation and counts (None: no readable store)
    seconds: float = 0.0

    @property
    def consistent(self) -> bool:
        return all(f.ok for f in self.findings)

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    def remedies(self) -> set[str]:
        return {f.remedy for f in self.failed if f.remedy}

    def get(self, key: str) -> Finding | None:
        return next((f for f in self.findings if f.key == key), None)

    def lines(self) -> list[str]:
        return [f.line() for f in self.findings]

    def to_dict(self) -> dict:
        return {"consistent": self.consistent, "findings": [asdict(f) for f in self.findings],
                "store": asdict(self.summary) if self.summary else None, "seconds": round(self.seconds, 3)}


@dataclass
class RepairReport:
    before: CheckReport
    after: CheckReport
    actions: list[str] = field(default_factory=list)  # what was done (or left), in Chinese
    sync: SyncReport | None = None

    @property
    def consistent(self) -> bool:
        return self.after.consistent


@dataclass
class BackupReport:
    folder: Path
    manifest: dict
    seconds: float = 0.0

    @property
    def indexes(self) -> bool:
        return bool(self.manifest.get("indexes"))


@dataclass
class RestoreReport:
    manifest: dict
    indexes_restored: bool
    repair: RepairReport


# -- check ----------------------------------------------------------------------------------------
def check(data_dir: str | Path, *, thorough: bool = False, model_id: str | None = None) -> CheckReport:
    """Check a data folder (see the module docstring); `model_id`: the model the indexes should
    have been built with (default: the configured one, `engines.configured_model_id`)."""
    data_dir = Path(data_dir)
    started = time.perf_counter()
    report = CheckReport(data_dir, [])
    try:
        _check_into(report, thorough, model_id)
    finally:
        report.seconds = time.perf_counter() - started
    return report


def _check_into(report: CheckReport, thorough: bool, model_id: str | None) -> None:
    ids = _check_store(report, thorough)
    if ids is None:
        return
    data_dir = report.data_dir
    report.findings.extend(index_findings(data_dir, report.summary.generation, *ids, model_id=model_id,
                                          check_model=True))
    report.findings.append(_cache_finding(data_dir / CACHE_FILE, _expected_cache(data_dir)))


def _check_store(report: CheckReport, thorough: bool) -> tuple[set[int], set[int]] | None:
    """The store part of `check` (also `restore`'s check of a backup before it is installed):
    the SQLite file, then the store's invariants, into `report` (its findings and summary).
    Returns the store's (passage ids, document ids), or None when it could not be read."""
    data_dir, out = report.data_dir, report.findings
    pragma = "integrity_check" if thorough else "quick_check"
    if not (data_dir / DB_NAME).is_file():
        out.append(Finding("sqlite", "文档库文件", False, f"{data_dir / DB_NAME} 不存在（还没有导入过文档？）", STORE))
        return None
    try:
        store = Store(data_dir)
    except JianyanError as exc:
        out.append(Finding("sqlite", "文档库文件", False, f"无法打开：{exc.message}；请用 jianyan restore 从备份恢复",
                           STORE))
        return None
    with store:
        try:
            problems = store.sqlite_problems(thorough)
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems:
            out.append(Finding("sqlite", "文档库文件", False,
                               f"{pragma} 发现损坏：{'；'.join(problems[:3])}；不据此检查索引，请用 jianyan restore 从备份恢复",
                               STORE))
            return None
        out.append(Finding("sqlite", "文档库文件", True, f"完整（{pragma} 通过）"))
        try:
            violations = store.invariant_violations()
            report.summary = store.summary()
            ids = store.passage_ids(), store.document_ids()
        except sqlite3.DatabaseError as exc:
            out.append(Finding("store", "文档库内容", False, f"读取出错（{exc}）；请用 jianyan restore 从备份恢复", STORE))
            return None
    out.append(_store_finding(violations, report.summary))
    return ids


def _store_finding(violations: list[InvariantViolation], summary: StoreSummary) -> Finding:
    if not violations:
        return Finding("store", "文档库内容", True,
                       f"{summary.documents} 篇文档、{summary.passages} 个段落，段落位置与正文相符（第 {summary.generation} 版）")
    parts = []
    for v in violations:
        what, unit = _VIOLATIONS.get(v.kind, (v.kind, "行"))
        parts.append(f"{what}：{v.count} 处（如{unit} {'、'.join(map(str, v.examples))}）")
    return Finding("store", "文档库内容", False,
                   "；".join(parts) + "。这是文档库本身的问题，修复不改动文档：请重新导入这些文档，或从备份恢复", STORE)


def index_findings(root: Path, generation: int, passage_ids: set[int], document_ids: set[int], *,
                   model_id: str | None = None, check_model: bool = True) -> list[Finding]:
    """The index files in `root/index/` against a store's generation and ids (also used by
    `backup` on its copy, without the model check: a backup keeps whatever model built its indexes)."""
    folder = index_dir(root)
    try:
        meta = read_index_meta(root)
    except Exception as exc:  # noqa: BLE001 - whatever the file holds, the index cannot be trusted
        return [Finding("meta", "索引元数据", False, f"{folder / META_FILE} 无法读取（{_reason(exc)}），需要重建", REBUILD)]
    if meta is None:
        return [Finding("meta", "索引元数据", False, f"还没有索引（{folder / META_FILE} 不存在）", SYNC)]
    dim = meta.get("dim")
    if not isinstance(dim, int) or not isinstance(meta.get("model_id"), str):
        return [Finding("meta", "索引元数据", False, f"{META_FILE} 缺少模型或维度，需要重建", REBUILD)]
    out = [Finding("meta", "索引元数据", True, f"可读（{meta['model_id']}，{dim} 维，建于 {meta.get('built_at', '?')}）")]
    if check_model:
        out.append(_model_finding(meta["model_id"], model_id))
    built_at = meta.get("generation")
    if built_at == generation:
        out.append(Finding("generation", "索引版本", True, f"与文档库相同（第 {generation} 版）"))
    else:
        out.append(Finding("generation", "索引版本", False,
                           f"索引建于文档库第 {built_at} 版，文档库现在是第 {generation} 版", SYNC))
    try:
        indexes = load_indexes(root)
    except Exception as exc:  # noqa: BLE001 - a truncated or foreign file: numpy, JSON or FAISS errors
        return out + [Finding("vectors", "向量索引", False, f"索引段无法读取（{_reason(exc)}），需要重建", REBUILD)]
    out.append(_vectors_finding(indexes, passage_ids))
    out.append(_keyword_finding(indexes, passage_ids))
    out.append(_titles_finding(indexes, document_ids))
    return out


def _model_finding(built_with: str, configured: str | None) -> Finding:
    if configured is None:
        from .embed.engines import configured_model_id

        try:
            configured = configured_model_id()
        except JianyanError as exc:
            return Finding("model", "嵌入模型", False, f"无法确定配置的模型：{exc.message}")
    if built_with == configured:
        return Finding("model", "嵌入模型", True, f"索引与配置的模型相同（{configured}）")
    return Finding("model", "嵌入模型", False,
                   f"索引由“{built_with}”构建，配置的模型是“{configured}”：两者的向量不能混用，需要用配置的模型重建",
                   REBUILD)


def _vectors_finding(indexes: SearchIndexes, passage_ids: set[int]) -> Finding:
    name = "向量索引"
    ids = indexes.vectors.ids()
    if len(set(ids.tolist())) != len(ids):
        return Finding("vectors", name, False, f"有重复的段落编号（{len(ids)} 条向量），需要重建", REBUILD)
    finding = _ids_finding("vectors", name, set(ids.tolist()), passage_ids, "段")
    if finding.ok and indexes.meta.get("passages") != len(ids):  # ids right, index.json wrong: only a rebuild rewrites it
        return Finding("vectors", name, False,
                       f"{META_FILE} 记录 {indexes.meta.get('passages')} 段，文件里有 {len(ids)} 段：元数据与文件不符，需要重建",
                       REBUILD)
    return finding


def _keyword_finding(indexes: SearchIndexes, passage_ids: set[int]) -> Finding:
    name = "关键词索引"
    without = [p.segment.name for p in indexes.passage_segments.parts if not p.segment.keyword]
    if without:
        return Finding("keyword", name, False, f"索引段 {'、'.join(without[:3])} 没有关键词部分，需要重建", REBUILD)
    return _ids_finding("keyword", name, set(indexes.keyword.ids.tolist()), passage_ids, "段")


def _titles_finding(indexes: SearchIndexes, document_ids: set[int]) -> Finding:
    name = "标题向量"
    ids = indexes.titles.ids
    if len(set(ids.tolist())) != len(ids):
        return Finding("titles", name, False, f"有重复的文档编号（{len(ids)} 个标题向量），需要重建", REBUILD)
    return _ids_finding("titles", name, set(ids.tolist()), document_ids, "篇")


def _ids_finding(key: str, name: str, have: set[int], want: set[int], unit: str) -> Finding:
    missing, extra = want - have, have - want
    if not missing and not extra:
        return Finding(key, name, True, f"{len(have)} {unit}，编号与文档库一致")
    parts = [f"文档库 {len(want)} {unit}，索引 {len(have)} {unit}"]
    if missing:
        parts.append(f"缺 {len(missing)} {unit}（编号 {_examples(missing)}）")
    if extra:
        parts.append(f"多 {len(extra)} {unit}（编号 {_examples(extra)}，文档库已没有）")
    return Finding(key, name, False, "，".join(parts), SYNC)


def _expected_cache(data_dir: Path) -> tuple[str, int] | None:
    """(model id, dimension) the cache's vectors of the index's model must have, when known."""
    try:
        meta = read_index_meta(data_dir)
    except Exception:  # noqa: BLE001 - reported by the index findings
        return None
    if meta and isinstance(meta.get("dim"), int):
        return meta["model_id"], meta["dim"]
    return None


def _cache_finding(path: Path, expected: tuple[str, int] | None) -> Finding:
    name = "向量缓存"
    if not path.exists():
        return Finding("cache", name, True, "没有缓存（派生数据：重建索引时会重新向量化）")
    try:
        cache = EmbeddingCache(path)
        try:
            problems = cache.problems()
            sizes = cache.vector_sizes() if not problems else {}
        finally:
            cache.close()
    except sqlite3.Error as exc:
        return Finding("cache", name, False, f"{path} 无法读取（{exc}），修复时删除（派生数据）", CACHE)
    if problems:
        return Finding("cache", name, False, f"{path} 已损坏（{'；'.join(problems[:2])}），修复时删除（派生数据）", CACHE)
    bad = _bad_cache_sizes(sizes, expected)
    total = sum(sizes.values())
    if bad:
        n = sum(sizes[k] for k in bad)
        models = "、".join(sorted({m for m, _ in bad}))
        return Finding("cache", name, False, f"{total} 条中有 {n} 条向量维度不对（模型 {models}），修复时删除这些条目", CACHE)
    return Finding("cache", name, True, f"可读，{total} 条向量，维度正确")


def _bad_cache_sizes(sizes: dict[tuple[str, int], int], expected: tuple[str, int] | None) -> list[tuple[str, int]]:
    """(model, bytes) groups of wrong-sized vectors: for the index's model, any other size than
    its dimension's; for other models (dimension unknown here), all but the most common size."""
    bad = []
    for model in {m for m, _ in sizes}:
        groups = {n: c for (m, n), c in sizes.items() if m == model}
        if expected is not None and model == expected[0]:
            right = expected[1] * 4
        else:
            right = max(groups, key=lambda n: (groups[n], n))
        bad += [(model, n) for n in groups if n != right or n == 0]
    return bad


def _examples(ids: set[int], n: int = 5) -> str:
    first = sorted(ids)[:n]
    return "、".join(map(str, first)) + ("…" if len(ids) > n else "")


def _reason(exc: BaseException) -> str:
    """An exception in a few words: its class and the first line of its message."""
    text = getattr(exc, "message", "") or str(exc).strip()
    text = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


# -- repair ---------------------------------------------------------------------------------------
def repair(data_dir: str | Path, *, embedder=None, thorough: bool = False, rebuild_for_model: bool = True,
           progress: bool = False, before: CheckReport | None = None) -> RepairReport:
    """Check, then bring the derived data back in step with the store (module docstring), then
    check again. `rebuild_for_model=False` (the service at start) leaves an index built with
    another model as it is: re-embedding a whole store is for a person to decide (`jianyan reindex`).
    `before`: a check of the folder just made, with nothing written since (the service's at
    start, under its lock), used instead of checking again."""
    from .library import Library

    if not (Path(data_dir) / DB_NAME).is_file():  # before the lock, which would make the folder
        before = before or check(data_dir)
        return RepairReport(before, before, ["数据文件夹里没有文档库，无可修复（先用 jianyan ingest 导入文档，"
                                             "或用 jianyan restore 恢复备份）"])
    library = Library(data_dir)
    with library.writing():
        before = before or check(data_dir, thorough=thorough)
        if before.consistent:
            return RepairReport(before, before, ["无需修复"])
        result = RepairReport(before, before)
        remedies = before.remedies()
        if STORE in remedies:
            result.actions.append("文档库本身有问题：修复不改动文档，只能用 jianyan restore 从备份恢复（或重新导入有问题的文档）")
            if not before.get("sqlite").ok or before.summary is None:
                return result  # the indexes are not rebuilt from a damaged file
        if CACHE in remedies:
            result.actions += _repair_cache(Path(data_dir) / CACHE_FILE, _expected_cache(Path(data_dir)))
        model = before.get("model")
        if model is not None and not model.ok and not rebuild_for_model:
            result.actions.append(f"未自动重建索引（{model.detail}）：确认后请运行 jianyan reindex")
        elif REBUILD in remedies:
            result.sync = library.sync(embedder, rebuild=True, progress=progress)
            s = result.sync
            result.actions.append(f"已重建索引（{s.engine}）：{s.added} 段，向量化 {s.embedded_chars} 字，"
                                  f"{s.cached_chars} 字取自缓存，用时 {s.seconds:.1f} 秒")
        elif SYNC in remedies:
            result.sync = library.sync(embedder, progress=progress)
            s = result.sync
            result.actions.append(f"已同步索引（{s.engine}）：新增 {s.added} 段，删除 {s.removed} 段，"
                                  f"向量化 {s.embedded_chars} 字，索引现为文档库第 {before.summary.generation} 版")
        result.after = check(data_dir, thorough=thorough)
        return result


def _repair_cache(path: Path, expected: tuple[str, int] | None) -> list[str]:
    try:
        cache = EmbeddingCache(path)
        try:
            if cache.problems():
                raise sqlite3.DatabaseError("quick_check")
            bad = _bad_cache_sizes(cache.vector_sizes(), expected)
            dropped = sum(cache.drop(model, n) for model, n in bad)
        finally:
            cache.close()
        return [f"已从向量缓存删除 {dropped} 条维度不对的向量"]
    except sqlite3.Error:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return [f"已删除损坏的向量缓存 {path}（派生数据：需要时重新向量化）"]


def log_repair(report: RepairReport, logger: logging.Logger = log) -> None:
    """What a check found and a repair did, in the log (the service at start)."""
    if report.before.consistent:
        logger.info("一致性检查通过（%d 项，用时 %.1f 秒）", len(report.before.findings), report.before.seconds)
        return
    for finding in report.before.failed:
        logger.warning("一致性检查：%s", finding.line())
    for action in report.actions:
        logger.warning("一致性修复：%s", action)
    if report.after.consistent:
        logger.info("已修复：文档库与索引现在一致")
    else:
        for finding in report.after.failed:
            logger.error("修复后仍不一致：%s", finding.line())


# -- backup ---------------------------------------------------------------------------------------
def backup(data_dir: str | Path, dest: str | Path) -> BackupReport:
    """Copy the data folder's store (and its indexes, when they match it) into `dest` (module
    docstring). Safe while the service or another process writes; takes no lock."""
    data_dir, dest = Path(data_dir), Path(dest)
    started = time.perf_counter()
    if not (data_dir / DB_NAME).is_file():
        raise BackupError(f"数据文件夹 {data_dir} 里没有文档库（{DB_NAME}），没有可备份的内容")
    if dest.exists() and not dest.is_dir():
        raise BackupError(f"{dest} 不是文件夹，不能备份到这里")
    if dest.exists() and _same(dest, data_dir):
        raise BackupError(f"不能备份到数据文件夹本身（{dest}），请换一个文件夹")
    if dest.exists() and any(dest.iterdir()) and not (dest / MANIFEST).is_file():
        raise BackupError(f"{dest} 不是空文件夹，也不是 jianyan 的备份：为免覆盖其中的文件，请换一个空文件夹")
    dest.mkdir(parents=True, exist_ok=True)
    (dest / MANIFEST).unlink(missing_ok=True)  # until the new manifest is written, the folder is no backup
    with Store(data_dir) as store:
        copied = store.backup_to(dest / DB_NAME)
    held = copied.summary
    meta, indexes, note = _backup_indexes(data_dir, dest, copied)
    files = {DB_NAME: _file_entry(dest / DB_NAME)}
    if indexes:
        files.update({f"index/{name}": _file_entry(dest / "index" / name)
                      for name in index_file_paths(dest / "index", meta)})
    manifest = {"format": BACKUP_FORMAT, "version": BACKUP_VERSION, "jianyan_version": __version__,
                "created_at": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
                "source": str(data_dir.resolve()), "generation": held.generation, "documents": held.documents,
                "passages": held.passages, "model_id": (meta or {}).get("model_id"), "indexes": indexes,
                "indexes_note": note, "files": files}
    write_json_atomic(dest / MANIFEST, manifest)
    report = BackupReport(dest, manifest, time.perf_counter() - started)
    log.info("已备份 %s 到 %s：第 %d 版，%d 篇，索引%s", data_dir, dest, held.generation, held.documents,
             "已备份" if indexes else f"未备份（{note}）")
    return report


def _backup_indexes(data_dir: Path, dest: Path, copied: StoreCopy) -> tuple[dict | None, bool, str]:
    """Copy the indexes into `dest/index` when they are those of the copied store: staged first,
    then checked against the copy (a sync may replace a file while it is copied), then renamed.
    Returns (the indexes' metadata, whether they were copied, why not)."""
    held = copied.summary
    target, staging = dest / "index", dest / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    try:
        meta = read_index_meta(data_dir)
    except Exception as exc:  # noqa: BLE001
        return None, False, f"索引元数据无法读取（{_reason(exc)}），恢复时重建"
    if meta is None:
        return None, False, "数据文件夹还没有索引，恢复时重建"
    if meta.get("generation") != held.generation:
        return meta, False, (f"索引建于第 {meta.get('generation')} 版，备份的文档库是第 {held.generation} 版，"
                             f"恢复时同步")
    staged = index_dir(staging)
    staged.mkdir(parents=True)
    source = index_dir(data_dir)
    try:  # segments are never changed once written, tombstones and index.json renamed into place whole
        for name in index_file_paths(source, meta):
            (staged / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, staged / name)
    except FileNotFoundError:  # a sync replaced a segment while it was copied
        shutil.rmtree(staging, ignore_errors=True)
        return meta, False, "复制时索引被同步替换，恢复时同步"
    findings = index_findings(staging, held.generation, copied.passage_ids, copied.document_ids,
                              check_model=False)
    if not all(f.ok for f in findings):
        shutil.rmtree(staging, ignore_errors=True)
        differs = "；".join(f.line() for f in findings if not f.ok)
        return meta, False, f"复制时索引与备份的文档库不一致（{differs}），恢复时同步"
    meta = read_index_meta(staging)
    os.replace(staged, target)
    shutil.rmtree(staging, ignore_errors=True)
    return meta, True, ""


def _file_entry(path: Path) -> dict:
    return {"bytes": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


# -- restore --------------------------------------------------------------------------------------
RESTORE_STAGING = "restore.tmp"  # in the data folder: the backup's copy, checked before it replaces anything


def _count(value) -> bool:
    return type(value) is int and value >= 0  # not a bool, not negative


def _text(value) -> bool:
    return isinstance(value, str)


# Every field `backup` writes into the manifest: how to tell it is right, and what it must be (Chinese).
_MANIFEST_FIELDS = {
    "format": (_text, "文字"), "version": (_count, "非负整数"), "jianyan_version": (_text, "文字"),
    "created_at": (_text, "文字"), "source": (_text, "文字"), "generation": (_count, "非负整数"),
    "documents": (_count, "非负整数"), "passages": (_count, "非负整数"),
    "model_id": (lambda v: v is None or _text(v), "文字或 null"),
    "indexes": (lambda v: type(v) is bool, "布尔值（true 或 false）"), "indexes_note": (_text, "文字"),
    "files": (lambda v: isinstance(v, dict), "对象"),
}
_FILE_FIELDS = {"bytes": (_count, "非负整数"),
                "sha256": (lambda v: _text(v) and len(v) == 64 and all(c in "0123456789abcdef" for c in v),
                           "64 位十六进制校验和")}


def read_backup(src: str | Path) -> dict:
    """A backup's manifest, once the folder is shown to be a whole jianyan backup (nothing in it
    but plain files and folders; a manifest with every field of the right type; every file it
    lists present, with its size and checksum); else `BackupError` saying what is wrong."""
    src = Path(src)
    if not src.is_dir():
        raise BackupError(f"{src} 不是文件夹，不是 jianyan 的备份")
    path = src / MANIFEST
    if not path.is_file():
        raise BackupError(f"{src} 不是 jianyan 的备份（没有 {MANIFEST}；备份未完成时也没有它），未做任何改动")
    _refuse_links(src)  # the manifest too, before it is read
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BackupError(f"{path} 无法读取（{exc}），不是 jianyan 的备份") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise BackupError(f"{path} 不是 jianyan 的备份清单，未做任何改动")
    version = manifest.get("version")
    if _count(version) and version > BACKUP_VERSION:
        raise BackupError(f"备份格式版本 {version} 比本程序支持的 {BACKUP_VERSION} 新，请升级 jianyan 后再恢复")
    _check_fields(path, "", manifest, _MANIFEST_FIELDS)
    files = manifest["files"]
    if DB_NAME not in files or not all(_backup_name(name) for name in files):
        raise BackupError(f"{path} 列出的文件不对（应有 {DB_NAME}），不是完整的 jianyan 备份")
    for name, entry in files.items():
        if not isinstance(entry, dict):
            raise BackupError(f"{path} 中文件 {name} 的记录应为对象，不是完整的 jianyan 备份清单，未做任何改动")
        _check_fields(path, f"files.{name}.", entry, _FILE_FIELDS)
        file = src / name
        if not file.is_file():
            raise BackupError(f"备份不完整：缺少 {file}")
        if file.stat().st_size != entry["bytes"] or _sha256(file) != entry["sha256"]:
            raise _damaged(file)
    return manifest


def _backup_name(name: str) -> bool:
    """The store, or a file of the index (`index/…`, plain names only: never `..`)."""
    if name == DB_NAME:
        return True
    parts = name.split("/")
    return len(parts) in (2, 3) and parts[0] == "index" and all(
        p and p not in (".", "..") and "\\" not in p for p in parts[1:])


def _refuse_links(folder: Path) -> None:
    """Refuse a backup holding anything but plain files and folders: through a symbolic link a
    restore would install a file from anywhere, and a device or pipe is no backup's."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                _refuse_links(Path(entry.path))
            elif entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                kind = "符号链接" if entry.is_symlink() else "特殊文件（不是普通文件或文件夹）"
                raise BackupError(f"备份中的 {entry.path} 是{kind}：备份里只应有普通文件，不能据此恢复，未做任何改动")


def _check_fields(path: Path, prefix: str, record: dict, fields: dict) -> None:
    for name, (right, what) in fields.items():
        if name not in record:
            raise BackupError(f"{path} 缺少字段 {prefix}{name}，不是完整的 jianyan 备份清单，未做任何改动")
        if not right(record[name]):
            shown = json.dumps(record[name], ensure_ascii=False)
            raise BackupError(f"{path} 的字段 {prefix}{name} 应为{what}，实为 {shown[:60]}："
                              f"不是完整的 jianyan 备份清单，未做任何改动")


def _damaged(file: Path) -> BackupError:
    return BackupError(f"备份已损坏：{file} 与清单记录的大小或校验和不符，不能据此恢复")


def restore(src: str | Path, data_dir: str | Path, *, force: bool = False, embedder=None,
            progress: bool = False) -> RestoreReport:
    """Install the backup in `src` into `data_dir` (empty, or anything with `force`: its store and
    indexes are replaced; its embedding cache, keyed by text, is kept), then check and repair.
    The backup is copied into `data_dir/restore.tmp` and its store checked there first (SQLite's
    quick_check, the store's invariants, the counts the manifest names): a backup refused at any
    point leaves the data folder as it was."""
    from .library import Library

    src, data_dir = Path(src), Path(data_dir)
    manifest = read_backup(src)
    if data_dir.exists() and not data_dir.is_dir():
        raise BackupError(f"{data_dir} 不是文件夹，不能恢复到这里")
    if data_dir.exists() and _same(src, data_dir):
        raise BackupError(f"备份文件夹和数据文件夹是同一个（{src}），请恢复到另一个数据文件夹")
    present = sorted(p.name for p in data_dir.iterdir()
                     if p.name not in (LOCK_FILE, RESTORE_STAGING)) if data_dir.exists() else []
    if present and not force:
        shown = "、".join(present[:5]) + ("…" if len(present) > 5 else "")
        raise BackupError(f"数据文件夹 {data_dir} 不是空的（有 {shown}）：恢复会替换其中的文档库和索引。"
                          f"确认要替换，请加 --force；或用 --data 指定一个空文件夹")
    with Library(data_dir).writing():
        staging = data_dir / RESTORE_STAGING
        try:
            restored = _stage(src, staging, data_dir, manifest)
            _install(staging, data_dir, restored)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        # Check, and bring whatever is missing or stale in step (a sync, or a rebuild).
        result = repair(data_dir, embedder=embedder, progress=progress)
    log.info("已从 %s 恢复到 %s（第 %s 版），%s", src, data_dir, manifest["generation"],
             "一致" if result.consistent else "仍不一致")
    return RestoreReport(manifest, restored, result)


def _stage(src: Path, staging: Path, data_dir: Path, manifest: dict) -> bool:
    """Copy the backup's files into `staging` and check the copied store as `check` does; returns
    whether the backup's indexes were staged too. `BackupError` when the copy is not sound."""
    shutil.rmtree(staging, ignore_errors=True)  # what a restore killed midway left
    staging.mkdir()
    files = manifest["files"]
    indexes = manifest["indexes"] and f"index/{META_FILE}" in files
    for name in files:
        if name == DB_NAME or indexes:
            _copy_verified(src / name, staging / name, files[name])
    report = CheckReport(staging, [])
    _check_store(report, thorough=False)
    refused = f"不能据此恢复；数据文件夹 {data_dir} 未做任何改动"
    if not report.consistent:
        # Its findings name the copy's path; the user knows the backup's.
        found = "；".join(f"{f.name}：{f.detail}" for f in report.failed).replace(str(staging), str(src))
        raise BackupError(f"备份中的文档库 {src / DB_NAME} 未通过检查（{found}），{refused}")
    held, listed = report.summary, tuple(manifest[k] for k in ("generation", "documents", "passages"))
    if (held.generation, held.documents, held.passages) != listed:
        raise BackupError(f"备份清单记录的是文档库第 {listed[0]} 版、{listed[1]} 篇、{listed[2]} 个段落，"
                          f"备份中的文档库却是第 {held.generation} 版、{held.documents} 篇、{held.passages} 个段落："
                          f"清单与文档库不符，{refused}")
    return indexes


def _copy_verified(source: Path, target: Path, entry: dict) -> None:
    """Copy one file of a backup, never through a symbolic link, and check the bytes copied
    against the manifest's size and checksum (the file may have changed since it was read)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(os.open(source, os.O_RDONLY | os.O_NOFOLLOW), "rb") as fh, open(target, "xb") as out:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    if size != entry["bytes"] or digest.hexdigest() != entry["sha256"]:
        raise _damaged(source)


def _install(staging: Path, data_dir: Path, indexes: bool) -> None:
    """Move the checked copy into place: each step one rename, in an order a crash cannot make
    inconsistent (at worst a new store without indexes, which `repair` rebuilds)."""
    folder = index_dir(data_dir)
    # 1. The old index describes the store about to be replaced: it goes first (index.json first).
    if folder.is_dir() and not folder.is_symlink():
        (folder / META_FILE).unlink(missing_ok=True)
        shutil.rmtree(folder)
    else:
        folder.unlink(missing_ok=True)  # a file or a link where the index goes: derived, and in the way
    # 2. The store, whole or not at all. The old WAL and shared-memory files belong to the old
    #    file: they go before the rename, or SQLite would replay them onto the new one.
    target = data_dir / DB_NAME

    def produce(tmp: Path) -> None:
        os.replace(staging / DB_NAME, tmp)
        for suffix in ("-wal", "-shm", "-journal"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)

    replace_atomic(target, produce)
    # 3. The backup's indexes, when it has them.
    if indexes:
        os.replace(index_dir(staging), folder)
