"""Shared fixtures. Tests read the real corpora in ../shared when it is there (always on CI)."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from jianyan.ingest.readers import FieldMapping
from jianyan.store import Store

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT / "corpora"
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = ROOT.parent / "shared"
SEED = SHARED / "seed" / "000_d3ce3beb9149fa2b.txt"
PROPOSALS_CSV = SHARED / "corpora" / "jiangsu-cppcc-proposals-2019" / "jszx2019.csv"
REPORTS_JSONL = SHARED / "corpora" / "state-council-work-reports" / "government_work_reports.jsonl"
POLICIES_JSONL = SHARED / "corpora" / "state-council-policies" / "policies_clean.jsonl"

PROPOSAL_MAP = "id=pkid,title=reason,body=content,author=personnel_name,category=type,date=publish_time"
REPORT_MAP = "id=url,body=content"
POLICY_MAP = "id=url"

if os.environ.get("JIANYAN_REQUIRE_SHARED") and not PROPOSALS_CSV.exists():
    raise RuntimeError(f"JIANYAN_REQUIRE_SHARED is set but {PROPOSALS_CSV} is missing")

requires_shared = pytest.mark.skipif(
    not PROPOSALS_CSV.exists(),
    reason="needs the real corpora in ../shared (present on CI; absent in a user's own clone)")

# LibreOffice (legacy office formats, and rendering test pages): skipped where it is missing,
# required where JIANYAN_REQUIRE_OFFICE=1 (CI installs it).
_OFFICE = shutil.which("soffice")
if os.environ.get("JIANYAN_REQUIRE_OFFICE") == "1" and not _OFFICE:
    raise RuntimeError("JIANYAN_REQUIRE_OFFICE=1 but soffice is missing (apt-get install libreoffice-writer-nogui)")
requires_office = pytest.mark.skipif(
    not _OFFICE, reason="needs LibreOffice (apt-get install libreoffice-writer-nogui libreoffice-calc-nogui)")


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "data")
    yield s
    s.close()


def proposal_rows() -> list[dict]:
    with open(PROPOSALS_CSV, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def mapping(spec: str) -> FieldMapping:
    return FieldMapping.parse(spec)


@pytest.fixture(scope="session")
def real_store(tmp_path_factory) -> Store:
    """The three real corpora, ingested once for the whole session."""
    if not PROPOSALS_CSV.exists():
        pytest.skip("needs the real corpora in ../shared")
    from jianyan.ingest.pipeline import ingest_paths

    s = Store(tmp_path_factory.mktemp("real") / "data")
    for path, spec, doc_type in ((PROPOSALS_CSV, PROPOSAL_MAP, None), (REPORTS_JSONL, REPORT_MAP, None),
                                 (POLICIES_JSONL, POLICY_MAP, None)):
        report = ingest_paths([path], s, mapping(spec), doc_type, progress=False)
        assert not report.failed, report.failed[:3]
    yield s
    s.close()


@pytest.fixture(scope="session")
def proposal_index(tmp_path_factory):
    """The 436 real proposals, ingested and indexed with the real model, once per session."""
    if not PROPOSALS_CSV.exists():
        pytest.skip("needs the real corpora in ../shared")
    from jianyan.index.sync import load_indexes, sync_indexes
    from jianyan.ingest.pipeline import ingest_paths

    s = Store(tmp_path_factory.mktemp("proposals") / "data")
    ingest_paths([PROPOSALS_CSV], s, mapping(PROPOSAL_MAP), progress=False)
    sync_indexes(s, progress=False)  # the fastest engine available, as `jianyan ingest` does
    yield s, load_indexes(s.data_dir)
    s.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A real `jianyan serve` over the bundled corpora/ (ingested on start), for the whole session."""
    from tests.server import running_server

    with running_server(tmp_path_factory.mktemp("service") / "data", corpus=CORPORA) as s:
        yield s
