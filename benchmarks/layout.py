"""Layout reading on every State Council work report of ../shared (tests/layout_files.py).

Each report is set as GB/T 9704 sets it (一、 in 黑体, the sub-headings its source marks only by
blank lines in 楷体, the body in 仿宋) and read back. Prints, per format:
  typeface headings  precision and recall of the headings found by typeface against the
                     sub-headings set in 楷体, and the share nested under the right 一、 heading
  paragraphs         source paragraphs read back whole (whitespace ignored), and the share of
                     consecutive ones in order (two columns read across would interleave)

    python benchmarks/layout.py                  # DOCX only (seconds)
    python benchmarks/layout.py --pdf            # also PDF, one and two columns (LibreOffice, minutes)
"""

from __future__ import annotations

import argparse
import json
import re
import unicodedata
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jianyan.ingest.clean import clean_lines  # noqa: E402
from jianyan.ingest.pipeline import split_paragraphs  # noqa: E402
from jianyan.ingest.structure import iter_nodes  # noqa: E402
from tests.layout_files import PRINT_FACES, report_items, write_gbt_docx  # noqa: E402

REPORTS = ROOT.parent / "shared" / "corpora" / "state-council-work-reports" / "government_work_reports.jsonl"


def _norm(text: str) -> str:
    """Compared as cleaning stores it: full-width digits and letters folded, no spaces."""
    return re.sub(r"[\s\u200b-\u200f\ufeff]", "", unicodedata.normalize("NFKC", text))


def score(lines, items) -> dict:
    paragraphs = clean_lines(lines)
    _, structure, _ = split_paragraphs(paragraphs)
    nodes = list(iter_nodes(structure.tree))
    subs = [_norm(t) for k, t in items if k == "sub"]
    found = [_norm(n.label) for _, n in nodes if n.kind == "style"]
    parent = {}
    for depth, node in nodes:
        if node.kind == "cn" and depth == 0:
            for child in node.children:
                if child.kind == "style":
                    parent[_norm(child.label)] = _norm(node.label)
    expected_parent, current = {}, None
    for kind, text in items:
        if kind == "heading":
            current = _norm(text)
        elif kind == "sub" and current:
            expected_parent[_norm(text)] = current
    # A heading's label is its first clause (structure.heading_label): compared as a prefix.
    nested = sum(bool(parent.get(s)) and p.startswith(parent[s].rstrip("…")) for s, p in expected_parent.items())
    source = [_norm(t) for k, t in items if k != "title"]
    got = [_norm(p.text) for p in paragraphs]
    position = {t: i for i, t in enumerate(got)}
    at = [position[t] for t in source if t in position]
    return {"subs": len(subs), "found": len(found), "right": len(set(found) & set(subs)),
            "nested": nested, "to_nest": len(expected_parent), "source": len(source), "whole": len(at),
            "in_order": sum(1 for a, b in zip(at, at[1:]) if b > a), "pairs": max(0, len(at) - 1)}


def report(name: str, scores: list[dict]) -> None:
    t = {k: sum(s[k] for s in scores) for k in scores[0]}
    precision = t["right"] / t["found"] if t["found"] else 1.0
    print(f"{name:<12} {len(scores):>3} reports  typeface headings P {precision:.3f} R {t['right'] / t['subs']:.3f} "
          f"nested {t['nested'] / max(1, t['to_nest']):.3f}  paragraphs whole {t['whole'] / t['source']:.3f} "
          f"in order {t['in_order'] / max(1, t['pairs']):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pdf", action="store_true", help="also print to PDF with LibreOffice and read that")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them (else a temporary folder)")
    args = parser.parse_args()
    from jianyan.ingest.readers.docx import read_docx

    years = sorted({r["year"] for r in map(json.loads, REPORTS.read_text(encoding="utf-8").splitlines())
                    if r.get("year")})
    reports = [(y, report_items(REPORTS, int(y))) for y in years]
    reports = [(y, it) for y, it in reports if any(k == "sub" for k, _ in it)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        docx = [score(read_docx(write_gbt_docx(it, folder / f"{y}.docx"))[0], it) for y, it in reports]
        report("DOCX", docx)
        if args.pdf:
            from jianyan.ingest.readers.pdf import read_pdf
            from tests.ofd_files import docx_to_pdf

            for columns in (1, 2):
                paths = [write_gbt_docx(it, folder / f"{y}-{columns}.docx", PRINT_FACES, columns=columns)
                         for y, it in reports]
                pdfs = docx_to_pdf(paths, folder)
                report(f"PDF {columns} col", [score(read_pdf(p)[0], it) for p, (_, it) in zip(pdfs, reports)])


if __name__ == "__main__":
    main()
