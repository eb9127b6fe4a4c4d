"""OFD (GB/T 33190, the fixed-layout format of Chinese electronic official documents).

An OFD is a zip package: OFD.xml (DocInfo metadata, DocRoot) → Document.xml (pages in order,
template pages, annotations) → one Content.xml per page, whose TextObjects hold TextCodes
placed by coordinates. Text is put back in reading order by geometry: TextCodes are grouped
into lines by their absolute baseline and sorted by X, then the lines are re-joined into
paragraphs the way the PDF reader does (`lines.py`), running headers, footers and page
numbers dropped the same way. Elements are matched by local name (writers use other namespace
URIs than the standard's); a template page's text is read once, on the first page using it;
annotation appearances count when they hold text, watermarks (by Type, or slanted or
see-through text) do not; signatures (seal images) never. A package of several documents
(DocBody) reads as its first.

Every part is read from the zip (never unpacked to disk) with a parser that loads no DTD,
expands no entity and reaches no network; a part that declares a DTD is refused outright.
Paths are resolved inside the package only: one that would climb out of it is refused.
"""

from __future__ import annotations

import posixpath
import re
import statistics
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ...documents import SourceLine
from ...errors import CorruptFile, EmptyDocument, JianyanError, LimitExceeded, NeedsOCR
from ..filetype import check_zip
from ..limits import ReadLimits
from ..typography import Look, look_of
from .lines import body_lines, carry_columns, column_groups, paragraphs

# CustomData names (as 党政机关电子公文 systems and converters write them) → our fields.
_CUSTOM_FIELDS = {
    "文号": "doc_number", "发文字号": "doc_number", "发文文号": "doc_number", "docnumber": "doc_number",
    "发文机关": "issuer", "发文机关名称": "issuer", "发文单位": "issuer", "成文机关": "issuer",
    "issuer": "issuer",
    "成文日期": "date", "发文日期": "date", "印发日期": "date", "签发日期": "date", "issuedate": "date",
    "标题": "title", "题名": "title", "公文标题": "title", "title": "title",
    "作者": "author", "author": "author",
}
_SKIPPED_ANNOTS = {"watermark"}  # a watermark's text (内部资料, 样本) is not the document's
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # file:, http:, C: …


@dataclass
class _Run:
    """The text of one TextCode (or one glyph of a vertical one), in page coordinates."""

    x0: float
    x1: float
    y: float  # baseline
    size: float
    text: str
    seq: int  # order in the file: keeps runs drawn at one spot in the order they were written
    look: Look | None = None


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(el, name: str):
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _children(el, name: str) -> list:
    return [c for c in el if _local(c.tag) == name]


def _text(el) -> str:
    return (el.text or "").strip() if el is not None else ""


def _floats(value: str | None) -> list[float]:
    out = []
    for token in (value or "").replace(",", " ").split():
        try:
            out.append(float(token))
        except ValueError:
            return []
    return out


def _deltas(value: str | None, need: int) -> list[float]:
    """DeltaX/DeltaY: numbers, where `g N d` stands for N times d; the first `need` of them."""
    tokens, out, i = (value or "").split(), [], 0
    while i < len(tokens) and len(out) < need:
        try:
            if tokens[i] == "g" and i + 2 < len(tokens):
                out.extend([float(tokens[i + 2])] * max(0, min(int(tokens[i + 1]), need - len(out))))
                i += 3
            else:
                out.append(float(tokens[i]))
                i += 1
        except ValueError:
            i += 1
    return out


def _advance(ch: str, size: float) -> float:
    """A glyph's width when the file does not give it: full-width (CJK) 1 em, others ½ em."""
    return size if unicodedata.east_asian_width(ch) in ("W", "F") else 0.5 * size


class _Package:
    """The zip's parts by normalised name; paths resolved inside it, XML parsed safely."""

    def __init__(self, zf: zipfile.ZipFile, path: Path, limits: ReadLimits) -> None:
        self.zf, self.path, self.limits = zf, str(path), limits
        self.names: dict[str, str] = {}
        self.lower: dict[str, str] = {}
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename.replace("\\", "/").lstrip("/")
            self.names.setdefault(name, info.filename)
            self.lower.setdefault(name.lower(), info.filename)
        self.chars = 0  # text read so far (with empty TextCodes counted as one)

    def corrupt(self, message: str) -> CorruptFile:
        return CorruptFile(message, path=self.path)

    def resolve(self, base_dir: str, loc: str, what: str, fallback_dirs: tuple[str, ...] = (),
                required: bool = True) -> str | None:
        """The zip member `loc` names, relative to `base_dir` (the referring file's folder) or,
        written with a leading "/", to the package root. Climbing out of it is refused; a
        member that is not there is reported as `what` missing (None if not `required`)."""
        loc = (loc or "").strip().replace("\\", "/")
        if not loc:
            raise self.corrupt(f"OFD 文件损坏：{what}的路径为空")
        if _SCHEME.match(loc) or loc.startswith("//"):
            raise self.corrupt(f"OFD 文件中{what}的路径指向文件包以外（{loc}），已拒绝")
        tried = []
        bases = ("",) if loc.startswith("/") else (base_dir, *fallback_dirs, "")
        for base in dict.fromkeys(bases):
            joined = posixpath.normpath(posixpath.join(base, loc.lstrip("/")))
            if joined == ".." or joined.startswith("../") or joined.startswith("/"):
                raise self.corrupt(f"OFD 文件中{what}的路径越出文件包（{loc}），已拒绝")
            tried.append(joined)
        for joined in tried:
            member = self.names.get(joined) or self.lower.get(joined.lower())
            if member is not None:
                return member
        if not required:
            return None
        raise self.corrupt(f"OFD 文件不完整：缺少{what}（{loc}）")

    def _open(self, member: str):
        try:
            return self.zf.open(member)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
            raise self.corrupt(f"OFD 文件已损坏，无法解压 {member}（{type(exc).__name__}）") from exc

    def iterparse(self, member: str, events=("start", "end")):
        """(event, element) over one XML part, streamed from the zip; refuses a DTD."""
        from lxml import etree

        with self._open(member) as head:  # refused before any parser sees it
            try:
                prolog = head.read(16384)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
                raise self.corrupt(f"OFD 文件已损坏或被截断，无法读取 {member}（{type(exc).__name__}）") from exc
        if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
            raise self.corrupt(f"OFD 文件中的 {member} 含有 DTD/实体声明（可能是恶意构造的文件），已拒绝")
        fh = self._open(member)
        try:
            ctx = etree.iterparse(fh, events=events, resolve_entities=False, no_network=True,
                                  huge_tree=False, load_dtd=False, dtd_validation=False,
                                  remove_comments=True, remove_pis=True)
            first = True
            for event, el in ctx:
                if first:
                    docinfo = el.getroottree().docinfo
                    if docinfo.doctype or docinfo.internalDTD is not None:  # past the prolog check
                        raise self.corrupt(f"OFD 文件中的 {member} 含有 DTD/实体声明（可能是恶意构造的文件），已拒绝")
                    first = False
                yield event, el
        except JianyanError:
            raise
        except (MemoryError, RecursionError):
            raise
        except etree.XMLSyntaxError as exc:
            raise self.corrupt(f"OFD 文件中的 {member} 不是有效的 XML，无法解析（{exc.msg}）") from exc
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise self.corrupt(f"OFD 文件已损坏或被截断，无法读取 {member}（{type(exc).__name__}）") from exc
        finally:
            fh.close()

    def parse(self, member: str):
        """A small control part (OFD.xml, Document.xml, annotation lists) as a whole tree."""
        root = None
        for event, el in self.iterparse(member, events=("start",)):
            root = el if root is None else root
        if root is None:
            raise self.corrupt(f"OFD 文件中的 {member} 是空的")
        return root

    def count(self, chars: int) -> None:
        self.chars += chars
        self.limits.check("chars", self.chars, self.path)


def _metadata(doc_info) -> dict:
    fields: dict = {}
    if doc_info is None:
        return fields
    for name, key in (("Title", "title"), ("Author", "author")):
        value = _text(_child(doc_info, name))
        if value:
            fields[key] = value
    created = _text(_child(doc_info, "CreationDate"))
    if created:
        # When the file was made, not 成文日期: kept apart, or it would override the date the
        # document's signature block gives.
        fields["created"] = created
    customs = _child(doc_info, "CustomDatas")
    for data in _children(customs, "CustomData") if customs is not None else []:
        key = _CUSTOM_FIELDS.get((data.get("Name") or "").strip().lower())
        value = _text(data)
        if key and value:
            fields.setdefault(key, value)
    return fields


def _watermark_like(obj) -> bool:
    """Text of an annotation drawn slanted or see-through: a watermark whatever its Type says
    (some writers stamp "保密资料" across the page as a Stamp)."""
    ctm = _floats(obj.get("CTM"))
    slanted = len(ctm) == 6 and (abs(ctm[1]) > 1e-3 * abs(ctm[0]) or abs(ctm[2]) > 1e-3 * abs(ctm[3]))
    alpha = (_floats(obj.get("Alpha")) or [255.0])[0]
    return slanted or alpha < 128


_MM_TO_PT = 72 / 25.4  # OFD measures in millimetres


def _fonts(pkg: _Package, common, doc_dir: str) -> dict[str, tuple[str, bool]]:
    """Font ID → (name, bold) from the document's resource files (PublicRes, DocumentRes)."""
    fonts: dict[str, tuple[str, bool]] = {}
    if common is None:
        return fonts
    for kind in ("PublicRes", "DocumentRes"):
        for res in _children(common, kind):
            try:
                member = pkg.resolve(doc_dir, _text(res), "资源文件", required=False)
                tree = pkg.parse(member) if member is not None else None
            except LimitExceeded:
                raise
            except JianyanError:
                continue  # fonts only refine the structure: a damaged resource file costs them alone
            for el in tree.iter() if tree is not None else ():
                if _local(el.tag) == "Font" and el.get("ID"):
                    name = el.get("FontName") or el.get("FamilyName") or ""
                    fonts[el.get("ID")] = (name, (el.get("Bold") or "").lower() == "true")
    return fonts


class _PageReader:
    """Runs of text from one content part (a page, a template page, an annotation list)."""

    def __init__(self, pkg: _Package, fonts: dict[str, tuple[str, bool]] | None = None) -> None:
        self.pkg = pkg
        self.seq = 0
        self.fonts = fonts or {}

    def runs(self, member: str) -> tuple[list[_Run], list[str], bool]:
        """(runs, TemplateIDs the page uses, whether it draws images) of part `member`."""
        runs: list[_Run] = []
        templates: list[str] = []
        images = False
        offsets: list[tuple[float, float]] = [(0.0, 0.0)]  # Appearance boxes place their objects
        skipping = 0  # depth inside a skipped annotation
        annot = 0  # depth inside an annotation
        for event, el in self.pkg.iterparse(member):
            name = _local(el.tag)
            if event == "start":
                if name == "Annot":
                    annot += 1
                if name == "Annot" and (el.get("Type") or "").lower() in _SKIPPED_ANNOTS:
                    skipping += 1
                elif name == "Appearance":
                    box = _floats(el.get("Boundary"))
                    base = offsets[-1]
                    offsets.append((base[0] + box[0], base[1] + box[1]) if len(box) >= 2 else base)
                continue
            if name == "Annot":
                annot -= 1
                if (el.get("Type") or "").lower() in _SKIPPED_ANNOTS:
                    skipping -= 1
            elif name == "Appearance":
                offsets.pop()
            elif name == "Template" and el.get("TemplateID"):
                templates.append(el.get("TemplateID"))
            elif name == "ImageObject":
                images = True
            elif name == "TextObject" and not skipping and not (annot and _watermark_like(el)):
                found = self._text_object(el, offsets[-1])
                self.pkg.count(sum(max(1, len(r.text)) for r in found) or 1)
                runs.extend(found)
            if name in ("TextObject", "ImageObject", "PathObject", "CompositeObject", "PageBlock",
                        "Layer", "Annot"):
                el.clear(keep_tail=False)  # a page's tree is never kept whole
                while el.getprevious() is not None:
                    del el.getparent()[0]
        return runs, templates, images

    def _text_object(self, obj, origin: tuple[float, float]) -> list[_Run]:
        box = _floats(obj.get("Boundary"))
        bx, by = (box[0], box[1]) if len(box) >= 2 else (0.0, 0.0)
        bx, by = bx + origin[0], by + origin[1]
        ctm = _floats(obj.get("CTM"))
        a, b, c, d, e, f = ctm if len(ctm) == 6 else (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
        scale = abs(a * d - b * c) ** 0.5 or 1.0
        size = (_floats(obj.get("Size") or obj.get("size")) or [0.0])[0]
        if size <= 0:
            size = box[3] if len(box) >= 4 and box[3] > 0 else 1.0

        def page_xy(x: float, y: float) -> tuple[float, float]:
            return bx + a * x + c * y + e, by + b * x + d * y + f

        font, bold = self.fonts.get(obj.get("Font") or "", ("", False))
        weight = (_floats(obj.get("Weight")) or [0.0])[0]
        look = look_of(font, size * scale * _MM_TO_PT, bold or weight >= 700) if font else None

        runs: list[_Run] = []
        x = y = 0.0
        for code in obj.iter():
            if _local(code.tag) != "TextCode":
                continue
            text = code.text or ""
            x = (_floats(code.get("X")) or [x])[0]
            y = (_floats(code.get("Y")) or [y])[0]
            dx, dy = _deltas(code.get("DeltaX"), len(text)), _deltas(code.get("DeltaY"), len(text))
            self.seq += 1
            if not text:
                continue
            if any(dy[: len(text) - 1]):  # vertical (or stepped) text: each glyph where it is
                gx, gy = x, y
                for i, ch in enumerate(text):
                    px, py = page_xy(gx, gy)
                    w = (dx[i] if i < len(dx) and dx[i] else _advance(ch, size)) * scale
                    runs.append(_Run(px, px + w, py, size * scale, ch, self.seq, look))
                    gx += dx[i] if i < len(dx) else (0.0 if dy else _advance(ch, size))
                    gy += dy[i] if i < len(dy) else 0.0
                x, y = gx, gy
                continue
            steps = [dx[i] if i < len(dx) else _advance(text[i], size) for i in range(len(text) - 1)]
            given = [s for s in dx[: len(text) - 1] if s > 0]
            last = statistics.median(given) if given else _advance(text[-1], size)
            width = sum(steps) + last
            (px0, py), (px1, _) = page_xy(x, y), page_xy(x + width, y)
            runs.append(_Run(min(px0, px1), max(px0, px1), py, size * scale, text, self.seq, look))
            x += width
        return runs


def _lines(runs: list[_Run]) -> list[dict]:
    """Runs grouped into lines by baseline, each line's runs in X order; top to bottom."""
    runs = sorted(runs, key=lambda r: (r.y, r.x0, r.seq))
    groups: list[list[_Run]] = []
    for run in runs:
        if groups:
            head = groups[-1][0]
            if abs(run.y - head.y) <= 0.4 * max(min(run.size, head.size), 1e-6):
                groups[-1].append(run)
                continue
        groups.append([run])
    lines = []
    for group in groups:
        group.sort(key=lambda r: (r.x0, r.seq))
        text, end, prev = "", None, None
        pieces: list[tuple[str, Look | None]] = []
        for run in group:
            if prev is not None and run.text == prev.text and abs(run.x0 - prev.x0) < 0.5 * run.size:
                continue  # the same text drawn twice a little apart: a 仿粗体 (fake bold)
            gap = run.x0 - end if end is not None else 0.0
            if text and gap > 0.3 * run.size and not text[-1].isspace() and not run.text[0].isspace():
                text += " "
            text += run.text
            pieces.append((run.text, run.look))
            end = max(end, run.x1) if end is not None else run.x1
            prev = run
        if text.strip():
            size = statistics.median(r.size for r in group)
            y = statistics.median(r.y for r in group)
            lines.append({"text": text.strip(), "x0": min(r.x0 for r in group),
                          "x1": max(r.x1 for r in group), "top": y - size, "bottom": y,
                          "runs": pieces})
    return lines


def _page_lines(runs: list[_Run]) -> list[dict]:
    """A page's lines in reading order: on a two-column page, band by band and column by column
    (`column_groups` on the runs), so that lines at one height in two columns stay apart."""
    boxes = [{"x0": r.x0, "x1": r.x1, "top": r.y - r.size, "bottom": r.y, "run": r} for r in runs]
    groups = column_groups(boxes)
    if len(groups) == 1:
        return _lines(runs)
    out = []
    for column, group in groups:
        for line in _lines([b["run"] for b in group]):
            line["column"] = column
            out.append(line)
    return out


def read_ofd(path: Path, limits: ReadLimits | None = None) -> tuple[list[SourceLine], dict]:
    limits = limits or ReadLimits()
    with check_zip(path) as zf:
        pkg = _Package(zf, path, limits)
        try:
            return _read(pkg)
        except (MemoryError, JianyanError):
            raise
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise pkg.corrupt(f"OFD 文件已损坏或被截断，无法读取（{type(exc).__name__}）") from exc
        except Exception as exc:  # noqa: BLE001 - malformed values deep in a part
            raise pkg.corrupt(f"OFD 文件内容损坏，无法解析（{type(exc).__name__}）") from exc


def _read(pkg: _Package) -> tuple[list[SourceLine], dict]:
    if "OFD.xml" not in pkg.names and "ofd.xml" not in pkg.lower:
        raise pkg.corrupt("不是有效的 OFD 文件：文件包中缺少 OFD.xml")
    root = pkg.parse(pkg.names.get("OFD.xml") or pkg.lower["ofd.xml"])
    if _local(root.tag) != "OFD":
        raise pkg.corrupt("不是有效的 OFD 文件：OFD.xml 的根元素不是 OFD")
    bodies = [b for b in _children(root, "DocBody") if _text(_child(b, "DocRoot"))]
    if not bodies:
        raise pkg.corrupt("OFD 文件不完整：OFD.xml 中没有文档入口（DocRoot）")
    body = bodies[0]  # a package of several documents: the first is the document itself
    fields = _metadata(_child(body, "DocInfo"))
    doc_member = pkg.resolve("", _text(_child(body, "DocRoot")), "文档主体")
    doc_dir = posixpath.dirname(doc_member.replace("\\", "/").lstrip("/"))
    document = pkg.parse(doc_member)

    page_els = [p for pages in _children(document, "Pages") for p in _children(pages, "Page")]
    pkg.limits.check("pages", len(page_els), pkg.path)  # counted before any page is parsed
    if not page_els:
        raise EmptyDocument("OFD 文档中没有页面", path=pkg.path)
    common = _child(document, "CommonData")
    templates = {t.get("ID"): t.get("BaseLoc") for t in
                 (_children(common, "TemplatePage") if common is not None else []) if t.get("ID")}
    annots = _annotations(pkg, document, doc_dir)

    reader = _PageReader(pkg, _fonts(pkg, common, doc_dir))
    pages: list[list[dict]] = []
    used_templates: set[str] = set()
    any_images = False
    for number, page in enumerate(page_els, 1):
        member = pkg.resolve(doc_dir, page.get("BaseLoc") or "", f"第 {number} 页的内容文件")
        page_dir = posixpath.dirname(member.replace("\\", "/").lstrip("/"))
        runs, tpl_ids, images = reader.runs(member)
        any_images = any_images or images
        for tpl_id in tpl_ids:
            # A template's text (a 版头 kept there) is read once, on the first page using it:
            # repeated on every page it would be noise.
            if tpl_id in used_templates or tpl_id not in templates:
                continue
            used_templates.add(tpl_id)
            tpl_member = pkg.resolve(doc_dir, templates[tpl_id] or "", f"模板页 {tpl_id}", (page_dir,))
            tpl_runs, _, tpl_images = reader.runs(tpl_member)
            runs.extend(tpl_runs)
            any_images = any_images or tpl_images
        if page.get("ID") in annots:
            annot_runs, _, _ = reader.runs(annots[page.get("ID")])
            runs.extend(annot_runs)
        pages.append(_page_lines(runs))
    if not any(pages):
        if any_images:
            raise NeedsOCR("OFD 文件没有文字层（可能是扫描件，页面只有图像），需要先做 OCR 识别，暂不支持导入",
                           path=pkg.path)
        raise EmptyDocument("OFD 文档中没有文字内容", path=pkg.path)
    carry_columns(pages)
    lines = paragraphs(body_lines(pages))
    if not lines:
        raise EmptyDocument("OFD 文档中除页码外没有文字内容", path=pkg.path)
    pkg.limits.check("paragraphs", len(lines), pkg.path)
    return lines, fields


def _annotations(pkg: _Package, document, doc_dir: str) -> dict[str, str]:
    """PageID → the member holding that page's annotations (their appearances may hold text)."""
    loc = _text(_child(document, "Annotations"))
    # Annotations are not the text: a missing list or page file loses nothing of it (a path
    # out of the package is refused all the same).
    member = pkg.resolve(doc_dir, loc, "注释列表", required=False) if loc else None
    if member is None:
        return {}
    listing = pkg.parse(member)
    list_dir = posixpath.dirname(member.replace("\\", "/").lstrip("/"))
    out = {}
    for page in _children(listing, "Page"):
        file_loc = _text(_child(page, "FileLoc"))
        found = pkg.resolve(list_dir, file_loc, "页面注释", (doc_dir,), required=False) if file_loc else None
        if page.get("PageID") and found:
            out[page.get("PageID")] = found
    return out
