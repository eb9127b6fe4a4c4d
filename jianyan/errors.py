"""Typed errors. Every error carries a message a Chinese-speaking user understands.

`code` is a stable machine code (for the API and tests); `message` is the Chinese text shown
to users; `path`, when set, names the file the error is about.
"""

from __future__ import annotations


class JianyanError(Exception):
    code = "error"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.message = message
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class InputError(JianyanError):
    """The input file or record cannot be ingested; other files of the batch go on."""

    code = "bad_input"


class UnsupportedFileType(InputError):
    code = "unsupported_type"


class EmptyDocument(InputError):
    code = "empty"


class CorruptFile(InputError):
    code = "corrupt"


class EncryptedFile(InputError):
    code = "encrypted"


class NeedsOCR(InputError):
    code = "needs_ocr"


class MappingError(InputError):
    code = "bad_mapping"


class StoreError(JianyanError):
    code = "store"


class NotFound(JianyanError):
    code = "not_found"


class EmbedderError(JianyanError):
    """An embedding model cannot be loaded, exported or run (missing folder, torch not installed…)."""

    code = "embedder"
