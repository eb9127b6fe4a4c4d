"""Where jianyan keeps its data: `--data`, else `$JIANYAN_HOME`, else `./jianyan-data`."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = "jianyan-data"
ENV_DATA_DIR = "JIANYAN_HOME"


def resolve_data_dir(cli_value: str | os.PathLike | None = None) -> Path:
    if cli_value:
        return Path(cli_value)
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env)
    return Path.cwd() / DEFAULT_DATA_DIR
