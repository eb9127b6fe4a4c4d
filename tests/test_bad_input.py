"""Real broken files: a clear Chinese message naming the file, the rest of the batch stored,
nothing already stored damaged."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from jianyan.errors import MappingError
from jianyan.ingest.pipeline import ingest_paths
from jianyan.ingest.readers import FieldMapping

from .conftest import CORPORA, FIXTURES

BROKEN = FIXTURES / "broken"
EXPECTED = {
    "empty.txt": ("empty", "为空"),
    "whitespace_only.txt": ("empty", ""),
    "truncated.pdf": ("corrupt", "损坏"),
    "encrypted.pdf": ("encrypted", "加密"),
    "scanned.pdf": ("needs_ocr", "OCR"),
    "not_really.pdf": ("corrupt", "不是 PDF"),
    "truncated.docx": ("corrupt", "损坏"),
    "corrupt.docx": ("corrupt", "损坏"),
    "zip_not_docx.docx": ("unsupported_type", "不是 Word"),
    "bad.xlsx": ("corrupt", "损坏"),
    "binary.txt": ("corrupt", "二进制"),
}


def _snapshot(store):
    return [(d["external_id"], d["n_passages"], store.get_document(d["id"])["text"])
            for d in store.list_documents()]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_broken_file_is_reported_by_name(store, name):
    code, words = EXPECTED[name]
    report = ingest_paths([BROKEN / name], store, progress=False)
    (outcome,) = report.outcomes
    assert outcome.status == "failed"
    assert outcome.code == code
    assert words in outcome.message
    assert name in outcome.source
    assert any("\u4e00" <= ch <= "\u9fff" for ch in outcome.message)
    assert store.count_documents() == 0


def test_broken_files_do_not_touch_what_is_stored(store, tmp_path):
    ingest_paths([CORPORA], store, progress=False)
    before = _snapshot(store)
    generation = store.generation
    batch = tmp_path / "batch"
    shutil.copytree(BROKEN, batch)
    shutil.copy(CORPORA / "policy" / "关于加强政务信息公开工作的通知.pdf", batch / "good.pdf")
    report = ingest_paths([batch], store, progress=False)
    # good.pdf, the two valid rows of bad_rows.jsonl and the two rows of records.csv
    assert report.stored == 1 + 2 + 2
    assert {o.status for o in report.outcomes} == {"added", "failed", "skipped"}
    assert _snapshot(store)[: len(before)] == before
    assert store.generation == generation + 5
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_unknown_type_in_a_folder_is_skipped_but_named(store, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(BROKEN / "unknown.xyz", folder / "unknown.xyz")
    report = ingest_paths([folder], store, progress=False)
    (outcome,) = report.outcomes
    assert outcome.status == "skipped" and "unknown.xyz" in outcome.source and ".xyz" in outcome.message


def test_unknown_type_named_explicitly_fails(store):
    (outcome,) = ingest_paths([BROKEN / "unknown.xyz"], store, progress=False).outcomes
    assert outcome.status == "failed" and outcome.code == "unsupported_type"


def test_mapping_naming_a_missing_column(store):
    report = ingest_paths([BROKEN / "records.csv"], store, FieldMapping.parse("id=id,body=正文"),
                          progress=False)
    (outcome,) = report.outcomes
    assert outcome.status == "failed" and outcome.code == "bad_mapping"
    assert "正文" in outcome.message and "records.csv" in outcome.source


def test_mapping_syntax_errors():
    with pytest.raises(MappingError, match="未知字段"):
        FieldMapping.parse("colour=red")
    with pytest.raises(MappingError, match="格式错误"):
        FieldMapping.parse("body")


def test_bad_jsonl_rows_reported_good_rows_stored(store):
    report = ingest_paths([BROKEN / "bad_rows.jsonl"], store, progress=False)
    assert report.stored == 2
    (failed,) = report.failed
    assert failed.source.endswith("#2") and "JSON" in failed.message


def test_missing_path(store, tmp_path):
    (outcome,) = ingest_paths([tmp_path / "nope"], store, progress=False).outcomes
    assert outcome.status == "failed" and "不存在" in outcome.message
