"""Traditional Chinese (#11): detected, folded to simplified for matching, shown as written.

Traditional documents are made by converting real ones (OpenCC s2t, the direction a Hong Kong
or Taiwan writer's text has against ours); the corpus also holds one proposal its member wrote in
traditional characters.
"""

from __future__ import annotations

import opencc
import pytest

from jianyan.dupes.checker import DuplicateChecker
from jianyan.embed.engines import query_embedder
from jianyan.index.sync import load_indexes, sync_indexes
from jianyan.ingest.pipeline import FileToIngest, ingest_files, ingest_paths
from jianyan.script import fold, is_traditional, match_form, traditional_share
from jianyan.search.searcher import Searcher
from jianyan.store import Store

from .conftest import POLICIES_JSONL, PROPOSALS_CSV, jsonl, mapping, proposal_rows, requires_shared, PROPOSAL_MAP

S2T = opencc.OpenCC("s2t")


def _corpus_texts() -> list[str]:
    texts = [r["content"] for r in proposal_rows()] + [d.get("content", "") for d in jsonl(POLICIES_JSONL)]
    return [t for t in texts if t.strip()]


@requires_shared
def test_detection_agrees_with_an_independent_reference_on_every_corpus_text_and_its_conversion():
    """Reference: a text is traditional when converting it to traditional changes less of it
    than converting it to simplified does. Every corpus text, and its s2t conversion."""
    texts = _corpus_texts()
    converted = [S2T.convert(t) for t in texts]
    for text in texts + converted:
        t2s_changes = traditional_share(text)
        s2t_changes = sum(a != b for a, b in zip(S2T.convert(text), text)) / max(1, len(text))
        assert is_traditional(text) == (s2t_changes < t2s_changes), text[:60]
    assert all(is_traditional(t) for t in converted)
    assert sum(is_traditional(t) for t in texts) >= 1  # the member who wrote in traditional characters


@requires_shared
def test_fold_keeps_offsets_and_undoes_the_conversion():
    texts = _corpus_texts()
    same = total = 0
    for text in texts:
        back = fold(S2T.convert(text))
        assert len(back) == len(text) and len(match_form(text)) == len(text)
        same += sum(a == b for a, b in zip(back, fold(text)))
        total += len(text)
    assert same / total >= 0.999


@pytest.fixture(scope="module")
def mixed_library(tmp_path_factory):
    """60 real proposals as exported (simplified), and 4 others saved as traditional TXT files."""
    folder = tmp_path_factory.mktemp("script")
    rows = proposal_rows()
    export = folder / "export.csv"
    header = PROPOSALS_CSV.read_text(encoding="utf-8").splitlines()[0]
    import csv

    with open(export, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=next(csv.reader([header])))
        writer.writeheader()
        writer.writerows(rows[:60])
    traditional = rows[100:104]
    files = []
    for row in traditional:
        path = folder / f"{row['pkid']}.txt"
        path.write_text(S2T.convert(f"{row['reason']}\n{row['content']}"), encoding="utf-8")
        files.append(FileToIngest(path, f"trad-{row['pkid']}", path.name))
    store = Store(folder / "data")
    ingest_paths([export], store, mapping(PROPOSAL_MAP), "proposal", progress=False)
    report = ingest_files(files, store, doc_type="proposal")
    assert not report.failed, report.failed
    sync_indexes(store, progress=False)
    indexes = load_indexes(store.data_dir)
    yield store, Searcher(store, indexes, query_embedder(indexes.model_id)), rows, traditional
    store.close()


@requires_shared
def test_a_simplified_query_finds_a_traditional_document_shown_as_written(mixed_library):
    store, searcher, _, traditional = mixed_library
    for row in traditional:
        for mode in ("keyword", "dense", "hybrid"):
            top = searcher.search(row["reason"], mode=mode, k=5).results[0]
            assert top.external_id == f"trad-{row['pkid']}", (mode, row["reason"])
        hit = top.passages[0]
        assert hit.highlights and hit.text == S2T.convert(hit.text)  # traditional as stored
        doc = store.get_document(top.document_id)
        assert doc["extra"].get("script") == "traditional"
        assert doc["title"] == S2T.convert(row["reason"]).strip()


@requires_shared
def test_a_traditional_query_finds_a_simplified_document(mixed_library):
    _, searcher, rows, _ = mixed_library
    for row in rows[:60:12]:
        top = searcher.search(S2T.convert(row["reason"]), k=5).results[0]
        assert top.external_id == row["pkid"], row["reason"]


@requires_shared
def test_dupes_catches_a_proposal_resubmitted_in_the_other_script(proposal_index):
    store, indexes = proposal_index
    checker = DuplicateChecker(store, indexes, query_embedder(indexes.model_id))
    for row in proposal_rows()[200:204]:
        result = checker.check(S2T.convert(row["content"]), S2T.convert(row["reason"]))
        assert result.verdict == "duplicate" and result.matches[0].external_id == row["pkid"], row["reason"]
        assert result.matches[0].scores["copied_draft"] >= 0.9  # the copy is seen as a copy


def test_the_match_forms_of_many_texts_at_once_equal_each_text_s_own():
    from jianyan.script import match_form, match_forms

    texts = ["關於加強營商環境建設的提案", "", "ABC 优化营商环境", "乾隆\n乾燥", "İstanbul 的發展"]
    assert match_forms(texts) == [match_form(t) for t in texts]
