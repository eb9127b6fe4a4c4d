"""Decode text files whose encoding is detected, not assumed (UTF-8, BOMs, UTF-16, GB18030/GBK)."""

from __future__ import annotations

import codecs

from ..errors import CorruptFile, EmptyDocument

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def _plausible(ch: str) -> bool:
    """A character a Chinese document is made of: CJK, CJK and full-width punctuation, ASCII text."""
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF
            or 0x20 <= o < 0x7F or ch in "\n\r\t" or 0x2010 <= o <= 0x206F or 0x3400 <= o <= 0x4DBF)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a BOM: the byte order under which the text reads as text. (Counting NUL
    bytes alone fails on Chinese, whose code units have none.)"""
    best, best_share = None, 0.0
    for encoding in ("utf-16-le", "utf-16-be"):
        sample = data[:8000 - len(data[:8000]) % 2]
        text = sample.decode(encoding, errors="replace")
        share = sum(map(_plausible, text)) / max(1, len(text))
        if share > best_share:
            best, best_share = encoding, share
    return best if best_share >= 0.9 else None


def _looks_binary(text: str) -> bool:
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\n\r\t\f\v")
    return controls > max(2, 0.01 * min(len(text), 20000))


def decode_text(data: bytes, path: str) -> tuple[str, str]:
    """Return (text, encoding). Raises EmptyDocument or CorruptFile with a Chinese message."""
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise EmptyDocument("文件为空，没有可导入的内容", path=path)
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None and b"\x00" in data[:4000]:
        encoding = _utf16_without_bom(data)
        if encoding is None:
            raise CorruptFile("文件含有二进制内容，不是文本文件", path=path)
    candidates = [encoding] if encoding else ["utf-8", "gb18030"]
    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            raise CorruptFile("文件含有二进制内容，不是文本文件", path=path)
        return text, ("gbk" if enc == "gb18030" and _is_gbk(data) else enc)
    from charset_normalizer import from_bytes  # rare path: Big5, UTF-16 variants…

    best = from_bytes(data).best()
    if best is None:
        raise CorruptFile("无法识别文件的文字编码", path=path)
    text = str(best)
    if _looks_binary(text):
        raise CorruptFile("文件含有二进制内容，不是文本文件", path=path)
    return text, best.encoding


def _is_gbk(data: bytes) -> bool:
    try:
        data.decode("gbk")
        return True
    except UnicodeDecodeError:
        return False
