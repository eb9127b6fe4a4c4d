"""The OFD reader on OFD files made by a real writer from real documents (tests/ofd_files.py):
text back in reading order paragraph by paragraph, pages in the order Document.xml lists
them, metadata, template and annotation text, and hostile files refused with a Chinese message.

Hostile and unusual files are a real OFD from the writer whose XML is then altered with
zipfile and lxml (tests/ofd_files.py `altered`): the way such a file is made in the wild.
The source text is the reference: the State Council documents of ../shared (each OFD is made
from one), or, without ../shared, the bundled sample PDF read by the PDF reader.
"""

from __future__ import annotations

import re
import time
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from jianyan.documents import SourceDocument
from jianyan.errors import CorruptFile, LimitExceeded, NeedsOCR
from jianyan.ingest.clean import clean_lines
from jianyan.ingest.limits import ReadLimits
from jianyan.ingest.metadata import find_date
from jianyan.ingest.pipeline import prepare
from jianyan.ingest.readers.ofd import read_ofd
from jianyan.ingest.readers.pdf import read_pdf

from . import ofd_files
from .conftest import CORPORA, POLICIES_JSONL, requires_office, requires_shared

# easyofd (the OFD writer the test files are made with) is a test dependency: never skipped.
needs_soffice = requires_office  # the PDFs it converts are made by LibreOffice

SAMPLE_PDF = CORPORA / "policy" / "关于加强政务信息公开工作的通知.pdf"
POLICY_IDS = ("1", "6", "11")  # 国发〔2019〕5号 (9 pages), 国办发〔2019〕3号, 国发〔2018〕44号
DOC0 = "Doc_0/"


def _squash(text: str) -> str:
    # The writer (PyMuPDF's text of the PDF) turns LibreOffice's CJK–Latin autospace into a
    # space ("2019 年") and a fixed layout holds no other trace of spaces: compare without them.
    return re.sub(r"\s+", "", text)


def _texts(lines) -> list[str]:
    return [_squash(line.text) for line in lines]


@pytest.fixture(scope="module")
def ofds(tmp_path_factory) -> dict:
    """The test OFDs, made in one run of the writer: the bundled sample PDF as text and as
    scanned OFD; with ../shared and LibreOffice, three State Council documents too."""
    folder = tmp_path_factory.mktemp("ofd")
    jobs = {"sample": (SAMPLE_PDF, folder / "sample.ofd", True),
            "scanned": (SAMPLE_PDF, folder / "scanned.ofd", False)}
    records = {}
    if POLICIES_JSONL.exists() and ofd_files.SOFFICE:
        records = {k: v for k, v in ofd_files.policies(POLICIES_JSONL).items() if k in POLICY_IDS}
        docs = [ofd_files.write_docx(records[k], folder / f"doc_{k}.docx") for k in POLICY_IDS]
        for key, pdf in zip(POLICY_IDS, ofd_files.docx_to_pdf(docs, folder)):
            jobs[key] = (pdf, folder / f"doc_{key}.ofd", True)
    t0 = time.monotonic()
    paths = dict(zip(jobs, ofd_files.pdfs_to_ofd(list(jobs.values()))))
    paths["_seconds"] = time.monotonic() - t0
    paths["_records"] = records
    paths["_folder"] = folder
    return paths


def _policy(ofds, key: str) -> tuple[Path, dict]:
    if key not in ofds:
        pytest.skip("needs ../shared and LibreOffice")
    return ofds[key], ofds["_records"][key]


def _xml_edit(fn):
    """An `altered` edit that changes a part's lxml tree in place."""
    def edit(data: bytes) -> bytes:
        root = etree.fromstring(data)
        fn(root)
        return etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return edit


def _ns(root) -> str:
    return etree.QName(root).namespace or ""


def _q(root, name: str) -> str:
    return f"{{{_ns(root)}}}{name}" if _ns(root) else name


def _object_text(obj) -> str:
    return "".join(code.text or "" for code in obj.iter(_q(obj, "TextCode")))


def _pages(path: Path) -> list[str]:
    """The page content members, in the order Document.xml lists them."""
    with zipfile.ZipFile(path) as zf:
        doc = etree.fromstring(zf.read(DOC0 + "Document.xml"))
    return [DOC0 + p.get("BaseLoc") for p in doc.iter(_q(doc, "Page")) if p.get("BaseLoc")]


def _tmp(ofds, name: str) -> Path:
    return ofds["_folder"] / name


# -- text in reading order -------------------------------------------------------------------------
@requires_shared
@needs_soffice
@pytest.mark.parametrize("key", POLICY_IDS)
def test_text_equals_the_source_paragraph_by_paragraph(ofds, key):
    path, record = _policy(ofds, key)
    lines, _ = read_ofd(path)
    assert all(line.hard for line in lines)
    assert _texts(lines) == [_squash(p) for p in ofd_files.paragraphs(record)]


@requires_shared
@needs_soffice
def test_pages_follow_document_xml_not_the_zip(ofds):
    """A multi-page file whose pages' folders are renamed in reverse and whose zip lists its
    members backwards: pages are read in the order Document.xml gives."""
    path, record = _policy(ofds, "1")
    pages = _pages(path)
    assert len(pages) >= 3
    n = len(pages)

    def rename(name: str) -> str:
        m = re.match(r"(Doc_0/Pages/Page_)(\d+)(/.*)", name)
        return f"{m.group(1)}{n - 1 - int(m.group(2))}{m.group(3)}" if m else name

    def relink(root) -> None:
        for page in root.iter(_q(root, "Page")):
            m = re.match(r"(Pages/Page_)(\d+)(/.*)", page.get("BaseLoc") or "")
            if m:
                page.set("BaseLoc", f"{m.group(1)}{n - 1 - int(m.group(2))}{m.group(3)}")

    moved = ofd_files.altered(path, _tmp(ofds, "renamed.ofd"), {DOC0 + "Document.xml": _xml_edit(relink)},
                              rename=rename)
    with zipfile.ZipFile(moved) as zf:  # …and the zip's own order runs the other way
        members = [(i, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(moved, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in reversed(members):
            zf.writestr(info, data)
    assert _pages(moved) == [rename(p) for p in pages]
    lines, _ = read_ofd(moved)
    assert _texts(lines) == [_squash(p) for p in ofd_files.paragraphs(record)]


@requires_shared
@needs_soffice
def test_text_objects_out_of_order_in_the_file(ofds):
    """Each page's TextObjects written in reverse: reading order comes from the coordinates."""
    path, record = _policy(ofds, "6")

    def reverse(root) -> None:
        for layer in root.iter(_q(root, "Layer")):
            objects = list(layer)
            for obj in objects:
                layer.remove(obj)
            layer.extend(reversed(objects))

    edited = ofd_files.altered(path, _tmp(ofds, "reversed.ofd"),
                               {p: _xml_edit(reverse) for p in _pages(path)})
    lines, _ = read_ofd(edited)
    assert _texts(lines) == [_squash(p) for p in ofd_files.paragraphs(record)]


@requires_shared
@needs_soffice
def test_template_page_text_is_read_once_in_place(ofds):
    """The title and 文号 moved from page 1 to a template page that every page uses (as a
    版头 may be kept): read once, where it stands."""
    path, record = _policy(ofds, "1")
    pages = _pages(path)
    source = ofd_files.paragraphs(record)
    head = _squash("".join(source[: source.index(record["doc_number"]) + 1]))
    with zipfile.ZipFile(path) as zf:
        first = etree.fromstring(zf.read(pages[0]))
    layer = next(first.iter(_q(first, "Layer")))
    moved, got = [], ""
    for obj in list(layer):
        if len(got) >= len(head):
            break
        got += _squash(_object_text(obj))
        moved.append(obj)
        layer.remove(obj)
    assert got == head
    tpl = etree.Element(_q(first, "Page"), nsmap=first.nsmap)
    content = etree.SubElement(tpl, _q(first, "Content"))
    etree.SubElement(content, _q(first, "Layer"), Type="Background").extend(moved)

    def declare(root) -> None:
        common = next(root.iter(_q(root, "CommonData")))
        etree.SubElement(common, _q(root, "TemplatePage"), ID="900", BaseLoc="Tpls/Tpl_0/Content.xml")

    edits = {p: _xml_edit(_with_template) for p in pages}
    edits[pages[0]] = lambda _: etree.tostring(_with_template(first), xml_declaration=True, encoding="utf-8")
    edits[DOC0 + "Document.xml"] = _xml_edit(declare)
    edited = ofd_files.altered(path, _tmp(ofds, "template.ofd"), edits,
                               add={DOC0 + "Tpls/Tpl_0/Content.xml": etree.tostring(tpl, encoding="utf-8")})
    lines, _ = read_ofd(edited)
    assert _texts(lines) == [_squash(p) for p in source]


def _with_template(page):
    """The page uses template page 900 (a <Template> before its content, as the standard has it)."""
    page.insert(0, etree.Element(_q(page, "Template"), TemplateID="900", ZOrder="Background"))
    return page


def test_the_sample_pdf_and_its_ofd_read_alike(ofds):
    """Without ../shared: the OFD of the bundled sample PDF reads as the PDF reader reads the
    PDF (running header and page numbers dropped alike)."""
    lines, _ = read_ofd(ofds["sample"])
    pdf_lines, _ = read_pdf(SAMPLE_PDF)
    assert len(_pages(ofds["sample"])) >= 2
    assert _texts(lines) == _texts(pdf_lines)
    text = "\n".join(line.text for line in lines)
    assert "— 1 —" not in text and text.count("XX县人民政府办公室文件") <= 1


def test_annotation_text_read_watermark_not(ofds):
    """A stamp annotation whose appearance holds text is read; a watermark is not."""
    path = ofds["sample"]
    pages = _pages(path)
    with zipfile.ZipFile(path) as zf:
        doc = etree.fromstring(zf.read(DOC0 + "Document.xml"))
        last = etree.fromstring(zf.read(pages[-1]))
    page_ids = [p.get("ID") for p in doc.iter(_q(doc, "Page"))]
    below = max(float(o.get("Boundary").split()[1]) for o in last.iter(_q(last, "TextObject"))
                if "此件公开发布" in _object_text(o))
    size = 2.0
    ns = _ns(doc)

    def annot(kind: str, text: str, y: float) -> str:
        return (f'<ofd:Annot ID="{800 + y:.0f}" Type="{kind}">'
                f'<ofd:Appearance Boundary="30 {y} 60 {size * 2}">'
                f'<ofd:TextObject ID="1" Boundary="0 0 60 {size * 2}" Font="1" Size="{size}">'
                f'<ofd:TextCode X="0" Y="{size}" DeltaX="g {len(text) - 1} {size}">{text}</ofd:TextCode>'
                f'</ofd:TextObject></ofd:Appearance></ofd:Annot>')

    page_annots = {}
    listing = f'<ofd:Annotations xmlns:ofd="{ns}">'
    for i, page_id in enumerate(page_ids):
        body = annot("Watermark", "内部资料", 60)
        if i == len(page_ids) - 1:
            body += annot("Stamp", "已归档备查", below + 3 * size)
        page_annots[f"{DOC0}Annots/Page_{i}/Annotation.xml"] = (
            f'<?xml version="1.0" encoding="utf-8"?><ofd:PageAnnot xmlns:ofd="{ns}">{body}'
            '</ofd:PageAnnot>').encode()
        listing += (f'<ofd:Page PageID="{page_id}">'
                    f'<ofd:FileLoc>Page_{i}/Annotation.xml</ofd:FileLoc></ofd:Page>')
    listing += "</ofd:Annotations>"

    def link(root) -> None:
        etree.SubElement(root, _q(root, "Annotations")).text = "Annots/Annotations.xml"

    edited = ofd_files.altered(path, _tmp(ofds, "annots.ofd"), {DOC0 + "Document.xml": _xml_edit(link)},
                               add={DOC0 + "Annots/Annotations.xml": listing.encode(), **page_annots})
    lines, _ = read_ofd(edited)
    plain, _ = read_ofd(path)
    assert _texts(lines) == _texts(plain) + ["已归档备查"]
    assert not any("内部资料" in line.text for line in lines)


# -- metadata ----------------------------------------------------------------------------------------
@requires_shared
@needs_soffice
def test_metadata_from_doc_info_and_custom_datas(ofds):
    """OFD.xml's DocInfo given Title, Author and CustomDatas (文号, 发文机关, 成文日期), as
    electronic 公文 systems fill them: the fields carry them."""
    path, record = _policy(ofds, "1")
    source = ofd_files.paragraphs(record)
    date = find_date(source[-1]) or find_date(source[-2])
    assert date

    def fill(root) -> None:
        info = next(root.iter(_q(root, "DocInfo")))
        for name, value in (("Title", record["title"]), ("Author", record["issuer"])):
            etree.SubElement(info, _q(root, name)).text = value
        customs = etree.SubElement(info, _q(root, "CustomDatas"))
        for name, value in (("文号", record["doc_number"]), ("发文机关", record["issuer"]), ("成文日期", date)):
            etree.SubElement(customs, _q(root, "CustomData"), Name=name).text = value

    edited = ofd_files.altered(path, _tmp(ofds, "meta.ofd"), {"OFD.xml": _xml_edit(fill)})
    _, fields = read_ofd(edited)
    assert fields["title"] == record["title"] and fields["author"] == record["issuer"]
    assert fields["doc_number"] == record["doc_number"] and fields["issuer"] == record["issuer"]
    assert fields["date"] == date and fields["created"]  # the file's CreationDate, kept apart


@requires_shared
@needs_soffice
def test_metadata_from_the_text_alone(ofds):
    """The writer's own DocInfo has no title or 文号 (and its lower-case `author` is not the
    standard's Author): the pipeline finds 文号 and 发文机关 in the text read."""
    path, record = _policy(ofds, "1")
    lines, fields = read_ofd(path)
    assert "author" not in fields and "title" not in fields
    doc = SourceDocument("ofd-1", str(path), "ofd", lines, "x", fields)
    metadata = prepare(doc, clean_lines(lines)).metadata
    assert metadata.doc_number == record["doc_number"] and metadata.issuer == record["issuer"]


# -- scanned, limits, hostile files ---------------------------------------------------------------
def test_a_scanned_ofd_needs_ocr(ofds):
    with pytest.raises(NeedsOCR) as info:
        read_ofd(ofds["scanned"])
    assert "OCR" in info.value.message and "扫描件" in info.value.message


def test_pages_counted_before_any_is_parsed(ofds):
    """Over the page limit even though page 1 is broken XML: counted from Document.xml first."""
    path = ofds["sample"]
    broken = ofd_files.altered(path, _tmp(ofds, "pages.ofd"), {_pages(path)[0]: lambda d: d[: len(d) // 2]})
    with pytest.raises(CorruptFile):
        read_ofd(broken)
    with pytest.raises(LimitExceeded) as info:
        read_ofd(broken, ReadLimits(pages=1))
    assert info.value.limit == "pages" and "JIANYAN_READ_MAX_PAGES" in info.value.message


@pytest.mark.parametrize("limit", ["chars", "paragraphs"])
def test_chars_and_paragraphs_limits(ofds, limit):
    with pytest.raises(LimitExceeded) as info:
        read_ofd(ofds["sample"], ReadLimits(**{limit: 5}))
    assert info.value.limit == limit


def test_zip_bomb_refused(ofds):
    """Page 1's content padded with 80 MB of blanks (valid XML, tiny once deflated)."""
    path = ofds["sample"]
    page = _pages(path)[0]
    bomb = ofd_files.altered(path, _tmp(ofds, "bomb.ofd"),
                             {page: lambda d: d.replace(b"<ofd:Layer", b" " * 80_000_000 + b"<ofd:Layer", 1)})
    assert bomb.stat().st_size < 1_000_000
    t0 = time.monotonic()
    with pytest.raises(CorruptFile) as info:
        read_ofd(bomb)
    assert "压缩炸弹" in info.value.message and time.monotonic() - t0 < 5


# The classic billion laughs: lol1 is ten &lol;, each lolN ten of lol(N-1): 10^9 "lol"s.
_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                     for i in range(1, 10))
           + "]>").encode()


def _with_dtd(dtd: bytes, entity: bytes):
    """A real page with a DTD before its root and an entity reference in its first TextCode."""
    def edit(data: bytes) -> bytes:
        decl, rest = data.split(b"?>", 1)
        rest = re.sub(rb"(<ofd:TextCode[^>]*>)", rb"\1" + entity, rest, count=1)
        return decl + b"?>" + dtd + rest
    return edit


def test_billion_laughs_refused_fast(ofds):
    path = ofds["sample"]
    bomb = ofd_files.altered(path, _tmp(ofds, "laughs.ofd"), {_pages(path)[0]: _with_dtd(_LAUGHS, b"&lol9;")})
    t0 = time.monotonic()
    with pytest.raises(CorruptFile) as info:
        read_ofd(bomb)
    assert time.monotonic() - t0 < 5
    assert "DTD" in info.value.message and "lollol" not in info.value.message


def test_external_entity_never_read(ofds, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("机密口令-7f3a", encoding="utf-8")
    path = ofds["sample"]
    for target, name in ((secret.as_uri(), "xxe-file.ofd"), ("file:///etc/passwd", "xxe-passwd.ofd")):
        dtd = b'<!DOCTYPE p [<!ENTITY xxe SYSTEM "' + target.encode() + b'">]>'
        evil = ofd_files.altered(path, _tmp(ofds, name), {_pages(path)[0]: _with_dtd(dtd, b"&xxe;")})
        with pytest.raises(CorruptFile) as info:
            read_ofd(evil)
        assert "DTD" in info.value.message
        assert "机密口令" not in str(info.value) and "root:" not in str(info.value)


@pytest.mark.parametrize("loc, words", [("../../x/Content.xml", "越出"), ("../../../etc/passwd", "越出"),
                                        ("file:///etc/passwd", "以外"), ("/etc/passwd", "缺少")])
def test_page_path_out_of_the_package_refused(ofds, loc, words):
    """A page's BaseLoc climbing out of the zip, naming a URL, or an absolute path (read, as
    the standard says, from the package root: so never a file of this machine)."""
    path = ofds["sample"]

    def escape(root) -> None:
        list(root.iter(_q(root, "Page")))[1].set("BaseLoc", loc)

    evil = ofd_files.altered(path, _tmp(ofds, "escape.ofd"), {DOC0 + "Document.xml": _xml_edit(escape)})
    with pytest.raises(CorruptFile) as info:
        read_ofd(evil)
    assert words in info.value.message and "root:" not in info.value.message


@pytest.mark.parametrize("member, words", [("Doc_0/Document.xml", "Document.xml"), ("OFD.xml", "OFD.xml"),
                                           ("Doc_0/Pages/Page_1/Content.xml", "第 2 页")])
def test_missing_parts_are_corrupt(ofds, member, words):
    path = ofds["sample"]
    broken = ofd_files.altered(path, _tmp(ofds, "missing.ofd"), {member: lambda _: None})
    with pytest.raises(CorruptFile) as info:
        read_ofd(broken)
    assert words in info.value.message


def test_truncated_zip_is_corrupt(ofds):
    data = ofds["sample"].read_bytes()
    cut = _tmp(ofds, "truncated.ofd")
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFile) as info:
        read_ofd(cut)
    assert "损坏" in info.value.message
