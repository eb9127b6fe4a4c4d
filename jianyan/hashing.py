"""Content hashes: the one digest every identity and cache key is made of."""

from __future__ import annotations

import hashlib


def sha256_hex(data: bytes | str) -> str:
    """Hex SHA-256 of bytes, or of text encoded as UTF-8."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def text_hash(text: str) -> str:
    """The key of a text (passages, documents, the embedding cache)."""
    return sha256_hex(text)
