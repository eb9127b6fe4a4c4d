#!/usr/bin/env python3
"""Generate small bad-input and encoding fixtures for the test-suite.

Writes (relative to the repository root):

    tests/fixtures/broken/     damaged, empty, mislabelled or unsupported files
    tests/fixtures/encodings/  valid text files in legacy/unusual encodings,
                               all holding the same text as expected.txt
    tests/fixtures/README.md   description of every fixture

Where possible the broken files are derived from the sample corpora, so run
``scripts/make_sample_corpora.py`` first.  All random data uses fixed seeds
and ZIP members get fixed timestamps, so re-runs give identical bytes, except
``encrypted.pdf`` (pypdf draws a random salt/ID when encrypting).

Usage:
    python scripts/make_broken_fixtures.py

Requires: reportlab, pypdf, openpyxl.
"""

from __future__ import annotations

import io
import json
import random
import re
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPORA = REPO_ROOT / "corpora"
FIXTURES = REPO_ROOT / "tests" / "fixtures"
BROKEN = FIXTURES / "broken"
ENCODINGS = FIXTURES / "encodings"

SAMPLE_PDF = CORPORA / "policy" / "关于加强政务信息公开工作的通知.pdf"
SAMPLE_DOCX = CORPORA / "proposals" / "关于加快发展社区嵌入式养老服务的提案.docx"

FIXED_ZIP_TIME = (2022, 3, 15, 9, 0, 0)

# The sentence used by every file under tests/fixtures/encodings/.
# Only characters inside GBK are used so that all three encodings round-trip.
ENCODING_TEXT = (
    "关于进一步做好政协提案办理工作的通知\n"
    "各承办单位要坚持办理质量与办理效率并重，认真研究提案提出的意见建议，"
    "在规定时限内答复提案者，切实提高提案办理的满意率和落实率。\n"
    "一是加强沟通协商，二是规范答复程序，三是强化跟踪督办。\n"
)


def zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    """Build a deterministic ZIP archive from (name, data) pairs."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zi = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zf.writestr(zi, data)
    return buf.getvalue()


def normalized_zip(data: bytes) -> bytes:
    """Re-pack a ZIP container with fixed timestamps (openpyxl stamps 'now'
    both on the ZIP members and in docProps/core.xml's dcterms:modified)."""
    members = []
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        for info in zin.infolist():
            content = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2022-03-15T09:00:00Z\g<2>",
                    content,
                )
            members.append((info.filename, content))
    return zip_bytes(members)


def cut(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


# --------------------------------------------------------------------------
# Broken / unsupported inputs
# --------------------------------------------------------------------------

def make_scanned_pdf() -> bytes:
    """A one-page PDF with no text layer: only vector shapes and a raster image,
    imitating a scanned page (the kind of file that needs OCR)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    w, h = A4
    # Greyish "paper" background.
    c.setFillColorRGB(0.96, 0.95, 0.92)
    c.rect(0, 0, w, h, stroke=0, fill=1)
    # Red header rule and a fake red stamp, as on a scanned 公文.
    c.setStrokeColorRGB(0.8, 0.1, 0.1)
    c.setLineWidth(2)
    c.line(79, h - 150, w - 74, h - 150)
    c.circle(w - 160, 170, 55, stroke=1, fill=0)
    # Bars standing in for lines of printed text.
    rng = random.Random(20220315)
    c.setFillColorRGB(0.25, 0.25, 0.25)
    y = h - 200
    while y > 250:
        x0 = 79 + (31 if rng.random() < 0.3 else 0)
        length = rng.uniform(250, w - 74 - x0)
        c.rect(x0, y, length, 9, stroke=0, fill=1)
        y -= 29
    # A small raster image (noise), embedded as an image XObject.
    try:
        from PIL import Image

        img = Image.new("L", (64, 64))
        img.putdata([rng.randrange(256) for _ in range(64 * 64)])
        c.drawImage(ImageReader(img), w - 215, 115, width=110, height=110)
    except ImportError:  # Pillow missing: shapes alone still have no text
        pass
    c.showPage()
    c.save()
    return buf.getvalue()


def make_encrypted_pdf(sample: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sample)))
    writer.encrypt(user_password="secret", owner_password="owner-secret", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def make_xlsx() -> bytes:
    """A small valid workbook (proposal list) made with openpyxl."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "提案"
    ws.append(["编号", "案由", "提案人", "类别"])
    ws.append(["2022-001", "关于推进中小学课后服务提质增效的提案", "陈某某", "教育"])
    ws.append(["2022-002", "关于加强农村生活污水治理的提案", "刘某某", "生态环境"])
    ws.append(["2022-003", "关于优化城区公交线网提升公交出行分担率的提案", "赵某某", "城乡建设"])
    wb.properties.creator = "jianyan"
    import datetime as _dt

    wb.properties.created = _dt.datetime(2022, 3, 15, 9, 0, 0)
    wb.properties.modified = _dt.datetime(2022, 3, 15, 9, 0, 0)
    buf = io.BytesIO()
    wb.save(buf)
    return normalized_zip(buf.getvalue())


def make_broken(out: Path) -> dict[str, bytes]:
    if not SAMPLE_PDF.exists() or not SAMPLE_DOCX.exists():
        sys.exit("sample corpora missing: run scripts/make_sample_corpora.py first")
    pdf = SAMPLE_PDF.read_bytes()
    docx = SAMPLE_DOCX.read_bytes()

    files: dict[str, bytes] = {}
    files["empty.txt"] = b""
    files["whitespace_only.txt"] = b"   \n\n\t  \r\n    \n \xe3\x80\x80\n\n"  # incl. U+3000
    files["truncated.pdf"] = cut(pdf, 0.40)
    files["encrypted.pdf"] = make_encrypted_pdf(pdf)
    files["scanned.pdf"] = make_scanned_pdf()
    files["not_really.pdf"] = (
        "这是一个纯文本文件，只是扩展名被改成了 .pdf。\n"
        "This is a plain text file renamed to .pdf.\n"
    ).encode("utf-8")
    files["truncated.docx"] = cut(docx, 0.50)
    files["corrupt.docx"] = random.Random(1001).randbytes(4096)
    files["zip_not_docx.docx"] = zip_bytes(
        [
            ("readme.txt", "这是一个普通的 zip 压缩包，不是 Word 文档。\n".encode("utf-8")),
            ("data/numbers.csv", b"a,b\n1,2\n3,4\n"),
        ]
    )
    files["bad.xlsx"] = cut(make_xlsx(), 0.50)
    files["records.csv"] = (
        "id,title,content\r\n"
        "r1,关于加强社区养老服务的提案,建议在老旧小区配建社区养老服务站点，提供助餐助浴服务。\r\n"
        "r2,关于优化公交线网的提案,建议撤并重复线路，增开社区微循环公交线路。\r\n"
    ).encode("utf-8")
    good1 = {"id": "j1", "title": "关于加强政务信息公开工作的通知",
             "content": "各乡镇、各部门要把政务公开纳入重要议事日程。"}
    good2 = {"id": "j3", "title": "关于推进中小学课后服务提质增效的提案",
             "content": "建议建立财政补助与服务性收费相结合的经费保障机制。"}
    files["bad_rows.jsonl"] = (
        json.dumps(good1, ensure_ascii=False) + "\n"
        + '{"id": "j2", "title": "缺少右引号和右括号, "content": "无效的 JSON 行\n'
        + json.dumps(good2, ensure_ascii=False) + "\n"
    ).encode("utf-8")
    rng = random.Random(2002)
    binary = bytearray(rng.randbytes(2048))
    for i in range(0, len(binary), 7):  # sprinkle plenty of NUL bytes
        binary[i] = 0
    files["binary.txt"] = bytes(binary)
    files["unknown.xyz"] = b"XYZF\x01\x00\x02" + "未知格式的数据块".encode("utf-8") + bytes(range(32))

    for name, data in files.items():
        (out / name).write_bytes(data)
    return files


# --------------------------------------------------------------------------
# Encoding fixtures (valid files, unusual encodings)
# --------------------------------------------------------------------------

def make_encodings(out: Path) -> dict[str, bytes]:
    files = {
        "expected.txt": ENCODING_TEXT.encode("utf-8"),
        "gbk_legacy.txt": ENCODING_TEXT.replace("\n", "\r\n").encode("gbk"),
        "utf16.txt": b"\xff\xfe" + ENCODING_TEXT.encode("utf-16-le"),
        "utf8_bom.md": b"\xef\xbb\xbf" + ENCODING_TEXT.encode("utf-8"),
    }
    for name, data in files.items():
        (out / name).write_bytes(data)
    return files


README = """\
# Test fixtures

Generated by `python scripts/make_broken_fixtures.py` (run
`scripts/make_sample_corpora.py` first: several broken files are derived from
the sample corpora). Re-runs are byte-identical except `broken/encrypted.pdf`
(pypdf uses a random salt when encrypting).

## `broken/` — bad inputs the ingester must reject or skip gracefully

| File | What it is | Expected behaviour |
|------|------------|--------------------|
| `empty.txt` | 0 bytes | empty document: skipped / reported, no crash |
| `whitespace_only.txt` | only spaces, tabs, CR/LF and an ideographic space (U+3000) | treated as empty |
| `truncated.pdf` | first 40% of the bytes of `corpora/policy/关于加强政务信息公开工作的通知.pdf` (no xref/trailer) | corrupt PDF error |
| `encrypted.pdf` | the sample PDF encrypted with pypdf (AES-128), user password `secret` | pdfplumber/pypdf raise without the password; opens with `password="secret"` |
| `scanned.pdf` | one A4 page with only vector shapes and a small raster image, no text layer | zero extracted chars: "no text layer / needs OCR" |
| `not_really.pdf` | a UTF-8 plain-text file with a `.pdf` extension | not a PDF (no `%PDF-` header) |
| `truncated.docx` | first 50% of the bytes of `corpora/proposals/关于加快发展社区嵌入式养老服务的提案.docx` | bad ZIP (no central directory) |
| `corrupt.docx` | 4096 random bytes (seed 1001) | not a ZIP at all |
| `zip_not_docx.docx` | a valid ZIP with `readme.txt` and `data/numbers.csv`, no `[Content_Types].xml` / `word/document.xml` | valid ZIP but not a Word document |
| `bad.xlsx` | a valid 4-row openpyxl workbook cut to 50% of its bytes | bad ZIP / corrupt workbook |
| `records.csv` | valid UTF-8 CSV, columns `id,title,content`, 2 rows | used with a `--map` that names a missing column (e.g. `body=内容`) → clear mapping error |
| `bad_rows.jsonl` | 3 lines: valid object (`j1`), invalid JSON line, valid object (`j3`) | bad line reported with its line number (2); the two good rows can still be ingested |
| `binary.txt` | 2048 random bytes (seed 2002) with a NUL every 7th byte, `.txt` extension | detected as binary, not decoded as text |
| `unknown.xyz` | a few bytes with an unknown extension and magic | unsupported file type |

## `encodings/` — valid text in different encodings

Each file decodes to exactly the text of `expected.txt` (UTF-8, LF line
endings; the GBK file uses CRLF, so compare after normalising line endings).

| File | Encoding |
|------|----------|
| `expected.txt` | UTF-8 without BOM, the reference text |
| `gbk_legacy.txt` | GBK (CRLF line endings) |
| `utf16.txt` | UTF-16 little-endian with BOM (`FF FE`) |
| `utf8_bom.md` | UTF-8 with BOM (`EF BB BF`) |
"""


def main() -> int:
    BROKEN.mkdir(parents=True, exist_ok=True)
    ENCODINGS.mkdir(parents=True, exist_ok=True)
    written = [(BROKEN / n, d) for n, d in make_broken(BROKEN).items()]
    written += [(ENCODINGS / n, d) for n, d in make_encodings(ENCODINGS).items()]
    (FIXTURES / "README.md").write_bytes(README.encode("utf-8"))
    written.append((FIXTURES / "README.md", README.encode("utf-8")))
    for path, data in written:
        assert len(data) < 50_000, path
        print(f"{len(data):8d}  {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
