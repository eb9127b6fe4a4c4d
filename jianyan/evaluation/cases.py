"""Reading evaluation files (JSONL, one case a line) with a message in words for every flaw."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError


def read_jsonl(path: Path, needs: str) -> list[tuple[int, dict]]:
    """(line number, object) of each non-blank line of an evaluation file; an InputError in words
    for an unreadable file, a line that is not a JSON object, or a file without any case."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "应为 UTF-8 编码的 JSONL"
        raise InputError(f"无法读取评测文件（{reason}）", path=str(path)) from exc
    out = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"第 {n} 行格式不对（不是有效的 JSON）：{exc}", path=str(path)) from exc
        if not isinstance(obj, dict):
            raise InputError(f"第 {n} 行格式不对：应为 JSON 对象（需要 {needs} 字段）", path=str(path))
        out.append((n, obj))
    if not out:
        raise InputError("评测文件里没有任何案例", path=str(path))
    return out


def encodable(text: str, n: int, path: Path) -> str:
    """JSON may carry lone surrogates ("\\ud800"), which no tokenizer can take."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"第 {n} 行含有无法识别的字符", path=str(path)) from None
    return text
