"""The `jianyan` console script, run as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from .conftest import CORPORA, FIXTURES, ROOT

JIANYAN = shutil.which("jianyan") or ""


def run(*args, env=None, cwd=None):
    cmd = [JIANYAN] if JIANYAN else [sys.executable, "-m", "jianyan"]
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
    cmd = [JIANYAN] if JIANYAN else [sys.executable, "-m", "jianyan"]
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


def _records(tmp_path, rows):
    """A CSV export whose record ids are `rows`' first items (they become external ids)."""
    path = tmp_path / "记录.csv"
    path.write_text("编号,标题,内容\n" + "".join(
        f"{ext},{title},{title}的正文：说明这项安排的背景、做法和时间表，供检索和查重测试使用。\n"
        for ext, title in rows), encoding="utf-8")
    return path


def test_refs_id_ext_and_the_ambiguous_bare_ref(tmp_path):
    data = str(tmp_path / "d")
    # In a fresh store the rows get ids 1, 2, 3: record "1" is document 2, record "2" document 1.
    path = _records(tmp_path, [("2", "关于甲事项的通知"), ("1", "关于乙事项的通知"), ("x", "关于丙事项的通知")])
    r = run("ingest", "--data", data, "--no-index", "--map", "id=编号,title=标题,body=内容", str(path))
    assert r.returncode == 0, r.stderr
    ids = {d["external_id"]: d["id"] for d in json.loads(run("docs", "--data", data, "--json").stdout)}
    assert ids == {"2": 1, "1": 2, "x": 3}

    for ref, title in (("id:1", "关于甲事项的通知"), ("ext:1", "关于乙事项的通知"), ("id:2", "关于乙事项的通知"),
                       ("ext:2", "关于甲事项的通知"), ("3", "关于丙事项的通知"), ("x", "关于丙事项的通知"),
                       ("ext:x", "关于丙事项的通知")):
        r = run("show", "--data", data, ref)
        assert r.returncode == 0 and f"《{title}》" in r.stdout, (ref, r.stdout, r.stderr)

    for command in ("show", "remove"):
        r = run(command, "--data", data, "1")
        assert r.returncode == 1, r.stdout
        # Both documents, and how to write each unambiguously.
        assert all(w in r.stderr for w in ("关于甲事项的通知", "关于乙事项的通知", "id:1", "ext:1")), r.stderr
    for ref in ("id:x", "id:4", "ext:3"):
        r = run("show", "--data", data, ref)
        assert r.returncode == 1 and "找不到" in r.stderr, (ref, r.stderr)
    assert len(json.loads(run("docs", "--data", data, "--json").stdout)) == 3  # the refused remove removed nothing

    r = run("remove", "--data", data, "ext:1")
    assert r.returncode == 0 and "关于乙事项的通知" in r.stdout, r.stderr
    assert run("show", "--data", data, "1").returncode == 0  # no longer ambiguous: id 1 alone
    assert {d["external_id"] for d in json.loads(run("docs", "--data", data, "--json").stdout)} == {"2", "x"}


def test_ingest_never_merges_two_files_into_one_id(tmp_path):
    for folder, word in (("甲", "甲地"), ("乙", "乙地")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "通知.txt").write_text(f"关于{word}防汛工作的通知\n{word}各单位要做好防汛值守。",
                                                   encoding="utf-8")
    odd = tmp_path / "杂"
    odd.mkdir()
    (odd / "cafe\u0301.txt").write_text("关于分解形式文件名的说明\n这是名字为分解形式的文件。", encoding="utf-8")
    (odd / "café.txt").write_text("关于组合形式文件名的说明\n这是名字为组合形式的文件。", encoding="utf-8")
    (odd / "零宽\u200b.txt").write_text("关于零宽文件名的说明\n这份文档的名字里有零宽空格。", encoding="utf-8")
    gbk = os.path.join(os.fsencode(odd), "报告".encode("gbk") + b".txt")  # unpacked from a Windows zip
    with open(gbk, "wb") as fh:
        fh.write("关于编码文件名的报告\n这份文档的名字是 GBK 编码。".encode())
    data = str(tmp_path / "d")
    r = run("ingest", "--data", data, "--no-index", str(tmp_path / "甲"), str(tmp_path / "乙"), str(odd))
    assert r.returncode == 0, r.stderr
    docs = {d["external_id"]: d["title"] for d in json.loads(run("docs", "--data", data, "--json").stdout)}
    # One 通知.txt, one café.txt (NFC and NFD are one name), the GBK name decoded; nothing replaced.
    assert docs == {"通知.txt": "关于甲地防汛工作的通知", "café.txt": "关于分解形式文件名的说明",
                    "报告.txt": "关于编码文件名的报告"}, docs
    assert "新增 3，更新 0" in r.stdout, r.stdout
    assert "外部编号“通知.txt”与本次导入的" in r.stderr and str(tmp_path / "甲" / "通知.txt") in r.stderr
    assert "外部编号“café.txt”" in r.stderr
    assert "<U+200B>" in r.stderr and "\u200b" not in r.stderr  # refused, and shown escaped
    # Each folder ingested on its own again: the second still replaces, as re-ingesting always has.
    r = run("ingest", "--data", data, "--no-index", str(tmp_path / "乙"))
    assert r.returncode == 0 and "更新 1" in r.stdout, r.stdout


def test_a_record_cannot_take_the_id_of_a_file_in_the_same_run(tmp_path):
    """One run, one owner per external id: a record whose id is a plain file's name (in another
    folder argument) fails alone, naming both; a later run still replaces."""
    (tmp_path / "文件").mkdir()
    (tmp_path / "导出").mkdir()
    (tmp_path / "文件" / "通知.txt").write_text("关于做好防汛值守工作的通知\n各单位要做好汛期值守。", encoding="utf-8")
    (tmp_path / "导出" / "recs.csv").write_text(
        "编号,案由,内容\n通知.txt,关于完善防汛物资储备的提案,建议各乡镇按标准储备防汛物资。\n"
        "R-2,关于加强河道巡查的提案,建议汛期增加河道巡查频次。\n", encoding="utf-8")
    data = str(tmp_path / "d")
    r = run("ingest", "--data", data, "--no-index", "--map", "id=编号,title=案由,body=内容",
            str(tmp_path / "文件"), str(tmp_path / "导出"))
    assert r.returncode == 0 and "新增 2" in r.stdout and "失败 1" in r.stdout, (r.stdout, r.stderr)
    assert (f"外部编号“通知.txt”与本次导入的 {tmp_path / '文件' / '通知.txt'} 相同，"
            f"{tmp_path / '导出' / 'recs.csv'} 第 2 行 已跳过") in r.stderr, r.stderr
    docs = {d["external_id"]: d["title"] for d in json.loads(run("docs", "--data", data, "--json").stdout)}
    assert docs == {"通知.txt": "关于做好防汛值守工作的通知", "R-2": "关于加强河道巡查的提案"}, docs
    r = run("ingest", "--data", data, "--no-index", "--map", "id=编号,title=案由,body=内容",
            str(tmp_path / "导出"))
    assert r.returncode == 0 and "新增 0，更新 1" in r.stdout, r.stdout


def test_arguments_that_are_not_utf8_get_a_message_not_a_traceback(tmp_path):
    """Bytes that are not UTF-8 on the command line (a Latin-1 name, a terminal in another
    encoding) reach Python as lone surrogates; text parameters are refused in words."""
    data = str(tmp_path / "d")
    bad = "\udcff"  # os.fsencode → b"\xff", as the shell's $'\xff'
    for args in (["search", bad], ["search", "养老", "--category", bad], ["show", bad], ["remove", bad],
                 ["dupes", "--text", bad * 30], ["dupes", "--text", "关于养老服务的提案" * 3, "--title", bad],
                 ["ingest", "--map", f"id={bad}", str(CORPORA / "seed")]):
        r = run(*args, "--data", data)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "不是 UTF-8" in r.stderr and "\\xff" in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
    # A path is a file's real name: not refused as text; a missing one is said to be missing.
    r = run("ingest", "--data", data, "--no-index", f"{bad}.txt")
    assert r.returncode == 1 and "不存在" in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = run("docs", "--data", str(tmp_path / f"数据{bad}"))  # a data folder whose name is not UTF-8
    assert r.returncode == 0 and "还没有导入" in r.stdout, r.stderr


def test_click_usage_errors_are_in_chinese(tmp_path):
    data = str(tmp_path / "d")
    cases = [
        (["search", "--data", data], "缺少参数 QUERY"),
        (["search", "--data", data, "养老", "--bogus"], "没有选项“--bogus”"),
        (["search", "--data", data, "养老", "--type", "nope"], "“nope”不是可选值之一"),
        (["search", "--data", data, "养老", "-k", "abc"], "“abc”不是有效的数字"),
        (["search", "--data", data, "养老", "-k"], "需要给一个值"),
        (["frobnicate"], "没有命令“frobnicate”"),
        (["eval", "search", "--data", data, str(tmp_path / "none.jsonl")], "不存在"),
        (["eval", "search", "--data", data, str(tmp_path)], "是文件夹，这里需要文件"),
        (["show", "--data", data, "1", "2"], "多余的参数"),
        (["eval", "dupes", "--cv", "1", str(FIXTURES)], "不在允许的范围"),
    ]
    for args, expected in cases:
        r = run(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert expected in r.stderr and "错误：" in r.stderr, (args, r.stderr)
        for english in ("Error", "Usage", "Missing", "Invalid", "No such", "does not exist", "Try '"):
            assert english not in r.stderr, (args, r.stderr)
    r = run("search", "--data", data)
    assert "用法: jianyan search [选项] QUERY" in r.stderr and "运行“jianyan search --help”查看帮助" in r.stderr
    r = run("--help")
    assert r.returncode == 0 and "用法:" in r.stdout and "显示本帮助并退出" in r.stdout and "命令:" in r.stdout


def test_paths_missing_or_of_the_wrong_kind_get_a_message_not_a_traceback(tmp_path):
    """Every command that takes a path, given one that does not exist, a file where a folder is
    expected or a folder where a file is: a message naming the path, a non-zero exit."""
    a_file = tmp_path / "一个文件"
    a_file.write_text("不是文件夹", encoding="utf-8")
    a_folder = tmp_path / "一个文件夹"
    a_folder.mkdir()
    (a_folder / "manifest.json").write_text("{}", encoding="utf-8")  # passes backup's "empty or a backup" check
    (a_folder / "jianyan.sqlite3").mkdir()  # a folder where the backup's store file goes
    data = tmp_path / "d"
    assert run("ingest", "--data", str(data), "--no-index", str(CORPORA / "seed")).returncode == 0
    missing, under_file = tmp_path / "没有这个", a_file / "下一级"
    cases = [  # (arguments, the path the message must name)
        (["ingest", "--data", str(data), "--no-index", str(missing)], missing),
        (["backup", "--data", str(data), str(under_file)], under_file),
        (["backup", "--data", str(data), str(a_folder)], a_folder / "jianyan.sqlite3"),
        (["restore", "--data", str(tmp_path / "new"), str(missing)], missing),
        (["eval", "dupes", "--data", str(data), str(missing)], missing),
        (["dupes", "--data", str(data), str(a_folder)], a_folder),
    ]
    # A data folder that is a file, or is under one: each command (they share one check), once.
    for data_dir, args in ((a_file, ["ingest", "--no-index", str(CORPORA / "seed")]), (a_file, ["docs"]),
                           (a_file, ["check"]), (a_file, ["backup", str(tmp_path / "b")]),
                           (a_file, ["restore", "--force", str(tmp_path / "b")]), (under_file, ["remove", "1"]),
                           (under_file, ["search", "养老"])):
        cases.append(([args[0], "--data", str(data_dir), *args[1:]], data_dir))
    with ThreadPoolExecutor(4) as pool:  # each run is a process of its own: run them side by side
        results = list(pool.map(lambda case: run(*case[0]), cases))
    for (args, path), r in zip(cases, results):
        assert r.returncode != 0, (args, r.stdout, r.stderr)
        assert "错误：" in r.stderr or "失败：" in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr and "Errno" not in r.stderr, (args, r.stderr)
        assert str(path) in r.stderr, (args, r.stderr)
    assert a_file.read_text(encoding="utf-8") == "不是文件夹"  # nothing was written over it
    assert not (tmp_path / "b").exists()


def test_the_command_script_imports_nothing_until_it_runs():
    # The readers' forkserver re-imports the main script in each child (sandbox.py): the script's
    # module must stay free of the CLI, numpy, the service and the engines until main() runs.
    probe = ("import sys, jianyan.entry; "
             "print(sorted(m for m in ('jianyan.cli', 'numpy', 'click', 'fastapi', 'torch') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
    r = subprocess.run([sys.executable, "-m", "jianyan", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip(), r.stderr
