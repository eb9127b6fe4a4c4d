"""Plain text and Markdown (UTF-8, UTF-8 with BOM, UTF-16, GB18030/GBK: detected)."""

from __future__ import annotations

import re

from ...documents import SourceLine, lines_from_text
from ...errors import EmptyDocument
from ..encoding import decode_text
from ..limits import ReadLimits
from ..markers import style_rank

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_MD_NOISE = re.compile(r"(\*\*|__|`)")


def read_text(data: bytes, path: str, limits: ReadLimits | None = None) -> tuple[list[SourceLine], dict]:
    limits = limits or ReadLimits()
    text, encoding = decode_text(data, path)
    if not text.strip():
        raise EmptyDocument("文件没有文字内容", path=path)
    limits.check("chars", len(text), path)
    limits.check("paragraphs", text.count("\n"), path)
    lines = []
    for line in lines_from_text(text):
        m = _MD_HEADING.match(line.text)
        if m:  # Markdown heading: keep the words, remember the level
            lines.append(SourceLine(m.group(2).strip(), hard=True, heading_rank=style_rank(len(m.group(1)))))
        else:
            lines.append(SourceLine(_MD_NOISE.sub("", line.text)))
    return lines, {"encoding": encoding}
