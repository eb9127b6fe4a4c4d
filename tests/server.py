"""A real `jianyan serve` process on a free loopback port, for the API and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

TOKEN = "test-write-token"


@dataclass
class RunningServer:
    url: str
    token: str
    data_dir: Path
    log: Path
    pid: int

    def client(self, token: str | None = None, timeout: float = 60.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(data_dir: Path, corpus: Path | None = None, env: dict | None = None,
                   startup_timeout: float = 240.0, ready: bool = True):
    """`ready=False`: yield as soon as the server answers at all (to test a failed start)."""
    port = free_port()
    log = data_dir.parent / f"serve-{port}.log"
    args = [sys.executable, "-m", "jianyan", "serve", "--data", str(data_dir), "--port", str(port),
            "--no-progress"]
    if corpus is not None:
        args += ["--corpus", str(corpus)]
    full_env = {**os.environ, "JIANYAN_WRITE_TOKENS": TOKEN, **(env or {})}
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=full_env)
    server = RunningServer(f"http://127.0.0.1:{port}", TOKEN, data_dir, log, proc.pid)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jianyan serve exited with {proc.returncode}:\n{server.log_text()}")
            try:
                if httpx.get(f"{server.url}/api/health", timeout=2).status_code == 200 or not ready:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jianyan serve not ready after {startup_timeout} s:\n{server.log_text()}")
            time.sleep(0.3)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
