"""Real broken files: a clear Chinese message naming the file, the rest of the batch stored,
nothing already stored damaged."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from jianyan.errors import MappingError
from jianyan.ingest.pipeline import FileToIngest, ingest_files, ingest_paths
from jianyan.ingest.readers import FieldMapping

from .conftest import CORPORA, FIXTURES

BROKEN = FIXTURES / "broken"
EXPECTED = {
    "empty.txt": ("empty", "为空"),
    "whitespace_only.txt": ("empty", ""),
    "truncated.pdf": ("corrupt", "损坏"),
    "encrypted.pdf": ("encrypted", "加密"),
    "scanned.pdf": ("empty", "没有文字"),  # no text layer, and its one image too small to be a scanned page
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


NOTICE = "关于做好防汛值守工作的通知\n各单位要做好汛期值守，确保信息畅通。"
RECORDS = ("编号,案由,内容\n"
           "通知.txt,关于完善防汛物资储备的提案,建议各乡镇按标准储备防汛物资，定期检查更新。\n"
           "R-2,关于加强河道巡查的提案,建议汛期增加河道巡查频次，及时清理阻水障碍。\n")
RECORD_MAP = FieldMapping.parse("id=编号,title=案由,body=内容")


def _upload(tmp_path, files: list[tuple[str, str]]) -> list[FileToIngest]:
    """Files saved as the service saves an upload: under generated names, known by their own."""
    folder = tmp_path / "upload"
    folder.mkdir(exist_ok=True)
    saved = []
    for name, text in files:
        path = folder / f"{len(list(folder.iterdir())):04d}{Path(name).suffix}"
        path.write_text(text, encoding="utf-8")
        saved.append(FileToIngest(path, name, name))
    return saved


@pytest.mark.parametrize("record_first", [True, False])
def test_a_record_and_a_file_of_one_upload_cannot_share_an_id(store, tmp_path, record_first):
    """A record whose id is the name of a plain file of the same upload used to replace it (or
    be replaced by it) silently; the second claimant now fails alone, naming both."""
    files = [("导出.csv", RECORDS), ("通知.txt", NOTICE)]
    report = ingest_files(_upload(tmp_path, files if record_first else files[::-1]), store, RECORD_MAP)
    (failed,) = report.failed
    assert failed.code == "duplicate_id" and failed.external_id == "通知.txt"
    assert failed.source == ("通知.txt" if record_first else "导出.csv#2")
    first, second = ("导出.csv 第 2 行", "通知.txt") if record_first else ("通知.txt", "导出.csv 第 2 行")
    assert failed.message.startswith(f"外部编号“通知.txt”与本次导入的 {first} 相同，{second} 已跳过"), failed.message
    assert report.stored == 2 and store.count_documents() == 2  # the first claimant and R-2
    kept = store.get_document("通知.txt")
    assert ("防汛物资" in kept["text"]) == record_first and ("汛期值守" in kept["text"]) != record_first


def test_two_exports_of_one_upload_cannot_share_a_record_id(store, tmp_path):
    other = RECORDS.replace("通知.txt,", "R-3,").replace("巡查频次", "巡查人员")
    report = ingest_files(_upload(tmp_path, [("甲.csv", RECORDS), ("乙.csv", other)]), store, RECORD_MAP)
    (failed,) = report.failed
    assert failed.source == "乙.csv#3" and failed.code == "duplicate_id"
    assert "“R-2”与本次导入的 甲.csv 第 3 行 相同，乙.csv 第 3 行 已跳过" in failed.message
    assert "巡查频次" in store.get_document("R-2")["text"]
    assert sorted(d["external_id"] for d in store.list_documents()) == ["R-2", "R-3", "通知.txt"]


def test_a_later_upload_still_replaces_a_record_by_its_id(store, tmp_path):
    """Claims are per upload: replacing what an earlier one stored is how updates work."""
    ingest_files(_upload(tmp_path, [("导出.csv", RECORDS)]), store, RECORD_MAP)
    report = ingest_files(_upload(tmp_path, [("通知.txt", NOTICE)]), store)
    assert [o.status for o in report.outcomes] == ["replaced"]
    assert "汛期值守" in store.get_document("通知.txt")["text"]


def test_a_file_given_twice_to_one_run_is_one_claimant(store, tmp_path):
    path = tmp_path / "通知.txt"
    path.write_text(NOTICE, encoding="utf-8")
    report = ingest_paths([path, path], store, progress=False)
    assert [o.status for o in report.outcomes] == ["added", "unchanged"]
