"""Upload names are labels only, and a document's identity: decoded as the client meant, never cut
or filtered into another file's name (what cannot be shown as it is is refused), unique within an upload."""

from __future__ import annotations

import os
import unicodedata

import pytest

from jianyan.api.uploads import extended_filename, suffix_of, unique_names, upload_name
from jianyan.names import MAX_NAME_CHARS, decode_name, file_id, name_problem, shown


@pytest.mark.parametrize("raw, expected", [
    ("政协工作报告.docx", "政协工作报告.docx"),
    ("政协工作报告.docx".encode("utf-8").decode("latin-1"), "政协工作报告.docx"),  # UTF-8 bytes read as Latin-1
    ("Crème.txt".encode("utf-8").decode("latin-1"), "Crème.txt"),  # "CrÃ¨me.txt": UTF-8 read as Latin-1
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\办公室\\通知.txt", "通知.txt"),
    ("..隐藏.txt", "..隐藏.txt"),  # only a label: leading dots are part of the name
    ("零宽\u200b.txt", "零宽\u200b.txt"),  # kept, so that `validate` refuses it instead of merging it
    ("cafe\u0301.txt", "café.txt"),  # NFD (as macOS sends it) is the same name as NFC
    ("", "未命名"),
    (None, "未命名"),
    ("café.txt", "café.txt"),  # real Latin-1 text that is not mojibake stays as it is
    ("Crème.txt", "Crème.txt"),  # è then a letter: a GB18030 pair, so no GB18030 guess from text
    ("Ærø.docx", "Ærø.docx"),
    ("coração.txt", "coração.txt"),
    # GBK read as Latin-1 is not guessed from text (it would turn "Crème" Chinese): uploads decide
    # from the name's bytes (`decode_name`, below; and test_api's raw-header upload)
    ("提案汇编.pdf".encode("gbk").decode("latin-1"), "提案汇编.pdf".encode("gbk").decode("latin-1")),
])
def test_upload_names_are_the_last_component_decoded_and_nfc(raw, expected):
    assert upload_name(raw) == expected


def test_name_bytes_are_utf8_else_gb18030():
    assert decode_name("提案汇编.pdf".encode("gbk")) == "提案汇编.pdf"  # a client on Chinese Windows
    assert decode_name("Crème.txt".encode("utf-8")) == "Crème.txt"
    assert decode_name("政协工作报告.docx".encode("utf-8")) == "政协工作报告.docx"
    assert decode_name(b"\xff.txt") is None


@pytest.mark.parametrize("disposition, expected", [
    (b"form-data; name=\"file\"; filename*=UTF-8''%E6%8F%90%E6%A1%88.txt", "提案.txt"),
    (b"form-data; name=\"file\"; filename=\"a.txt\"; filename*=utf-8'zh-CN'%E6%8F%90%E6%A1%88.txt", "提案.txt"),
    (b"form-data; name=\"file\"; filename*=\"UTF-8''%E6%8F%90%E6%A1%88.txt\"", "提案.txt"),  # quoted, as some send it
    (b"form-data; name=\"file\"; filename*=ISO-8859-1''Cr%E8me.txt", "Crème.txt"),
    (b"form-data; name=\"file\"; filename=\"a.txt\"", None),
    (b"form-data; name=\"file\"; filename*=UTF-8''%FF.txt", None),  # not UTF-8: the plain filename counts
    (b"form-data; name=\"file\"; filename*=no-such-charset''a.txt", None),
    (b"form-data; name=\"file\"; filename*=UTF-8''", None),
    (b"form-data; name=\"file\"; filename*0*=UTF-8''%E6%8F%90", None),  # RFC 2231 continuations: not read
])
def test_filename_star_is_read_as_rfc_5987_says(disposition, expected):
    assert extended_filename(disposition) == expected


def test_long_names_are_never_cut_into_one():
    common = "关于" + "很" * 130
    a, b = upload_name(common + "甲.docx"), upload_name(common + "乙.docx")
    assert a != b and len(a) == len(b) == 138 and a.endswith("甲.docx")
    assert name_problem(a) is None and name_problem(b) is None
    assert suffix_of(a) == ".docx" and suffix_of("脚本.exe") == ""
    assert name_problem("很" * (MAX_NAME_CHARS - 5) + ".docx") is None  # the longest a file system holds
    too_long = name_problem("很" * MAX_NAME_CHARS + ".docx")
    assert too_long and "过长" in too_long and str(MAX_NAME_CHARS) in too_long


@pytest.mark.parametrize("name, words", [
    ("零宽\u200b.txt", "U+200B（零宽空格）"),
    ("报告\u202etxt.exe.txt", "U+202E"),
    ("坏\x00名.txt", "U+0000（控制字符）"),
    ("换\n行.txt", "U+000A"),
    ("\ufeff通知.txt", "U+FEFF"),
    (" 通知.txt", "空白"),
    ("通知.txt\u3000", "空白"),
])
def test_names_that_cannot_be_shown_as_they_are_are_refused_in_words(name, words):
    problem = name_problem(name)
    assert problem and words in problem, problem
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in problem)  # shown escaped, e.g. <U+200B>


@pytest.mark.parametrize("name", ["通知.txt", "2024年第1号 通知（修订）.docx", "\ue000字.txt", "..隐藏.txt"])
def test_ordinary_names_pass(name):
    assert name_problem(name) is None  # private-use characters (rare 字 in GBK's user area) are visible


def test_shown_escapes_only_invisible_characters():
    assert shown("零宽\u200b名\u202e字.txt") == "零宽<U+200B>名<U+202E>字.txt"
    assert shown("普通 名字.txt") == "普通 名字.txt"


def test_ingested_file_ids_are_decoded_nfc_and_checked_per_component():
    gbk = os.fsdecode("报告".encode("gbk") + b".txt")  # a name from a zip made on Chinese Windows
    assert file_id((gbk,)) == ("报告.txt", None)
    assert file_id(("2021", "cafe\u0301.txt")) == ("2021/café.txt", None)
    ext, problem = file_id(("文件夹\u200b", "通知.txt"))
    assert problem and "文件夹名" in problem and "<U+200B>" in problem
    ext, problem = file_id((os.fsdecode(b"\xff\xfe.txt"),))
    assert problem and "编码" in problem
    ext.encode("utf-8")  # printable and storable: no lone surrogates left


def test_repeated_names_in_one_upload_get_distinct_ids():
    assert unique_names(["a.txt", "a.txt", "a (2).txt", "b"]) == ["a.txt", "a (3).txt", "a (2).txt", "b"]
    assert unique_names(["b", "b"]) == ["b", "b (2)"]
