"""What the disk or the data folder refused, in words: the one mapping of OS and SQLite errors.

A full disk, a read-only or foreign-owned folder, a database another program keeps locked: none
of these is a bug, and none should reach a user as a traceback or an HTTP 500. `storage_error`
turns the low-level error (an `OSError` with its errno, a `sqlite3.Error` with its result code)
into a typed `StoreError` (errors.py) with a Chinese message naming the folder; the write path
(`Library`, through `storage_errors`), the CLI and the API's error handlers all go through it.

| cause | errors | class | HTTP |
|---|---|---|---|
| disk, quota or file-size limit full | ENOSPC, EDQUOT, EFBIG; SQLITE_FULL | `StorageFull` | 507 |
| read-only file system | EROFS; SQLITE_READONLY on a read-only mount | `StorageReadOnly` | 503 |
| no permission | EACCES, EPERM; SQLITE_READONLY / SQLITE_CANTOPEN on a folder we may not write | `StoragePermission` | 503 |
| database locked by another connection | SQLITE_BUSY, SQLITE_LOCKED | `StorageLocked` | 503 |
| other I/O failure | EIO; SQLITE_IOERR, SQLITE_CANTOPEN | `StorageIOError` | 503 |
| damaged database | SQLITE_CORRUPT, SQLITE_NOTADB | `StoreError` | 503 |

SQLite reports some full disks as an I/O error (a write that fails with EFBIG, not ENOSPC, is
SQLITE_IOERR_WRITE); an I/O error on a folder with (almost) no free space is reported as full.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import (StoreError, StorageFull, StorageIOError, StorageLocked, StoragePermission,
                     StorageReadOnly)

log = logging.getLogger("jianyan.storage")

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_PERMISSION_ERRNOS = {errno.EACCES, errno.EPERM}
_NEARLY_FULL_BYTES = 1 << 20  # an I/O error with less free space than this is a full disk

# SQLite primary result codes (the low byte of `sqlite_errorcode`).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 10, 11, 13, 14, 26
# The same, recognised by message where a driver gives no code.
_SQLITE_MESSAGES = (("database or disk is full", _SQLITE_FULL), ("readonly database", _SQLITE_READONLY),
                    ("database is locked", _SQLITE_BUSY), ("database table is locked", _SQLITE_LOCKED),
                    ("disk i/o error", _SQLITE_IOERR), ("unable to open database", _SQLITE_CANTOPEN),
                    ("malformed", _SQLITE_CORRUPT), ("not a database", _SQLITE_NOTADB))


def _full(folder: str) -> StorageFull:
    return StorageFull(f"磁盘空间已满，无法写入数据文件夹 {folder}：请清理磁盘（或调大配额）后重试；"
                       f"已保存的文档不受影响，未写完的那篇没有写入")


def _read_only(folder: str) -> StorageReadOnly:
    return StorageReadOnly(f"数据文件夹 {folder} 是只读的，无法写入：请检查磁盘是否以只读方式挂载，"
                           f"或用 --data 换一个可写的文件夹")


def _permission(folder: str) -> StoragePermission:
    return StoragePermission(f"没有权限写入数据文件夹 {folder}：请检查该文件夹及其中文件的所有者和权限"
                             f"（运行 jianyan 的用户需要读写权限）")


def _locked(folder: str) -> StorageLocked:
    return StorageLocked(f"数据文件夹 {folder} 中的数据库正被其他程序占用（长时间未释放的写入锁），"
                         f"请稍后重试；如一直如此，请关闭正在打开该数据库的其他程序")


def _io(folder: str, detail: str) -> StorageIOError:
    return StorageIOError(f"读写数据文件夹 {folder} 时磁盘出错（{detail}）：请检查磁盘和文件系统")


def _corrupt(folder: str) -> StoreError:
    return StoreError(f"数据文件夹 {folder} 中的数据库文件已损坏或不是 jianyan 的数据库：请从备份恢复，"
                      f"或换一个数据文件夹")


def _folder_state(folder: str | None) -> str:
    """'read_only', 'no_permission', 'nearly_full' or '' for the folder (or its nearest existing parent)."""
    if not folder:
        return ""
    path = Path(folder)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        st = os.statvfs(path)
    except OSError:
        return ""
    if st.f_flag & os.ST_RDONLY:
        return "read_only"
    if not os.access(path, os.W_OK):
        return "no_permission"
    if st.f_bavail * st.f_frsize < _NEARLY_FULL_BYTES:
        return "nearly_full"
    return ""


def _sqlite_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF
    text = str(exc).lower()
    return next((c for needle, c in _SQLITE_MESSAGES if needle in text), None)


def storage_error(exc: BaseException, folder: str | Path | None = None) -> StoreError | None:
    """`exc` as a typed storage error with a Chinese message about `folder` (the data folder),
    or None when it is not a storage error (a bug, or an error of another kind)."""
    if isinstance(exc, StoreError):
        return exc
    where = str(folder) if folder is not None else "（数据文件夹）"
    if isinstance(exc, sqlite3.Error):
        code = _sqlite_code(exc)
        if code == _SQLITE_FULL:
            return _full(where)
        if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return _locked(where)
        if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return _corrupt(where)
        if code in (_SQLITE_READONLY, _SQLITE_PERM, _SQLITE_CANTOPEN, _SQLITE_IOERR):
            state = _folder_state(str(folder) if folder is not None else None)
            if state == "read_only":
                return _read_only(where)
            if state == "no_permission" or code == _SQLITE_PERM:
                return _permission(where)
            if code == _SQLITE_READONLY:
                return _read_only(where)
            if state == "nearly_full":
                return _full(where)
            return _io(where, "无法打开数据库文件" if code == _SQLITE_CANTOPEN else "磁盘 I/O 错误")
        return None
    if isinstance(exc, OSError) and exc.errno is not None:
        if exc.errno in _FULL_ERRNOS:
            return _full(where)
        if exc.errno == errno.EROFS:
            return _read_only(where)
        if exc.errno in _PERMISSION_ERRNOS:
            return _permission(where)
        if exc.errno == errno.EIO:
            return _io(where, exc.strerror or "I/O 错误")
        return None
    # A library that wraps the OS error (e.g. in a RuntimeError): look one level down.
    inner = exc.__cause__ or exc.__context__
    if inner is not None and inner is not exc and isinstance(inner, (OSError, sqlite3.Error)):
        return storage_error(inner, folder)
    return None


@contextmanager
def storage_errors(folder: str | Path) -> Iterator[None]:
    """Raise storage errors met inside the block as their typed `StoreError` (others unchanged)."""
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        mapped = storage_error(exc, folder)
        if mapped is None:
            raise
        log.debug("storage error in %s: %r", folder, exc)
        raise mapped from exc
