"""Upload names are labels only: made safe, decoded as the client meant, unique within an upload."""

from __future__ import annotations

import pytest

from jianyan.api.uploads import safe_name, suffix_of, unique_names


@pytest.mark.parametrize("raw, expected", [
    ("政协工作报告.docx", "政协工作报告.docx"),
    ("政协工作报告.docx".encode("utf-8").decode("latin-1"), "政协工作报告.docx"),  # UTF-8 bytes read as Latin-1
    ("提案汇编.pdf".encode("gbk").decode("latin-1"), "提案汇编.pdf"),  # GBK bytes read as Latin-1
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\办公室\\通知.txt", "通知.txt"),
    ("..隐藏.txt", "隐藏.txt"),
    ("坏\x00名\x1f字\u200b.txt", "坏名字.txt"),
    ("", "未命名"),
    (None, "未命名"),
    ("café.txt", "café.txt"),  # real Latin-1 text that is not mojibake stays as it is
])
def test_names_are_made_safe_and_decoded(raw, expected):
    assert safe_name(raw) == expected


def test_long_names_keep_their_suffix():
    name = safe_name("很" * 300 + ".docx")
    assert len(name) <= 120 and name.endswith(".docx")
    assert suffix_of(name) == ".docx" and suffix_of("脚本.exe") == ""


def test_repeated_names_in_one_upload_get_distinct_ids():
    assert unique_names(["a.txt", "a.txt", "a (2).txt", "b"]) == ["a.txt", "a (3).txt", "a (2).txt", "b"]
    assert unique_names(["b", "b"]) == ["b", "b (2)"]
