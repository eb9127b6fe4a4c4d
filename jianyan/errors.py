"""Every error jianyan raises on purpose, in one place.

Each class carries a stable machine `code` (for programs and tests), the HTTP status the API
answers it with (`http_status`), and each instance a Chinese `message` for the people reading it;
`path`, when set, names the file the error is about. `tests/test_errors.py` checks that every
class has a code and a status of its own, so a new error cannot fall back to a wrong status.
"""

from __future__ import annotations


class JianyanError(Exception):
    code = "error"
    http_status = 500  # only the abstract base: every concrete class sets its own

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.message = message
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)

    def status(self) -> int:
        """The HTTP status for this instance (a class may refine it from its details)."""
        return self.http_status


# -- input that cannot be ingested: the rest of a batch goes on ---------------------------------
class InputError(JianyanError):
    """The input file or record cannot be ingested."""

    code = "bad_input"
    http_status = 400


class UnsupportedFileType(InputError):
    code = "unsupported_type"
    http_status = 415


class EmptyDocument(InputError):
    code = "empty"
    http_status = 422


class CorruptFile(InputError):
    code = "corrupt"
    http_status = 422


class EncryptedFile(InputError):
    code = "encrypted"
    http_status = 422


class NeedsOCR(InputError):
    code = "needs_ocr"
    http_status = 422


class ConverterMissing(InputError):
    """A format read through a converter (LibreOffice for .doc/.wps/.rtf/.xls/.et) that is not
    installed on this machine."""

    code = "converter_missing"
    http_status = 415


class BadFileName(InputError):
    """A file name that cannot name a document as it is (invisible characters, too long…):
    refused rather than cleaned into another file's name (`jianyan/names.py`)."""

    code = "bad_name"
    http_status = 422


class LimitExceeded(InputError):
    """A file that would cost more than a reader's limits allow (time, memory, pages, rows…)."""

    code = "limit_exceeded"
    http_status = 413

    def __init__(self, message: str, *, limit: str = "", path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.limit = limit


class MappingError(InputError):
    """A field mapping for a record export names a missing column or an unknown field."""

    code = "bad_mapping"
    http_status = 400


# -- requests that cannot be answered ------------------------------------------------------------
class QueryError(JianyanError):
    """A search query that is empty, too long, or asks for an unknown mode or size."""

    code = "bad_query"
    http_status = 400


class DraftError(JianyanError):
    """A draft for 查重 that is too short or too long."""

    code = "bad_draft"
    http_status = 400


class BadRequest(JianyanError):
    """A request whose form or fields are wrong (the API's own checks)."""

    code = "bad_request"
    http_status = 400


class Unauthorized(JianyanError):
    code = "unauthorized"
    http_status = 401


class Forbidden(JianyanError):
    code = "forbidden"
    http_status = 403


class NotFound(JianyanError):
    code = "not_found"
    http_status = 404


class Busy(JianyanError):
    """Another write holds the data folder."""

    code = "busy"
    http_status = 409


class AmbiguousRef(JianyanError):
    """A bare document reference ("3") that is one document's id and another's external id;
    `candidates` lists both (id, external_id, title, and the unambiguous `ref` for each)."""

    code = "ambiguous_ref"
    http_status = 409

    def __init__(self, message: str, candidates: list[dict] | None = None) -> None:
        super().__init__(message)
        self.candidates = candidates


class Overloaded(JianyanError):
    """Too many expensive requests (查重) at once: this one is refused before any work."""

    code = "overloaded"
    http_status = 503


class UploadTooLarge(JianyanError):
    code = "too_large"
    http_status = 413


class SettingError(JianyanError):
    """A setting (environment variable) that is not a value it may take: refused at start."""

    code = "bad_setting"
    http_status = 500


class RequestTimeout(JianyanError):
    """An upload form not received in time (a client too slow, or holding a place on purpose)."""

    code = "request_timeout"
    http_status = 408


class BadUpload(JianyanError):
    """One or more uploaded files refused before anything is stored; `problems` says why, per file."""

    code = "bad_upload"
    http_status = 415

    def __init__(self, message: str, problems: list[dict]) -> None:
        super().__init__(message)
        self.problems = problems

    def status(self) -> int:
        # 415 when some file is of a type we do not read; 422 when all are, but unreadable.
        if self.problems and all(p["code"] != UnsupportedFileType.code for p in self.problems):
            return 422
        return self.http_status


# -- the data folder and the models ----------------------------------------------------------------
class IndexMismatch(JianyanError):
    """An index built with another model or format than the one asked to use it."""

    code = "index_mismatch"
    http_status = 409


class StoreError(JianyanError):
    code = "store"
    http_status = 503


class BackupError(JianyanError):
    """A backup or restore refused: the folder is not a (whole) backup, the data folder is not
    empty, or the two are the same folder (`maintenance.py`)."""

    code = "backup"
    http_status = 400


# What the disk or the folder refused; `storage.storage_error` maps OS and SQLite errors to these.
class StorageFull(StoreError):
    """The disk (or the user's quota, or the file size limit) is full: 507 Insufficient Storage."""

    code = "disk_full"
    http_status = 507


class StorageReadOnly(StoreError):
    code = "read_only"
    http_status = 503


class StoragePermission(StoreError):
    code = "no_permission"
    http_status = 503


class StorageLocked(StoreError):
    """SQLite's own lock was not released in time (another connection kept a write open)."""

    code = "db_locked"
    http_status = 503


class StorageIOError(StoreError):
    code = "io_error"
    http_status = 503


class FolderLocked(Busy):
    """Another process holds the data folder's write lock (`writelock.py`); `holder` says who."""

    code = "folder_locked"
    http_status = 409

    def __init__(self, message: str, holder: dict | None = None) -> None:
        super().__init__(message)
        self.holder = holder or {}


class EmbedderError(JianyanError):
    """An embedding model cannot be loaded, exported or run (missing folder, torch not installed…)."""

    code = "embedder"
    http_status = 503


class NotReady(JianyanError):
    """The service is still loading (or failed to load) the store and its indexes."""

    code = "not_ready"
    http_status = 503


def error_classes() -> list[type[JianyanError]]:
    """Every concrete error class (for the API's documentation and the test that checks them)."""
    out, todo = [], list(JianyanError.__subclasses__())
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(out, key=lambda c: c.__name__)
