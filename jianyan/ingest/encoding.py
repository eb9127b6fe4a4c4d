"""Decode text files whose encoding is detected, not assumed (UTF-8, BOMs, UTF-16, GB18030/GBK)."""

from __future__ import annotations

import codecs

from ..errors import CorruptFile, EmptyDocument

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM has NUL bytes on the even (BE) or odd (LE) positions for ASCII."""
    sample = data[:4000]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = max(1, len(sample) // 2)
    if odd > 0.2 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.2 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


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
