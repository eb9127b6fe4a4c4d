"""Old office formats (#11): .doc, .wps, .rtf, .xls, .et read through a real LibreOffice.

The files are made by LibreOffice itself from DOCX/XLSX files of real text (WPS's .wps/.et are
Word/Excel 97 binaries: LibreOffice's Word 97 and Excel 97 filters write them). Each is read back
and compared with reading the DOCX/XLSX it was made from, the reference.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from jianyan.errors import LimitExceeded
from jianyan.ingest.convert import office_binary
from jianyan.ingest.limits import ReadLimits
from jianyan.ingest.readers import FieldMapping
from jianyan.ingest.sandbox import read_limited

from .conftest import proposal_rows, requires_office, requires_shared
from .test_cli import run

pytestmark = [requires_shared, requires_office]


def _soffice(source: Path, target: str, outdir: Path) -> Path:
    """Convert with LibreOffice as a user would ("save as"), in a profile of its own."""
    subprocess.run([office_binary(), "--headless", "--norestore",
                    f"-env:UserInstallation={(outdir / 'profile').as_uri()}",
                    "--convert-to", target, "--outdir", str(outdir), str(source)],
                   check=True, capture_output=True, timeout=180)
    return outdir / f"{source.stem}.{target.split(':')[0]}"


@pytest.fixture(scope="module")
def office_files(tmp_path_factory):
    import docx
    import openpyxl

    folder = tmp_path_factory.mktemp("legacy")
    rows = proposal_rows()
    row = rows[7]
    document = docx.Document()
    document.add_heading(row["reason"], 1)
    for para in row["content"].split("。")[:12]:
        if para.strip():
            document.add_paragraph(para.strip() + "。")
    original = folder / "proposal.docx"
    document.save(original)

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["pkid", "reason", "content"])
    for r in rows[:5]:
        sheet.append([r["pkid"], r["reason"], r["content"][:2000]])
    sheet_file = folder / "export.xlsx"
    book.save(sheet_file)

    made = {"docx": original, "xlsx": sheet_file,
            "doc": _soffice(original, "doc", folder), "rtf": _soffice(original, "rtf", folder),
            "xls": _soffice(sheet_file, "xls", folder)}
    made["wps"] = shutil.copyfile(made["doc"], folder / "proposal.wps")
    made["et"] = shutil.copyfile(made["xls"], folder / "export.et")
    return made


def _texts(path: Path, **kw) -> list[str]:
    docs, problems = read_limited(path, "x", name=path.name, **kw)
    assert not problems
    return [[line.text for line in d.lines if line.text.strip()] for d in docs]


@pytest.mark.parametrize("fmt", ["doc", "wps", "rtf"])
def test_word_processor_files_read_as_their_docx(office_files, fmt):
    docs, _ = read_limited(office_files[fmt], "x", name=f"提案.{fmt}")
    assert docs[0].source_format == fmt and docs[0].fields["converted_from"] == fmt
    assert _texts(office_files[fmt]) == _texts(office_files["docx"])


@pytest.mark.parametrize("fmt", ["xls", "et"])
def test_spreadsheets_read_as_their_xlsx_record_by_record(office_files, fmt):
    spec = FieldMapping.parse("id=pkid,title=reason,body=content")
    legacy, _ = read_limited(office_files[fmt], "x", spec, name=f"导出.{fmt}")
    reference, _ = read_limited(office_files["xlsx"], "x", spec, name="导出.xlsx")
    assert [d.external_id for d in legacy] == [d.external_id for d in reference] == [r["pkid"] for r in proposal_rows()[:5]]
    assert [[ln.text for ln in d.lines] for d in legacy] == [[ln.text for ln in d.lines] for d in reference]
    assert {d.source_format for d in legacy} == {fmt}


def test_content_decides_not_the_name(office_files, tmp_path):
    """A .doc without its suffix, and an RTF saved under .doc (Word does that), still read."""
    bare = shutil.copyfile(office_files["doc"], tmp_path / "no-suffix")
    rtf_as_doc = shutil.copyfile(office_files["rtf"], tmp_path / "really-rtf.doc")
    assert _texts(bare) == _texts(rtf_as_doc) == _texts(office_files["docx"])


def test_a_hostile_file_name_never_reaches_the_converter(office_files, tmp_path):
    evil = tmp_path / "$(touch pwned); rm -rf x `id`.doc"
    shutil.copyfile(office_files["doc"], evil)
    assert _texts(evil) == _texts(office_files["docx"])
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_missing_libreoffice_is_a_clear_error(office_files, tmp_path):
    """Through the CLI, as a user without LibreOffice meets it: the file fails with the reason,
    the others of the run are imported."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(office_files["doc"], folder / "提案.doc")
    (folder / "说明.txt").write_text("关于加强基层协商的几点说明。" * 5, encoding="utf-8")
    done = run("ingest", str(folder), "--data", str(tmp_path / "data"), "--no-index", "--no-progress",
               env={"JIANYAN_SOFFICE": "/nonexistent/soffice"})
    said = done.stdout + done.stderr
    assert "LibreOffice" in said and "提案.doc" in said and "Traceback" not in said
    assert "1 篇" in said or "新增 1" in said, said


def test_a_conversion_past_the_time_limit_is_stopped(office_files):
    limits = replace(ReadLimits(), seconds=1.0)  # LibreOffice takes seconds to start
    with pytest.raises(LimitExceeded) as info:
        read_limited(office_files["doc"], "x", name="提案.doc", limits=limits)
    assert info.value.limit == "seconds"
    leftover = subprocess.run(["pgrep", "-f", "jianyan-convert-"], capture_output=True, text=True).stdout
    assert not leftover.strip()
