"""Numeric settings from the environment (`config.env_number`): the read limits, the service's
sizes and 查重 places. A value that is not a number in its range is refused in words naming the
setting, by the library, by the CLI (a non-zero exit) and by `jianyan serve` (no start)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from jianyan.api.settings import MiB, ServiceSettings
from jianyan.config import env_number
from jianyan.errors import SettingError
from jianyan.ingest.limits import ReadLimits, draft_limits

from .conftest import CORPORA, ROOT
from .test_cli import JIANYAN, run

BAD_INTS = ["abc", "nan", "inf", "-inf", "-5", "0", "2.5", "1e400", "0x10", "十"]


@pytest.mark.parametrize("raw", BAD_INTS)
def test_a_bad_integer_setting_is_refused_naming_the_variable_the_value_and_the_range(monkeypatch, raw):
    monkeypatch.setenv("JIANYAN_TEST_COUNT", raw)
    with pytest.raises(SettingError) as info:
        env_number("JIANYAN_TEST_COUNT", int, 7, 1, 100)
    message = info.value.message
    assert "JIANYAN_TEST_COUNT" in message and f"“{raw}”" in message, message
    assert "1 到 100 之间的整数" in message and "默认 7" in message, message


@pytest.mark.parametrize("raw, value", [("12", 12), (" 12 ", 12), ("3e1", 30), ("100", 100), ("1", 1), ("", 7)])
def test_a_good_integer_setting_is_read(monkeypatch, raw, value):
    monkeypatch.setenv("JIANYAN_TEST_COUNT", raw)
    got = env_number("JIANYAN_TEST_COUNT", int, 7, 1, 100)
    assert got == value and type(got) is int


def test_a_float_setting_takes_fractions_within_its_range_and_nothing_else(monkeypatch):
    monkeypatch.setenv("JIANYAN_TEST_SECONDS", "0.5")
    assert env_number("JIANYAN_TEST_SECONDS", float, 2.0, 0.1) == 0.5
    monkeypatch.delenv("JIANYAN_TEST_SECONDS")
    assert env_number("JIANYAN_TEST_SECONDS", float, 2.0, 0.1) == 2.0
    for raw in ("nan", "inf", "0", "0.05", "-1", "1,5"):
        monkeypatch.setenv("JIANYAN_TEST_SECONDS", raw)
        with pytest.raises(SettingError, match="不小于 0.1 的数"):
            env_number("JIANYAN_TEST_SECONDS", float, 2.0, 0.1)


@pytest.mark.parametrize("env", ["JIANYAN_READ_SECONDS", "JIANYAN_READ_MEMORY_MB", "JIANYAN_READ_MAX_PAGES",
                                 "JIANYAN_READ_MAX_PARAGRAPHS", "JIANYAN_READ_MAX_ROWS", "JIANYAN_READ_MAX_CHARS",
                                 "JIANYAN_READ_MAX_FIELD_CHARS", "JIANYAN_READ_MAX_DEPTH"])
def test_every_read_limit_refuses_a_bad_value_by_name(monkeypatch, env):
    for raw in ("abc", "nan", "-5", "0"):
        monkeypatch.setenv(env, raw)
        with pytest.raises(SettingError, match=env):
            ReadLimits.from_env()
        with pytest.raises(SettingError, match=env):  # 查重's limits are read from the same settings
            draft_limits()


def test_read_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv("JIANYAN_READ_SECONDS", "7.5")
    monkeypatch.setenv("JIANYAN_READ_MAX_CHARS", "3e7")
    monkeypatch.setenv("JIANYAN_READ_MAX_PAGES", "150")
    limits = ReadLimits.from_env()
    assert (limits.seconds, limits.chars, limits.pages) == (7.5, 30_000_000, 150)
    assert limits.rows == ReadLimits().rows  # unset: the default
    assert draft_limits().pages == 150 and draft_limits().seconds == 7.5  # never looser than the settings
    assert draft_limits(ReadLimits(pages=100)).pages == 100 and draft_limits(ReadLimits()).pages == 200


@pytest.mark.parametrize("env, raw", [("JIANYAN_DUPES_RUNNING", "0"), ("JIANYAN_DUPES_RUNNING", "abc"),
                                      ("JIANYAN_DUPES_WAITING", "-1"), ("JIANYAN_DUPES_WAITING", "2.5"),
                                      ("JIANYAN_MAX_UPLOAD_MB", "nan"), ("JIANYAN_MAX_UPLOAD_MB", "0"),
                                      ("JIANYAN_MAX_UPLOAD_MB", "inf"), ("JIANYAN_READ_MAX_ROWS", "-5")])
def test_service_settings_refuse_a_bad_number_before_writing_anything(monkeypatch, tmp_path, env, raw):
    monkeypatch.delenv("JIANYAN_WRITE_TOKENS", raising=False)
    monkeypatch.setenv(env, raw)
    with pytest.raises(SettingError, match=env):
        ServiceSettings.from_env(tmp_path / "data")
    assert not (tmp_path / "data").exists()  # no token file made for a service that will not start


def test_service_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("JIANYAN_WRITE_TOKENS", "t")
    for env, raw in (("JIANYAN_DUPES_RUNNING", "3"), ("JIANYAN_DUPES_WAITING", "0"), ("JIANYAN_MAX_UPLOAD_MB", "1.5"),
                     ("JIANYAN_READ_MAX_ROWS", "500")):
        monkeypatch.setenv(env, raw)
    s = ServiceSettings.from_env(tmp_path)
    assert (s.dupes_running, s.dupes_waiting, s.max_upload_bytes) == (3, 0, int(1.5 * MiB))
    assert s.read_limits == ReadLimits(rows=500)  # parsed once, at start
    for env in ("JIANYAN_DUPES_RUNNING", "JIANYAN_DUPES_WAITING", "JIANYAN_MAX_UPLOAD_MB", "JIANYAN_READ_MAX_ROWS"):
        monkeypatch.delenv(env)
    s = ServiceSettings.from_env(tmp_path)
    assert (s.dupes_running, s.dupes_waiting, s.max_upload_bytes) == (2, 6, 64 * MiB)


def test_the_cli_refuses_a_bad_setting_in_words(tmp_path):
    data = str(tmp_path / "d")
    r = run("ingest", "--data", data, "--no-index", str(CORPORA / "seed"), env={"JIANYAN_READ_MAX_ROWS": "abc"})
    assert r.returncode == 1, r.stdout + r.stderr
    assert "错误：环境变量 JIANYAN_READ_MAX_ROWS 的值“abc”无效" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert "新增" not in r.stdout  # nothing was ingested under a limit it could not read


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("env, raw", [("JIANYAN_DUPES_RUNNING", "0"), ("JIANYAN_MAX_UPLOAD_MB", "-5"),
                                      ("JIANYAN_READ_SECONDS", "inf")])
def test_serve_does_not_start_with_a_bad_setting(tmp_path, env, raw):
    data = tmp_path / "d"
    cmd = [JIANYAN] if JIANYAN else [sys.executable, "-m", "jianyan"]
    environ = {k: v for k, v in os.environ.items() if k != "JIANYAN_WRITE_TOKENS"} | {env: raw}
    # Were the setting accepted, serve would ingest the bundled corpora and run on: the timeout fails the test.
    r = subprocess.run(cmd + ["serve", "--data", str(data), "--port", str(_free_port()), "--no-progress"],
                       capture_output=True, text=True, cwd=ROOT, env=environ, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"错误：环境变量 {env} 的值“{raw}”无效" in r.stderr and "Traceback" not in r.stderr, r.stderr
    # Refused before any work: no store made, no corpus ingested, no token made.
    assert not (data / "jianyan.sqlite3").exists() and not (data / "service-token").exists()
