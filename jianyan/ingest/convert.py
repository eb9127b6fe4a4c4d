"""Legacy office files (.doc, .wps, .rtf; .xls, .et) converted to DOCX/XLSX by LibreOffice.

LibreOffice runs headless in a private temporary folder: its own user profile (so that two
conversions, or a user's open LibreOffice, never share one), the input copied in under a fixed
name (a user's file name never reaches a command line), a wall-time limit after which its whole
process group is killed. The converted file is then read by the DOCX or XLSX reader like any
other. Called inside the reader sandbox (`sandbox.py`), so its memory is bounded there too.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..errors import ConverterMissing, CorruptFile
from .limits import ReadLimits

log = logging.getLogger("jianyan.ingest")

# What each legacy format becomes.
TARGETS = {"doc": "docx", "wps": "docx", "rtf": "docx", "xls": "xlsx", "et": "xlsx"}
NAMES = {"doc": "Word 97-2003（.doc）", "wps": "WPS 文字（.wps）", "rtf": "RTF", "xls": "Excel 97-2003（.xls）",
         "et": "WPS 表格（.et）"}
_SHARE_OF_TIME = 0.8  # of the read's time limit: the reader needs the rest for the converted file
_RESTART = 81  # soffice.bin's exit code after it set up a new user profile
_PR_SET_PDEATHSIG = 1


def office_binary() -> str | None:
    """The LibreOffice command, if installed (`JIANYAN_SOFFICE` names another)."""
    configured = os.environ.get("JIANYAN_SOFFICE", "").strip()
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(path: Path, fmt: str, workdir: Path, limits: ReadLimits, shown: str) -> Path:
    """`path` (a `fmt` file) converted into `workdir`; the DOCX/XLSX file made."""
    binary = office_binary()
    if binary is None:
        raise ConverterMissing(f"读取{NAMES[fmt]}文件需要 LibreOffice，本机未安装；"
                               f"请安装（Debian/Ubuntu：apt install libreoffice-writer-nogui libreoffice-calc-nogui），"
                               f"或将文件另存为 .docx/.xlsx 后导入", path=shown)
    target = TARGETS[fmt]
    source = workdir / f"input.{fmt}"
    shutil.copyfile(path, source)
    outdir = workdir / "out"
    command = [_office_process(binary), "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
               f"-env:UserInstallation={(workdir / 'profile').as_uri()}",
               "--convert-to", target, "--outdir", str(outdir), str(source)]
    t0 = time.monotonic()
    deadline = t0 + limits.seconds * _SHARE_OF_TIME
    returncode, output = _run(command, workdir, deadline, limits, shown)
    if returncode == _RESTART:  # a new profile was set up: LibreOffice asks to be started again
        returncode, output = _run(command, workdir, deadline, limits, shown)
    made = outdir / f"input.{target}"
    if returncode != 0 or not made.is_file() or made.stat().st_size == 0:
        said = output.decode("utf-8", "replace").strip().splitlines()[-1:] if output else []
        raise CorruptFile(f"{NAMES[fmt]}文件无法转换（LibreOffice 退出码 {returncode}"
                          f"{'：' + said[0][:200] if said else ''}），文件可能已损坏", path=shown)
    log.info("converted %s (%s → %s) in %.1f s", shown, fmt, target, time.monotonic() - t0)
    return made


def _office_process(binary: str) -> str:
    """`soffice.bin` itself where it is found: the `soffice` launcher would start it as a child
    of its own, which outlives a killed launcher."""
    real = Path(os.path.realpath(binary)).with_name("soffice.bin")
    return str(real) if real.is_file() else binary


def _die_with_parent() -> None:  # in the converter, before exec: killed when our reader dies
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _run(command: list[str], workdir: Path, deadline: float, limits: ReadLimits, shown: str) -> tuple[int, bytes]:
    left = deadline - time.monotonic()
    if left <= 0:
        raise limits.exceeded("seconds", "LibreOffice 转换超时", shown)
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True,
                            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                            env={**os.environ, "HOME": str(workdir)})
    try:
        output, _ = proc.communicate(timeout=left)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise limits.exceeded("seconds", f"LibreOffice 转换超过 {round(limits.seconds * _SHARE_OF_TIME, 1):g} 秒",
                              shown) from None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, output


class Converted:
    """A private temporary folder holding one conversion; removed on exit."""

    def __init__(self, path: Path, fmt: str, limits: ReadLimits, shown: str) -> None:
        self.path, self.fmt, self.limits, self.shown = path, fmt, limits, shown

    def __enter__(self) -> Path:
        self._dir = Path(tempfile.mkdtemp(prefix="jianyan-convert-"))
        try:
            return convert(self.path, self.fmt, self._dir, self.limits, self.shown)
        except BaseException:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)
