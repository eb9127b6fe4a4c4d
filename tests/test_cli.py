"""The `jianyan` console script, run as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from .conftest import CORPORA, FIXTURES, ROOT

JIANYAN = shutil.which("jianyan") or ""


def run(*args, env=None, cwd=None):
    cmd = [JIANYAN] if JIANYAN else [sys.executable, "-m", "jianyan.cli"]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, cwd=cwd or ROOT,
                          env={**os.environ, **(env or {})})


def test_ingest_docs_show_remove(tmp_path):
    data = str(tmp_path / "d")
    r = run("ingest", "--data", data, str(CORPORA))
    assert r.returncode == 0, r.stderr
    assert "导入完成" in r.stdout and "新增" in r.stdout
    listing = json.loads(run("docs", "--data", data, "--json").stdout)
    assert len(listing) >= 11
    seed = next(d for d in listing if d["external_id"] == "seed/2021年县政协工作总结.txt")
    assert seed["doc_type"] == "report" and seed["year"] == 2021

    shown = run("show", "--data", data, str(seed["id"]))
    assert shown.returncode == 0
    assert "二、聚焦中心工作，激发委员活力" in shown.stdout and "    六是注重凝聚共识" in shown.stdout

    r = run("remove", "--data", data, str(seed["id"]))
    assert r.returncode == 0 and "已删除" in r.stdout
    r = run("show", "--data", data, str(seed["id"]))
    assert r.returncode == 1 and "找不到" in r.stderr


def test_data_dir_from_environment(tmp_path):
    r = run("ingest", str(CORPORA / "seed"), env={"JIANYAN_HOME": str(tmp_path / "env")})
    assert r.returncode == 0
    assert (tmp_path / "env" / "jianyan.sqlite3").exists()


def test_default_data_dir_is_in_the_working_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JIANYAN_HOME"}
    cmd = [JIANYAN] if JIANYAN else [sys.executable, "-m", "jianyan.cli"]
    r = subprocess.run(cmd + ["ingest", str(CORPORA / "seed")], capture_output=True, text=True,
                       cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "jianyan-data" / "jianyan.sqlite3").exists()


def test_exit_codes(tmp_path):
    data = str(tmp_path / "d")
    r = run("ingest", "--data", data, str(FIXTURES / "broken" / "empty.txt"))
    assert r.returncode == 1 and "empty.txt" in r.stderr and "为空" in r.stderr
    # Some files good, some broken: the good ones are stored, exit 0 unless --strict.
    r = run("ingest", "--data", data, str(FIXTURES / "broken"), str(CORPORA / "seed"))
    assert r.returncode == 0 and "失败" in r.stderr
    r = run("ingest", "--data", data, "--strict", str(FIXTURES / "broken"))
    assert r.returncode == 1
    r = run("ingest", "--data", data, "--map", "nonsense", str(CORPORA))
    assert r.returncode == 2 and "格式错误" in r.stderr
    r = run("docs", "--data", str(tmp_path / "empty"))
    assert r.returncode == 0 and "还没有导入" in r.stdout


def test_search_and_eval_commands(tmp_path):
    data = str(tmp_path / "d")
    assert run("ingest", "--data", data, str(CORPORA / "seed"), str(CORPORA / "policy")).returncode == 0
    r = run("search", "--data", data, "委员联系村（社区）全覆盖", "-k", "2", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["mode"] == "hybrid" and out["results"][0]["external_id"] == "2021年县政协工作总结.txt"
    r = run("search", "--data", data, "政务公开", "--type", "policy", "--year", "2022")
    assert r.returncode == 0 and "关于加强政务信息公开工作的通知" in r.stdout
    r = run("search", "--data", data, "政务公开", "--year", "1990-1991")
    assert r.returncode == 0 and "没有符合筛选条件" in r.stdout
    r = run("search", "--data", data, "")
    assert r.returncode == 2 and "请输入" in r.stderr
    r = run("search", "--data", data, "养老", "--year", "去年")
    assert r.returncode == 2 and "年份格式" in r.stderr

    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"id": "q1", "query": "政务信息公开的通知", "kind": "policy",
                                   "relevant": ["关于加强政务信息公开工作的通知.pdf"]}, ensure_ascii=False) + "\n",
                       encoding="utf-8")
    r = run("eval", "search", "--data", data, str(queries), "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["by_kind"]["policy"]["hybrid"]["recall@10"] == 1.0
    assert set(report["by_kind"]["all"]) == {"hybrid", "dense", "keyword"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    r = run("eval", "search", "--data", data, str(bad))
    assert r.returncode == 1 and "格式不对" in r.stderr


def test_search_without_index(tmp_path):
    r = run("search", "--data", str(tmp_path / "none"), "养老")
    assert r.returncode == 1 and "还没有检索索引" in r.stderr
