"""What every `jianyan` command shares, below the commands themselves (`cli.py`):

- **Chinese for click's own messages.** Usage errors ("No such option", "Missing argument",
  "Invalid value…"), the usage line and the help headings are click's, written through
  `gettext`; `install_translations` gives click a Chinese catalogue (`CLICK_ZH`, keyed by click's
  own message ids) once, in this one place. `tests/test_cli.py` pins the messages, so a click
  upgrade that changes an id is caught.
- **Arguments that are not text.** A command-line argument with bytes that are not UTF-8 (a
  Latin-1 file name pasted into a query, a terminal in another encoding) reaches Python as lone
  surrogates, which SQLite, the tokenizer and the model refuse with a traceback. Text parameters
  are checked before a command runs and refused with a message (exit code 2); file and folder
  paths are not, since such a name is a real file's (ingest decides about its name).
- **Errors as messages, never tracebacks.** A `JianyanError` a command did not catch, a
  storage error (full disk, read-only folder… mapped by `storage.storage_error`), and any other
  `OSError` (a path that does not exist, a file where a folder should be…: `os_error_message`)
  end the command with `错误：…` and a non-zero exit code. Output never fails on an odd character.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
from typing import Any

import click

from .errors import DraftError, InputError, JianyanError, QueryError
from .storage import storage_error

# click's message ids (its `_("…")` and `ngettext("…", "…")` calls) → Chinese. Placeholders keep
# click's names; `{x!r}` becomes “{x}”.
CLICK_ZH = {
    "Usage:": "用法:",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "位置参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行“{command} {option}”查看帮助。",
    "No such option {name!r}.": "没有选项“{name}”。",
    "No such command {name!r}.": "没有命令“{name}”。",
    "Did you mean {possibility}?": "您是不是要用 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（您是不是要用其中之一：{possibilities}？）",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing command.": "缺少命令。",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值无效：{message}",
    "Invalid value: {message}": "取值无效：{message}",
    "Got unexpected extra argument ({args})": "多余的参数：{args}",
    "Got unexpected extra arguments ({args})": "多余的参数：{args}",
    "Option {name!r} requires an argument.": "选项“{name}”后面需要给一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项“{name}”后面需要给 {nargs} 个值。",
    "Option {name!r} does not take a value.": "选项“{name}”不接受值。",
    "Argument {name!r} takes {nargs} values.": "参数“{name}”需要 {nargs} 个值。",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，只给了 1 个。",
    "Takes {nargs} values but {len} were given.": "需要 {nargs} 个值，给了 {len} 个。",
    "Value must be an iterable.": "应为一组值。",
    "{value!r} is not {choice}.": "“{value}”无效，只能是 {choice}。",
    "{value!r} is not one of {choices}.": "“{value}”不是可选值之一，可选：{choices}。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "“{value}”不是有效的数字。",
    "{value} is not in the range {range}.": "{value} 不在允许的范围 {range} 内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "“{value}”不是有效的是/否值，可用：{states}",
    "{value!r} does not match the format {format}.": "“{value}”不符合格式 {format}。",
    "{value!r} does not match the formats {formats}.": "“{value}”不符合格式 {formats} 中的任何一种。",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name}“{filename}”不存在。",
    "{name} {filename!r} is a file.": "“{filename}”是文件，这里需要{name}。",
    "{name} {filename!r} is a directory.": "“{filename}”是文件夹，这里需要{name}。",
    "{name} {filename!r} is not readable.": "{name}“{filename}”没有读取权限。",
    "{name} {filename!r} is not writable.": "{name}“{filename}”没有写入权限。",
    "{name} {filename!r} is not executable.": "{name}“{filename}”没有执行权限。",
    "Could not open file {filename!r}: {message}": "无法打开文件“{filename}”：{message}",
    "unknown error": "未知错误",
    "Aborted!": "已中止。",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "(dynamic)": "（动态）",
    "deprecated": "已弃用",
    "Do you want to continue?": "是否继续？",
    "Error: invalid input": "错误：输入无效",
}
OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVAR = "命令 [参数]..."
_PATH_PARAMS = {"data_dir"}  # plain-string options that name folders (checked as paths, not text)


# What an OSError's errno says about its path, for those storage.py does not map (they are not
# the disk's fault but the paths': a missing file, a file where a folder should be…).
_ERRNO_ZH = {
    errno.ENOENT: "不存在",
    errno.EEXIST: "已经存在，可能是一个同名的文件",
    errno.EISDIR: "是文件夹，这里需要文件",
    errno.ENOTDIR: "不是文件夹：它或它上级路径中的某一段是文件",
    errno.ENOTEMPTY: "不是空文件夹",
    errno.ELOOP: "是符号链接或符号链接层数过多，不能使用",
    errno.ENAMETOOLONG: "的名字太长",
    errno.EBUSY: "正被占用",
    errno.ETXTBSY: "正被占用",
    errno.EXDEV: "与目标不在同一个文件系统上，无法移动",
}


def os_error_message(exc: OSError) -> str:
    """An OSError in Chinese: the path(s) it is about, and what is wrong with them."""
    paths = "、".join(f"“{os.fsdecode(p) if isinstance(p, bytes) else p}”"
                     for p in (exc.filename, exc.filename2) if p is not None) or "某个文件"
    name = errno.errorcode.get(exc.errno or 0, "")
    said = _ERRNO_ZH.get(exc.errno or 0)
    if said is not None:
        return f"{paths} {said}（{name}）"
    return f"无法访问 {paths}（操作系统错误 {name or exc.errno or type(exc).__name__}）"


def _zh(message: str) -> str:
    return CLICK_ZH.get(message, message)


def _zh_plural(singular: str, plural: str, n: int) -> str:
    return _zh(singular if n == 1 else plural)


def install_translations() -> None:
    """Give click's modules the Chinese catalogue (they call `_` and `ngettext` from gettext)."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.termui
    import click.types

    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.parser,
                   click.termui, click.types):
        if hasattr(module, "_"):
            module._ = _zh
        if hasattr(module, "ngettext"):
            module.ngettext = _zh_plural


def fail(message: str, code: int = 1) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def _undecodable(value: Any) -> str | None:
    """The first string in `value` (a string or a tuple of them) with bytes that were not UTF-8."""
    for item in value if isinstance(value, (tuple, list)) else (value,):
        if isinstance(item, str) and any("\udc80" <= ch <= "\udcff" for ch in item):
            return item
    return None


def _param_name(param: click.Parameter) -> str:
    if isinstance(param, click.Argument):
        return f"参数 {param.human_readable_name}"
    return f"选项 {max(param.opts, key=len)}"


def refuse_undecodable(ctx: click.Context) -> None:
    """Exit with a message when a text parameter holds bytes that are not UTF-8."""
    for param in ctx.command.get_params(ctx):
        if param.name is None or param.name in _PATH_PARAMS or isinstance(param.type, click.Path):
            continue
        bad = _undecodable(ctx.params.get(param.name))
        if bad is not None:
            raw = bad.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            fail(f"{_param_name(param)} 含有不是 UTF-8 编码的字节，无法识别：“{raw[:80]}”。"
                 f"请确认终端（或调用 jianyan 的脚本）使用 UTF-8 编码", 2)


def _data_folder(ctx: click.Context):
    from .config import resolve_data_dir

    node: click.Context | None = ctx
    while node is not None:
        if node.params.get("data_dir"):
            return resolve_data_dir(node.params["data_dir"])
        node = node.parent
    try:
        return resolve_data_dir(None)
    except Exception:  # noqa: BLE001 - only for a message
        return None


class _Checked:
    """Mixed into click's Command and Group: the checks and the error net around `invoke`."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context):
        refuse_undecodable(ctx)
        try:
            return super().invoke(ctx)
        except JianyanError as exc:
            fail(exc.message, 2 if isinstance(exc, (InputError, QueryError, DraftError)) else 1)
        except (OSError, sqlite3.Error) as exc:
            mapped = storage_error(exc, _data_folder(ctx))
            if mapped is not None:
                fail(mapped.message)
            if not isinstance(exc, OSError):
                raise
            fail(os_error_message(exc))


class JianyanCommand(_Checked, click.Command):
    pass


class JianyanGroup(_Checked, click.Group):
    """The `jianyan` group (and its subgroups): Chinese usage errors, checked commands."""

    command_class = JianyanCommand
    group_class = type  # subgroups are JianyanGroups too

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("subcommand_metavar", SUBCOMMAND_METAVAR)
        super().__init__(*args, **kwargs)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode: bool = True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        for stream in (sys.stdout, sys.stderr):  # an odd character is printed escaped, never a traceback
            if hasattr(stream, "reconfigure"):
                try:
                    stream.reconfigure(errors="backslashreplace")
                except (ValueError, OSError):
                    pass
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo(_zh("Aborted!"), err=True)
            sys.exit(1)
        except click.UsageError as exc:
            _show_usage_error(exc)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        sys.exit(rv if isinstance(rv, int) else 0)


def _show_usage_error(exc: click.UsageError) -> None:
    ctx = exc.ctx
    if isinstance(exc, click.MissingParameter) and exc.param is not None:
        kind = "参数" if isinstance(exc.param, click.Argument) else "选项"
        name = exc.param.human_readable_name if kind == "参数" else max(exc.param.opts, key=len)
        message = f"缺少{kind} {name}"
    else:
        message = exc.format_message()
    if ctx is not None:
        click.echo(ctx.get_usage(), err=True)
        click.echo(f"运行“{ctx.command_path} --help”查看帮助。", err=True)
    click.echo(f"错误：{message}", err=True)


install_translations()
