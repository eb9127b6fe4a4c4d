"""Service settings: where the data is, where to listen, who may write, and input limits.

Tokens come from the environment (comma-separated lists):
- `JIANYAN_WRITE_TOKENS`: bearer tokens allowed to upload and delete. When none is configured,
  the service makes one on first start and keeps it in `<data>/service-token` (mode 0600), so a
  fresh install is never open for writing.
- `JIANYAN_READ_TOKENS`: when set, reading (search, 查重, documents) needs one of these or a
  write token; when unset, reading is open to whoever can reach the port.
- `JIANYAN_MAX_UPLOAD_MB`: the size limit of one upload request (default 64).
- `JIANYAN_DUPES_NEED_TOKEN=1`: 查重 (the costliest request) needs a read or write token even
  where reading is open. `JIANYAN_DUPES_RUNNING` / `JIANYAN_DUPES_WAITING`: 查重 requests run at
  once (default 2, 1–16) and admitted to wait (default 6, 0–16); more are refused with 503 at once.
- `JIANYAN_READ_*`: the limits on reading one file (`ingest/limits.py`), read here once.
- `JIANYAN_UPLOAD_SECONDS` / `JIANYAN_UPLOAD_MIN_KBPS`: an upload form must arrive within that
  many seconds, plus one second per that many KB received (default 15 s, 16 KB/s); else 408.

A numeric setting that is not a number in its range stops the service from starting, with a
message naming it (`config.env_number`).
- `JIANYAN_ALLOWED_HOSTS`: host names requests may be addressed to (comma-separated, or `*`).
  Default: the loopback names when listening on loopback (a defence against DNS rebinding),
  any name otherwise.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_text_atomic
from ..config import env_number
from ..ingest.limits import ReadLimits

TOKEN_FILE = "service-token"
MiB = 1024 * 1024
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _tokens(env: str) -> frozenset[str]:
    return frozenset(t.strip() for t in os.environ.get(env, "").split(",") if t.strip())


@dataclass
class ServiceSettings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    write_tokens: frozenset[str] = field(default_factory=frozenset)
    read_tokens: frozenset[str] = field(default_factory=frozenset)
    max_upload_bytes: int = 64 * MiB  # one upload request, all files together
    max_draft_bytes: int = 8 * MiB  # one draft file for 查重 (50,000 characters of DOCX/PDF, with images)
    max_files: int = 200  # files in one upload
    max_json_bytes: int = 1 * MiB  # any other request body (a 50,000-character draft is ~150 KB)
    max_url_chars: int = 4096  # path and query string
    token_file: Path | None = None  # where a generated write token was kept
    allowed_hosts: frozenset[str] | None = None  # None: any Host header
    dupes_need_token: bool = False
    dupes_running: int = 2  # 查重 requests at once (CPU: embedding a draft, reading its file)
    dupes_waiting: int = 6  # admitted to wait; the thread pool (40) keeps the rest for searches
    read_limits: ReadLimits = field(default_factory=ReadLimits)  # JIANYAN_READ_*, parsed at start
    upload_seconds: float = 15.0  # a form's time to arrive (`uploads.read_form`)…
    upload_min_kbps: float = 16.0  # …plus a second per this many KB received

    @property
    def reads_protected(self) -> bool:
        return bool(self.read_tokens)

    @classmethod
    def from_env(cls, data_dir: Path, **overrides) -> "ServiceSettings":
        upload_mb = env_number("JIANYAN_MAX_UPLOAD_MB", float, cls.max_upload_bytes / MiB, 1, 1 << 20)
        overrides.setdefault("max_upload_bytes", int(upload_mb * MiB))
        overrides.setdefault("dupes_running", env_number("JIANYAN_DUPES_RUNNING", int, cls.dupes_running, 1, 16))
        overrides.setdefault("dupes_waiting", env_number("JIANYAN_DUPES_WAITING", int, cls.dupes_waiting, 0, 16))
        overrides.setdefault("read_limits", ReadLimits.from_env())
        overrides.setdefault("upload_seconds", env_number("JIANYAN_UPLOAD_SECONDS", float, cls.upload_seconds, 1, 3600))
        overrides.setdefault("upload_min_kbps", env_number("JIANYAN_UPLOAD_MIN_KBPS", float, cls.upload_min_kbps, 1, 1 << 20))
        if os.environ.get("JIANYAN_DUPES_NEED_TOKEN", "").strip() in ("1", "true", "yes"):
            overrides.setdefault("dupes_need_token", True)
        s = cls(Path(data_dir), write_tokens=_tokens("JIANYAN_WRITE_TOKENS"),
                read_tokens=_tokens("JIANYAN_READ_TOKENS"), **overrides)
        hosts = os.environ.get("JIANYAN_ALLOWED_HOSTS", "").strip()
        if hosts and hosts != "*":
            s.allowed_hosts = frozenset(h.strip().lower() for h in hosts.split(",") if h.strip())
        elif not hosts and s.host in LOOPBACK:
            s.allowed_hosts = LOOPBACK
        if not s.write_tokens:
            s.write_tokens, s.token_file = frozenset({_generated_token(s.data_dir)}), s.data_dir / TOKEN_FILE
        return s


def _generated_token(data_dir: Path) -> str:
    """The write token kept in the data folder, made on first use (atomically, owner-only)."""
    path = Path(data_dir) / TOKEN_FILE
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    write_text_atomic(path, token + "\n", mode=0o600)
    return token
