"""提案查重 and 并案 on the real 2019 proposals with the real model and indexes."""

from __future__ import annotations

import csv
import json
import random

import pytest

from jianyan.dupes.checker import DuplicateChecker
from jianyan.dupes.shingles import copied_spans
from jianyan.embed.engines import query_embedder
from jianyan.errors import DraftError, InputError
from jianyan.evaluation.dupes import cross_validate_dupes, evaluate_dupes, load_dupe_cases
from jianyan.index.sync import load_indexes, sync_indexes
from jianyan.ingest.draft import read_draft
from jianyan.ingest.pipeline import ingest_paths
from jianyan.store import Store

from .conftest import CORPORA, PROPOSALS_CSV, SHARED, requires_shared


@pytest.fixture(scope="module")
def checker(proposal_index):
    store, indexes = proposal_index
    return DuplicateChecker(store, indexes, query_embedder(indexes.model_id))


def _naive_cov(a: str, b: str, run: int = 12) -> float:
    """Reference: share of a's characters inside some run of `run` characters that b contains."""
    covered = [False] * len(a)
    for i in range(len(a) - run + 1):
        if a[i:i + run] in b:
            for k in range(i, i + run):
                covered[k] = True
    return sum(covered) / len(a) if a else 0.0


def test_copied_spans_against_brute_force():
    rng = random.Random(3)
    alphabet = "政协委员提案建议养老服务乡村振兴营商环境教育医疗"
    for _ in range(30):
        b = "".join(rng.choice(alphabet) for _ in range(300))
        pieces = [b[i:i + rng.randint(5, 40)] for i in (rng.randrange(250) for _ in range(4))]
        a = "".join(p + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20))) for p in pieces)
        spans, cov, cov_b = copied_spans(a, b)
        assert cov == pytest.approx(_naive_cov(a, b))
        # b's side counts the runs matched from a: never more than every run b shares with a.
        assert cov_b <= _naive_cov(b, a) + 1e-9 and (cov_b > 0) == (cov > 0)
        for s in spans:
            assert a[s.a_start:s.a_end] == b[s.b_start:s.b_end] and s.length >= 12


def _pooled_cases() -> list[dict]:
    return [c for name in ("duplicate-cases.jsonl", "duplicate-cases-hard.jsonl")
            for c in load_dupe_cases(SHARED / "eval" / name)]


def _meets_the_floor(ev) -> None:
    kinds = ev.by_kind
    assert kinds["near-copy"]["caught"] == kinds["near-copy"]["n"]
    assert kinds["partial"]["caught"] == kinds["partial"]["n"]
    assert kinds["paraphrase"]["caught"] >= 0.9 * kinds["paraphrase"]["n"]
    assert kinds["distinct"]["flagged"] == 0


@requires_shared
def test_dev_cases_in_sample_and_cross_validated(checker):
    """Both dev sets pooled (88 drafts): every copy caught, ≥ 90% of rewordings, no distinct
    draft flagged: with the shipped model and with each case judged by a model fitted without
    its fold (measured: 32/32 paraphrases both ways, distinct probabilities ≤ 0.18)."""
    cases = _pooled_cases()
    assert len(cases) == 88
    cv = cross_validate_dupes(checker, cases, k=5)
    _meets_the_floor(cv.shipped)
    _meets_the_floor(cv.cross_validated)
    # The checker as served gives the verdicts the evaluation re-scored from its candidates.
    assert evaluate_dupes(checker, cases).by_kind == cv.shipped.by_kind


@requires_shared
def test_every_match_has_a_probability_that_orders_the_verdicts(checker):
    case = next(c for c in _pooled_cases() if c["kind"] == "paraphrase")
    result = checker.check(case["text"], case["title"]).to_dict()
    probs = [m["probability"] for m in result["matches"]]
    assert probs and all(p is not None and 0.0 <= p <= 1.0 for p in probs)
    assert result["probability"] == max(probs)
    assert result["verdict"] == "duplicate" and result["matches"][0]["external_id"] in case["duplicate_of"]


@requires_shared
def test_evidence_is_aligned_and_points_into_both_texts(checker, proposal_index):
    store, _ = proposal_index
    case = next(c for c in load_dupe_cases(SHARED / "eval" / "duplicate-cases.jsonl") if c["kind"] == "partial")
    result = checker.check(case["text"], case["title"])
    match = next(m for m in result.matches if m.external_id in case["duplicate_of"])
    assert match.verdict in ("overlap", "duplicate")
    past_text = store.get_document(match.external_id)["text"]
    copied = [e for e in match.evidence if e.kind == "copied"]
    assert copied
    for e in copied:
        assert result.draft_text[e.draft["start"]:e.draft["end"]] == e.draft["text"]
        assert past_text[e.past["start"]:e.past["end"]] == e.past["text"]
    assert any(e.past["heading_path"] and e.past["heading_path"][0] == "具体建议" for e in copied)


@requires_shared
def test_paraphrase_evidence_pairs_passages(checker):
    case = next(c for c in load_dupe_cases(SHARED / "eval" / "duplicate-cases.jsonl") if c["kind"] == "paraphrase")
    result = checker.check(case["text"], case["title"])
    assert result.verdict == "duplicate"
    match = result.matches[0]
    assert match.external_id in case["duplicate_of"] and match.scores["copied_draft"] < 0.15
    assert any(e.kind == "paraphrase" and e.similarity >= 0.93 for e in match.evidence)


@requires_shared
def test_cluster_finds_the_natural_near_duplicates(checker):
    with open(PROPOSALS_CSV, encoding="utf-8") as fh:
        pkid = {r["rownum"]: r["pkid"] for r in csv.DictReader(fh)}
    clusters = checker.cluster(2019)
    member = {m["external_id"]: i for i, c in enumerate(clusters) for m in c["members"]}
    for a, b in [(267, 297), (87, 111), (283, 401), (67, 160), (16, 18)]:
        assert member.get(pkid[str(a)]) is not None and member[pkid[str(a)]] == member.get(pkid[str(b)])
    assert all(c["pairs"] for c in clusters)
    assert checker.cluster(1990) == []


@requires_shared
def test_bad_drafts(checker):
    with pytest.raises(DraftError, match="太短"):
        checker.check("   ")
    with pytest.raises(DraftError, match="过长"):
        checker.check("协商" * 50_000)


@requires_shared
def test_a_draft_file_is_checked_as_the_same_draft_typed(checker, tmp_path):
    """A file is cleaned once and its title not repeated: the same text typed with its title gives
    the same draft text, verdict and scores, and a blank title given with a file changes nothing."""
    case = next(c for c in load_dupe_cases(SHARED / "eval" / "duplicate-cases.jsonl") if c["kind"] == "paraphrase")
    path = tmp_path / "草稿.txt"
    path.write_text(f"{case['title']}\n{case['text']}", encoding="utf-8")
    typed = checker.check(case["text"], case["title"]).to_dict()
    for title in ("", "   "):
        from_file = checker.check_draft(read_draft(path, title=title)).to_dict()
        assert from_file["draft_text"] == typed["draft_text"] and from_file["verdict"] == typed["verdict"]
        assert [m["scores"] for m in from_file["matches"]] == [m["scores"] for m in typed["matches"]]


def test_a_draft_file_is_one_proposal_not_an_export_and_its_title_is_not_doubled(tmp_path):
    one_row = tmp_path / "一条.csv"
    one_row.write_text("编号,案由,内容\nT-1,关于建设候鸟观测站的提案,建议在迁徙通道布设观测站并共享数据。\n", encoding="utf-8")
    with pytest.raises(InputError, match="一份提案文件"):
        read_draft(one_row)
    # The first line differs from the given title only in what cleaning normalises.
    path = tmp_path / "草稿.txt"
    path.write_text("关于建设ＡＢＣ候鸟观测站网络的提案\n具体建议：一是在主要迁徙通道布设候鸟观测站；二是建立观测数据共享平台。",
                    encoding="utf-8")
    draft = read_draft(path, title="关于建设ＡＢＣ候鸟观测站网络的提案")
    assert draft.text.count("候鸟观测站网络的提案") == 1 and draft.text.startswith("关于建设ABC")


def test_store_without_proposals(tmp_path):
    store = Store(tmp_path / "d")
    ingest_paths([CORPORA / "policy"], store, progress=False)
    sync_indexes(store, progress=False)
    indexes = load_indexes(store.data_dir)
    result = DuplicateChecker(store, indexes, query_embedder(indexes.model_id)).check(
        "调研情况：社区养老服务设施不足。具体建议：加快建设社区嵌入式养老服务设施。")
    assert result.verdict == "none" and "还没有提案" in result.notice
    store.close()


def test_cli_dupes_on_the_bundled_corpora(tmp_path):
    from .test_cli import run

    data = str(tmp_path / "d")
    assert run("ingest", "--data", data, str(CORPORA / "proposals")).returncode == 0
    csv_path = CORPORA / "proposals" / "提案导出_2022.csv"
    with open(csv_path, encoding="utf-8") as fh:
        rows = {r["编号"]: r for r in csv.DictReader(fh)}
    resubmission = rows["2022-006"]
    r = run("dupes", "--data", data, "--text", resubmission["内容"], "--title", resubmission["案由"], "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["verdict"] == "duplicate"
    assert {m["external_id"] for m in out["matches"]} >= {"2022-006", "2022-002"}
    r = run("dupes", "--data", data, "--cluster", "--json")
    clusters = json.loads(r.stdout)["clusters"]
    assert any({"2022-002", "2022-006"} <= {m["external_id"] for m in c["members"]} for c in clusters)
    r = run("dupes", "--data", data, "--text", "太短")
    assert r.returncode == 2 and "太短" in r.stderr
    r = run("dupes", "--data", data)
    assert r.returncode == 2
