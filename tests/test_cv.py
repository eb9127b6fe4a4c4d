"""Cross-validated estimates: the folds, the choice made without the held-out fold, and the
shipped constants' in-sample row equal to the plain evaluation (the reference)."""

from __future__ import annotations

import numpy as np
import pytest

from jianyan.dupes.checker import DuplicateChecker
from jianyan.embed.engines import query_embedder
from jianyan.errors import InputError
from jianyan.evaluation.cv import cross_validate, kfold, pick
from jianyan.evaluation.dupes import cross_validate_dupes, evaluate_dupes, load_dupe_cases
from jianyan.evaluation.search import cross_validate_search, evaluate, load_cases
from jianyan.search.searcher import Searcher

from .conftest import SHARED, requires_shared


def test_folds_partition_the_cases_evenly_and_reproducibly():
    folds = kfold(23, 5, seed=3)
    assert sorted(np.concatenate(folds).tolist()) == list(range(23))
    assert {len(f) for f in folds} == {4, 5}
    assert [f.tolist() for f in folds] == [f.tolist() for f in kfold(23, 5, seed=3)]
    assert [f.tolist() for f in folds] != [f.tolist() for f in kfold(23, 5, seed=4)]
    with pytest.raises(InputError, match="折数"):
        kfold(3, 5)


def test_a_uniformly_better_grid_point_is_chosen_in_every_fold():
    objective = np.array([[0.5] * 10, [0.9] * 10, [0.1] * 10])
    cv = cross_validate(objective, k=5)
    assert cv.best_in_sample == 1 and cv.fold_choices == [1] * 5
    assert pick(objective, cv.held_out_choice).mean() == pytest.approx(0.9)


def test_ties_go_to_the_first_grid_point_the_shipped_default():
    cv = cross_validate(np.ones((3, 6)), k=3)
    assert cv.best_in_sample == 0 and cv.fold_choices == [0, 0, 0]


def test_a_choice_fitted_to_the_cases_scores_lower_held_out():
    # Two grid points each right on half the cases: in sample one looks right half the time;
    # left out, each case sees the other point win on the rest, and it is wrong every time.
    objective = np.array([[0.45] * 6, [1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], float)
    cv = cross_validate(objective, k=6)  # leave-one-out
    assert objective[cv.best_in_sample].mean() == pytest.approx(0.5)
    assert pick(objective, cv.held_out_choice).mean() == 0.0


@requires_shared
def test_the_shipped_rows_equal_the_plain_evaluations(proposal_index):
    store, indexes = proposal_index
    embedder = query_embedder(indexes.model_id)
    cases = [c for c in load_cases(SHARED / "eval" / "search-queries.jsonl") if c.kind == "paraphrase"][:12]
    report = evaluate(Searcher(store, indexes, embedder), cases, ["hybrid"])
    crossed = cross_validate_search(Searcher(store, indexes, embedder), cases, k=3)
    for metric, value in report.by_kind["all"]["hybrid"].items():
        assert crossed.rows["shipped"]["all"][metric] == pytest.approx(value)
    assert crossed.rows["best_in_sample"]["all"]["ndcg@10"] >= crossed.rows["shipped"]["all"]["ndcg@10"]

    dupe_cases = load_dupe_cases(SHARED / "eval" / "duplicate-cases.jsonl")[:10]
    checker = DuplicateChecker(store, indexes, embedder)
    plain = evaluate_dupes(checker, dupe_cases)
    dupes = cross_validate_dupes(checker, dupe_cases, k=2)
    assert (dupes.shipped.tp, dupes.shipped.fp, dupes.shipped.fn) == (plain.tp, plain.fp, plain.fn)
    assert dupes.shipped.by_kind == plain.by_kind


@pytest.mark.parametrize("load, line, words", [
    (load_cases, '{"query": "养老", "relevant": {"a": "high"}}', "格式不对"),
    (load_cases, '{"query": 123, "relevant": ["a"]}', "格式不对"),
    (load_cases, '{"query": "养老", "relevant": ["a"], "kind": ["x"]}', "格式不对"),
    (load_cases, '{"query": "\\ud800", "relevant": ["a"]}', "无法识别"),
    (load_cases, '[1]', "JSON 对象"),
    (load_cases, 'not json', "格式不对（不是有效的 JSON）"),
    (load_cases, '', "没有任何案例"),
    (load_dupe_cases, '{"text": 12345, "duplicate_of": []}', "应为文字"),
    (load_dupe_cases, '{"text": "关于…", "duplicate_of": "2022-005"}', "应为列表"),
    (load_dupe_cases, '{"text": "\\ud800", "duplicate_of": []}', "无法识别"),
])
def test_case_files_with_flaws_are_refused_in_words(tmp_path, load, line, words):
    path = tmp_path / "cases.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=words):
        load(path)


def test_a_gbk_case_file_is_refused_in_words(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_bytes('{"query": "养老服务", "relevant": ["a"]}'.encode("gbk"))
    with pytest.raises(InputError, match="UTF-8"):
        load_cases(path)
