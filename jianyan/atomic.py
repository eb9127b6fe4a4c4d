"""Atomic file writes: a reader or a crash sees the old file or the new one, never half of one.

Write to a temporary name in the same folder, flush and fsync it, rename it over the target
(atomic on POSIX), then fsync the folder so that the rename itself survives a power cut.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any, Callable


def replace_atomic(path: Path, produce: Callable[[Path], None]) -> None:
    """`produce(tmp)` writes the new file at a temporary path (for libraries that take a file
    name, such as FAISS); it replaces `path` only once it is whole on disk."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        produce(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_atomic(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call `write(fh)` on a temporary file and move it to `path` only once it is whole on disk."""
    def produce(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            write(fh)
    replace_atomic(path, produce)


def write_json_atomic(path: Path, data: Any) -> None:
    write_atomic(path, lambda fh: fh.write(json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")))


def write_text_atomic(path: Path, text: str, mode: int | None = None) -> None:
    def write(fh: IO[bytes]) -> None:
        if mode is not None:
            os.chmod(fh.name, mode)  # before any byte is written: a secret is never readable by others
        fh.write(text.encode("utf-8"))
    write_atomic(path, write)


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some file systems do not open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
