"""One writer per data folder, across processes: an exclusive `flock` on `<data>/write.lock`.

Every write (`Library.ingest`, `remove`, `sync`) holds it, and `jianyan serve` holds it for its
whole life, so two `jianyan ingest` on one folder, or the CLI writing while the service runs, can
never both write: the second is refused at once (`FolderLocked`) with the holder's process id
and command, which the holder writes into the lock file. The kernel releases a `flock` when its
process dies, however it dies (SIGKILL included), so a crash never leaves the folder locked; the
file itself stays (deleting lock files races with the next locker) and its text is only a label.

Within one process the lock is re-entrant (a count per folder): the service holds it and its
`Library` writes take it again; the service's own threads are ordered by its `write_lock`.
Reads (search, show, eval, the service's snapshots) never take it: SQLite's WAL keeps them
consistent while a write goes on.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
from datetime import datetime
from pathlib import Path

from .errors import FolderLocked
from .storage import storage_errors

LOCK_FILE = "write.lock"

_guard = threading.Lock()
_held: dict[str, list[int]] = {}  # real path of the folder → [lock file descriptor, hold count]


def lock_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / LOCK_FILE


def _command_line() -> str:
    argv = list(sys.argv)
    # the console script, `python -m jianyan` (…/jianyan/__main__.py) or `python -m jianyan.cli`
    if argv and (argv[0].endswith(("jianyan", "cli.py", "__main__.py")) or argv[0] == "-m"):
        argv[0] = "jianyan"
    return " ".join(argv)[:300]


def read_holder(data_dir: str | Path) -> dict:
    """What the lock's holder wrote about itself (pid, command, since, host); {} if unreadable."""
    try:
        text = lock_path(data_dir).read_text(encoding="utf-8", errors="replace")
        info = json.loads(text) if text.strip() else {}
        return info if isinstance(info, dict) else {}
    except (OSError, ValueError):
        return {}


def describe_holder(info: dict) -> str:
    """The holder in words: 进程 1234（jianyan serve --data …，自 …起）."""
    if not info.get("pid"):
        return "另一个进程"
    parts = [info.get("command") or ""]
    if info.get("since"):
        parts.append(f"自 {info['since']} 起")
    if info.get("host") and info["host"] != socket.gethostname():
        parts.append(f"在主机 {info['host']} 上")
    details = "，".join(p for p in parts if p)
    return f"进程 {info['pid']}" + (f"（{details}）" if details else "")


def _refusal(data_dir: Path, info: dict) -> FolderLocked:
    serving = " serve" in f" {info.get('command', '')}" or info.get("purpose") == "serve"
    hint = ("；服务运行期间请通过它的网页或 API 上传和删除文档，或先停止服务" if serving
            else "；请等它结束后再试")
    return FolderLocked(f"数据文件夹 {data_dir} 正由{describe_holder(info)}写入，为免两个进程同时写坏数据，"
                        f"本次操作未执行{hint}", info)


class WriteLock:
    """The write lock of one data folder, held from `acquire` to `release` (or as a context)."""

    def __init__(self, data_dir: str | Path, purpose: str = "") -> None:
        self.data_dir = Path(data_dir)
        self.purpose = purpose
        self.held = False

    def acquire(self) -> "WriteLock":
        if self.held:
            return self
        with storage_errors(self.data_dir):
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key = os.path.realpath(self.data_dir)
            with _guard:
                entry = _held.get(key)
                if entry is not None:  # this process holds it already: re-enter
                    entry[1] += 1
                    self.held = True
                    return self
                fd = os.open(lock_path(self.data_dir), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    raise _refusal(self.data_dir, read_holder(self.data_dir)) from None
                except BaseException:
                    os.close(fd)
                    raise
                _held[key] = [fd, 1]
                self.held = True
            self._label(fd)
        return self

    def _label(self, fd: int) -> None:
        """Say who holds the lock (read by a refused process); best effort: on a full disk the
        lock holds all the same, and the write that follows reports the disk."""
        info = {"pid": os.getpid(), "command": _command_line(), "purpose": self.purpose,
                "host": socket.gethostname(),
                "since": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %z")}
        data = json.dumps(info, ensure_ascii=False).encode("utf-8", "backslashreplace") + b"\n"
        try:
            os.pwrite(fd, data, 0)
            os.ftruncate(fd, len(data))
        except OSError:
            pass

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        key = os.path.realpath(self.data_dir)
        with _guard:
            entry = _held.get(key)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] == 0:
                del _held[key]
                os.close(entry[0])  # closing the descriptor releases the flock

    def __enter__(self) -> "WriteLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def acquire(data_dir: str | Path, purpose: str = "") -> WriteLock:
    """Take the folder's write lock now, or raise `FolderLocked` naming who has it."""
    return WriteLock(data_dir, purpose).acquire()


def held_here(data_dir: str | Path) -> bool:
    """True when this process holds the folder's write lock."""
    with _guard:
        return os.path.realpath(data_dir) in _held
