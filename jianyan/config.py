"""Where jianyan keeps its data (`--data`, else `$JIANYAN_HOME`, else `./jianyan-data`), and the
one reader of numeric settings from the environment (`env_number`)."""

from __future__ import annotations

import math
import os
from pathlib import Path

from .errors import SettingError

DEFAULT_DATA_DIR = "jianyan-data"
ENV_DATA_DIR = "JIANYAN_HOME"


def resolve_data_dir(cli_value: str | os.PathLike | None = None) -> Path:
    if cli_value:
        return Path(cli_value)
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env)
    return Path.cwd() / DEFAULT_DATA_DIR


def env_number(name: str, kind: type[int] | type[float], default: int | float, minimum: int | float,
               maximum: int | float | None = None) -> int | float:
    """The numeric setting `name` from the environment: `default` when unset or blank, else a
    finite `kind` (an int may be written 3e7, but not 2.5) within [minimum, maximum]. Anything
    else is a `SettingError` naming the variable, its value and what it may be."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value: int | float | None
    try:
        value = int(raw) if kind is int else float(raw)
    except ValueError:
        try:
            number = float(raw)  # 3e7, 2048.0
        except ValueError:
            number = math.nan
        value = int(number) if kind is int and math.isfinite(number) and number.is_integer() else None
    if value is None or not math.isfinite(value) or value < minimum or (maximum is not None and value > maximum):
        what = "整数" if kind is int else "数"
        allowed = (f"{_shown(minimum)} 到 {_shown(maximum)} 之间的{what}" if maximum is not None
                   else f"不小于 {_shown(minimum)} 的{what}")
        raise SettingError(f"环境变量 {name} 的值“{raw[:40]}”无效：应为 {allowed}；"
                           f"请改正或删除这个设置（默认 {_shown(default)}）")
    return value


def _shown(number: int | float) -> str:
    return f"{number:,}" if isinstance(number, int) else f"{number:g}"
