"""File names that become documents' external ids: the one rule, for uploads and `jianyan ingest`.

A document's identity is its external id, and for a file that id is the file's name as its
owner sees it, never a shortened or filtered form of it: two different names are always two
documents, never one replacing the other. What is done to a name, and only this:

- its bytes are read as they were meant (`decode_name`): UTF-8, else GB18030 — an upload's
  name from a client on Chinese Windows, a name on disk from a zip made there; and a name whose
  UTF-8 bytes were decoded as Latin-1 somewhere on the way is decoded again (`undo_latin1`);
- NFC. Composed and decomposed forms ("é" as one code point, or as e + U+0301, which is what
  macOS sends) are the same characters to every reader, font and search box, so the same file
  sent from a Mac and from Windows is one document, not two that look identical;
- nothing else. A name that cannot be shown as it is — with an invisible character in it
  (control, zero-width, bidi and other format characters, line separators), blank at either end,
  or longer than `MAX_NAME_CHARS` — is refused with a Chinese message that shows the character
  as <U+200B>, never silently cleaned into another file's name.

Record exports: the record's own id (a column) is the external id, trimmed of blank ends (padded
cells are common in exports) and then held to the same rules (NFC, no invisible characters, at most
`MAX_RECORD_ID_CHARS`: ids are often URLs), row by row (`readers/records.py`).
"""

from __future__ import annotations

import os
import unicodedata

# Every mainstream file system (NTFS, APFS, ext4) holds at most 255 characters a name, so no real
# file is refused; the longest id, percent-encoded in a URL (9 characters per Chinese character),
# still fits the service's 4,096-character URL limit.
MAX_NAME_CHARS = 255
# A record's id is no file name: exports key records by URLs (a percent-encoded Wikisource URL of
# the work reports is 283 characters). Still bounded, so that it can be shown and referred to.
MAX_RECORD_ID_CHARS = 2048

_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}
_CHAR_NAMES = {
    "\u200b": "零宽空格", "\u200c": "零宽不连字", "\u200d": "零宽连字", "\u2060": "零宽不换行",
    "\ufeff": "字节顺序标记（零宽不换行空格）", "\u00ad": "软连字符", "\u200e": "从左到右标记",
    "\u200f": "从右到左标记", "\u202a": "双向文字控制符", "\u202b": "双向文字控制符",
    "\u202c": "双向文字控制符", "\u202d": "双向文字控制符", "\u202e": "双向文字控制符（从右到左覆盖）",
    "\u2066": "双向文字控制符", "\u2067": "双向文字控制符", "\u2068": "双向文字控制符",
    "\u2069": "双向文字控制符", "\u2028": "行分隔符", "\u2029": "段分隔符",
}


def is_invisible(ch: str) -> bool:
    return unicodedata.category(ch) in _INVISIBLE_CATEGORIES


def shown(text: str) -> str:
    """`text` with each invisible character written as <U+XXXX>, for messages and listings."""
    return "".join(f"<U+{ord(ch):04X}>" if is_invisible(ch) else ch for ch in text)


def decode_name(raw: bytes) -> str | None:
    """A name's bytes as text: UTF-8, else GB18030; None when they are neither.

    Decided from bytes, where it is safe: bytes that are not UTF-8 are no correct UTF-8 name,
    while a Chinese name in GBK (part of GB18030, what Chinese Windows sends) is almost never
    valid UTF-8. From text it is not (`undo_latin1`)."""
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def undo_latin1(name: str) -> str:
    """A name whose UTF-8 bytes were read as Latin-1 somewhere on the way, decoded as meant.

    Undone only when those code points, as bytes, are strict UTF-8, which real Latin-1 text
    almost never is (a lead such as "Ã" or "Â" followed by one to three of U+0080–U+00BF: C1
    controls and signs such as "©", "°", "½"), so a real "Crème.txt" or "Ærø.docx" stays as it
    is. GB18030 is not guessed from text: an accented letter followed by a letter is a GB18030
    pair, so "Crème" (C r è m e) would become "Cr" + a Chinese character + "e"; uploads decide
    GB18030 from the bytes instead (`decode_name`)."""
    if any("\x80" <= ch <= "\xff" for ch in name) and all(ord(ch) < 256 for ch in name):
        try:
            return name.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            pass
    return name


def from_file_system(name: str) -> str | None:
    """A name as Python read it from the file system (undecodable bytes as lone surrogates),
    as text: GB18030 where it was not UTF-8 (`decode_name`); None when it is neither."""
    if not any("\udc80" <= ch <= "\udcff" for ch in name):
        return name
    return decode_name(os.fsencode(name))


def normalise(name: str) -> str:
    """The form a name is stored and compared in (NFC; see the module docstring)."""
    return unicodedata.normalize("NFC", name)


def name_problem(name: str, what: str = "文件名", longest: int = MAX_NAME_CHARS) -> str | None:
    """Why `name` cannot be a document's name (a Chinese sentence), or None when it can.
    `what` names the thing checked ("文件名", "路径中的文件夹名"…); `longest`: its most characters."""
    for i, ch in enumerate(name, start=1):
        if is_invisible(ch):
            kind = _CHAR_NAMES.get(ch) or ("控制字符" if unicodedata.category(ch) == "Cc" else "格式字符")
            return (f"{what}“{shown(name)}”的第 {i} 个字符是看不见的 U+{ord(ch):04X}（{kind}），"
                    f"它会让两个看起来一样的名字指向不同文档；请删去这个字符、改名后再导入")
        if 0xD800 <= ord(ch) <= 0xDFFF:  # undecodable bytes (see `from_file_system`)
            return f"{what}“{shown_path(name)}”不是有效的 UTF-8 或 GBK 编码，请改名后再导入"
    if name != name.strip():
        return f"{what}“{name}”的开头或结尾有空白字符，请删去后再导入"
    if len(name) > longest:
        return (f"{what}过长（{len(name)} 个字符，最多 {longest:,} 个），"
                f"为免与其他文件混为同一篇文档，请改短后再导入：{name[:40]}…")
    return None


def shown_path(path: str) -> str:
    """A path read from the file system, printable (GB18030 names decoded, other bytes replaced)."""
    text = from_file_system(path)
    if text is None:
        text = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.encode("utf-8", "replace").decode("utf-8")  # any other lone surrogate as "?"


def file_id(parts: tuple[str, ...]) -> tuple[str, str | None]:
    """The external id of a file `jianyan ingest` found: its path components (relative to the
    folder ingested, or its own name alone) decoded and NFC, joined by "/"; and why it cannot
    be a document's name (None when it can). Every component is checked, folders too."""
    names = []
    for i, part in enumerate(parts):
        what = "文件名" if i == len(parts) - 1 else "文件夹名"
        text = from_file_system(part)
        if text is None:
            part = shown_path(part)
            return "/".join(names + [part]), f"{what}“{part}”不是有效的 UTF-8 或 GBK 编码，请改名后再导入"
        text = normalise(text)
        problem = name_problem(text, what)
        if problem:
            return "/".join(names + [text]), problem
        names.append(text)
    return "/".join(names), None
