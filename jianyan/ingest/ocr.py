"""Offline OCR of one page image: the text lines of a scanned page, with their geometry.

    page = recognise(pil_image)   # -> OcrPage(lines, confidence, angle, width, height, skew)

Each line is a dict with the keys pdfplumber's `extract_text_lines` gives (`text`, `x0`, `x1`,
`top`, `bottom`) plus `confidence` (0..1) and `column` (`readers/lines.column_groups`), so the PDF reader's paragraph builder can re-join
OCR lines into paragraphs by geometry exactly as it does for a text layer.

The engine is the PP-OCR pipeline (DB text detector, CTC line recogniser, 0/180 line-direction
classifier) from the ONNX models shipped inside the `rapidocr` wheel, run by onnxruntime on the
CPU. Nothing is ever downloaded: the model files are opened by path, and their absence is an
error. The models are loaded once per process (`engine()`), on first use.

What this module adds to the stock pipeline, each measured in benchmarks/ocr_quality.py:

- lines are cropped from the full-resolution page, not from the page shrunk to 2000 px (the
  stock pipeline's `max_side_len`), and detection runs on a copy scaled to a fixed long side;
- no line is dropped for a low score: every line with text is returned with its confidence;
- the page's orientation (0/90/180/270) is found from the detected boxes (upright or sideways)
  and the line classifier's page-wide vote (upright or upside down), and corrected once for the
  whole page;
- skew of a few degrees is measured from the boxes; crops follow the tilted boxes, and the
  returned coordinates are those of the deskewed page, so indents and margins line up;
- lines come in reading order: top to bottom, a two-column page column by column.

Coordinates are pixels of the page as returned: the input rotated by `angle` (counter-clockwise,
as Pillow's `Image.rotate`) and deskewed by `skew` degrees about its centre; `width` and `height`
are that page's size.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .readers.lines import column_groups, row_groups

__all__ = ["ENGINE", "OcrPage", "recognise", "engine", "Engine", "Models", "Params", "bundled_models"]


def _engine_name() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"PP-OCRv6 small (rapidocr {version('rapidocr')}, onnxruntime {version('onnxruntime')})"
    except PackageNotFoundError:
        return "PP-OCRv6 small (rapidocr, onnxruntime)"


ENGINE = _engine_name()  # what recognised the text, as recorded with a document


@dataclass
class OcrPage:
    lines: list[dict]  # text, x0, x1, top, bottom (pixels of the upright page), confidence 0..1
    confidence: float  # character-weighted mean of the lines' confidences (0.0: no text)
    angle: int  # 0/90/180/270: counter-clockwise rotation applied to the input (Image.rotate)
    width: int  # of the upright page
    height: int
    skew: float = 0.0  # degrees of tilt that were measured and taken out of the coordinates


@dataclass(frozen=True)
class Models:
    """The three ONNX files of one PP-OCR model set."""

    det: Path
    rec: Path
    cls: Path
    name: str = ""


def bundled_models() -> Models:
    """The models inside the installed rapidocr wheel (PP-OCRv6 small det/rec, v2.0 cls)."""
    import rapidocr

    root = Path(rapidocr.__file__).resolve().parent / "models"
    models = Models(root / "PP-OCRv6_det_small.onnx", root / "PP-OCRv6_rec_small.onnx",
                    root / "ch_ppocr_mobile_v2.0_cls_mobile.onnx", name="PP-OCRv6 small")
    missing = [p.name for p in (models.det, models.rec, models.cls) if not p.is_file()]
    if missing:
        raise RuntimeError(f"OCR 模型文件缺失（{', '.join(missing)}），请重新安装 rapidocr")
    return models


@dataclass(frozen=True)
class Params:
    det_side: int = 1280  # detection runs on the page scaled so its long side is this (÷32)
    det_thresh: float = 0.3  # DB: pixel probability counted as text
    box_thresh: float = 0.3  # DB: mean probability a box must reach to be kept
    unclip_ratio: float = 1.6  # DB: how far a box is grown around its text kernel
    max_side: int = 4096  # the page is shrunk to at most this long side before anything else
    rec_height: int = 48  # the recogniser's input height
    rec_batch: int = 1  # lines per recogniser call: 1 keeps the peak memory low, at no cost in speed
    rec_squeeze: float = 1.0  # line images are narrowed by this factor before recognition
    min_score: float = 0.0  # lines below this recognition score are dropped (0: none is)
    deskew_min: float = 0.2  # degrees: smaller tilts are left alone
    threads: int = 0  # intra-op threads per model; 0: $JIANYAN_OCR_THREADS, else the CPUs this
    # process may use, at most 4


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def _session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 4  # fatal only: errors reach the caller as exceptions
    opts.enable_cpu_mem_arena = False  # memory goes back after each page
    # Idle worker threads sleep instead of spinning: the machine is shared with the service.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def _to_bgr(image) -> np.ndarray:
    """Any PIL image as 8-bit BGR (transparency on white, 16-bit and float greys rescaled)."""
    from PIL import Image

    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        a = np.asarray(image, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.full_like(a, 255.0)
        image = Image.fromarray(a.astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])


def _box_size(box: np.ndarray) -> tuple[float, float]:
    """(width, height) of a detected quadrilateral (tl, tr, br, bl)."""
    w = max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[3] - box[2]))
    h = max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2]))
    return float(w), float(h)


def _crop(img: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The quadrilateral `box` of `img`, warped to an upright rectangle."""
    import cv2

    w, h = _box_size(box)
    w, h = max(1, int(round(w))), max(1, int(round(h)))
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(box.astype(np.float32), dst)
    return cv2.warpPerspective(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)


def _rotate_boxes(boxes: np.ndarray, k: int, w: int, h: int) -> np.ndarray:
    """Boxes of an image of size (w, h) after np.rot90(image, k) (k counter-clockwise quarters),
    each re-ordered to start at its new top-left corner."""
    out = boxes.astype(np.float32).copy()
    for _ in range(k % 4):
        x, y = out[..., 0].copy(), out[..., 1].copy()
        out[..., 0], out[..., 1] = y, (w - 1) - x
        w, h = h, w
        out = np.roll(out, -1, axis=1)  # the old top-right corner is the new top-left
    return out


class Engine:
    """One PP-OCR model set, loaded once; `recognise` is thread-safe (one page at a time)."""

    def __init__(self, models: Models | None = None, params: Params | None = None):
        from rapidocr.ch_ppocr_det.utils import DBPostProcess
        from rapidocr.ch_ppocr_rec.utils import CTCLabelDecode

        self.models = models or bundled_models()
        self.params = p = params or Params()
        if p.threads:
            self.threads = p.threads
        else:
            from ..config import env_number

            self.threads = env_number("JIANYAN_OCR_THREADS", int, min(4, _cpu_count()), 1, 64)
        self._det = _session(self.models.det, self.threads)
        self._rec = _session(self.models.rec, self.threads)
        self._cls = _session(self.models.cls, self.threads)
        meta = self._rec.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise RuntimeError(f"识别模型缺少字符表：{self.models.rec.name}")
        self._decode = CTCLabelDecode(character=meta["character"].splitlines())
        self._post = DBPostProcess(thresh=p.det_thresh, box_thresh=p.box_thresh, max_candidates=3000,
                                   unclip_ratio=p.unclip_ratio, score_mode="fast", use_dilation=True)
        self._lock = threading.Lock()

    # -- the three models -------------------------------------------------------------------

    def detect(self, img: np.ndarray) -> tuple[np.ndarray, list[float]]:
        """Text-line quadrilaterals (n, 4, 2) in `img`'s pixels, with their detection scores."""
        import cv2

        h, w = img.shape[:2]
        scale = min(1.0, self.params.det_side / max(h, w)) if self.params.det_side else 1.0
        dh, dw = max(32, int(round(h * scale / 32)) * 32), max(32, int(round(w * scale / 32)) * 32)
        small = cv2.resize(img, (dw, dh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        x = (small.astype(np.float32) / 255.0 - 0.5) / 0.5
        x = x.transpose(2, 0, 1)[np.newaxis]
        pred = self._det.run(None, {self._det.get_inputs()[0].name: x})[0]
        boxes, scores = self._post(pred, (h, w))
        if len(boxes) == 0:
            return np.zeros((0, 4, 2), np.float32), []
        keep = [i for i, b in enumerate(boxes) if min(_box_size(b)) > 3]
        return boxes[keep].astype(np.float32), [float(scores[i]) for i in keep]

    def _batches(self, crops: list[np.ndarray]):
        order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / crops[i].shape[0])
        for k in range(0, len(order), self.params.rec_batch):
            yield order[k:k + self.params.rec_batch]

    def _norm(self, crop: np.ndarray, height: int, width: int, squeeze: float = 1.0) -> np.ndarray:
        import cv2

        h, w = crop.shape[:2]
        rw = min(width, max(1, int(math.ceil(height * w / h * squeeze))))
        x = cv2.resize(crop, (rw, height), interpolation=cv2.INTER_AREA if h > height else cv2.INTER_LINEAR)
        x = (x.astype(np.float32).transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
        out = np.zeros((3, height, width), np.float32)
        out[:, :, :rw] = x
        return out

    def read(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """(text, score) of each line image."""
        hgt = self.params.rec_height
        out: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        name = self._rec.get_inputs()[0].name
        for idx in self._batches(crops):
            sq = self.params.rec_squeeze
            ratio = max(320 / hgt, max(crops[i].shape[1] / crops[i].shape[0] * sq for i in idx))
            width = int(math.ceil(hgt * ratio))
            batch = np.stack([self._norm(crops[i], hgt, width, sq) for i in idx])
            preds = self._rec.run(None, {name: batch})[0]
            results, _ = self._decode(preds)
            for i, (text, score) in zip(idx, results):
                out[i] = (text, float(score))
        return out

    def upside_down(self, crops: list[np.ndarray]) -> float:
        """The share of text (by line length) the direction classifier finds upside down."""
        if not crops:
            return 0.0
        name = self._cls.get_inputs()[0].name
        votes = np.zeros(2)
        for k in range(0, len(crops), 16):
            part = crops[k:k + 16]
            batch = np.stack([self._norm(c, 48, 192) for c in part])
            prob = self._cls.run(None, {name: batch})[0]
            for c, pr in zip(part, prob):
                votes += pr * (c.shape[1] / c.shape[0])  # a long line counts for more
        return float(votes[1] / votes.sum()) if votes.sum() else 0.0

    # -- the page ---------------------------------------------------------------------------

    def recognise(self, image) -> OcrPage:
        with self._lock:
            try:
                return self._recognise(image)
            except MemoryError:
                raise
            except Exception as exc:
                # onnxruntime and OpenCV report an allocation refused (RLIMIT_AS) as their own errors
                if any(m in str(exc) for m in ("bad_alloc", "Failed to allocate", "Insufficient memory")):
                    raise MemoryError(f"OCR out of memory ({type(exc).__name__})") from exc
                raise

    def _recognise(self, image) -> OcrPage:
        import cv2

        img = _to_bgr(image)
        in_h, in_w = img.shape[:2]
        shrink = 1.0
        if max(in_h, in_w) > self.params.max_side:
            shrink = self.params.max_side / max(in_h, in_w)
            img = cv2.resize(img, (max(1, round(in_w * shrink)), max(1, round(in_h * shrink))),
                             interpolation=cv2.INTER_AREA)
        boxes, _ = self.detect(img)
        quarter = 0  # counter-clockwise quarter turns applied to img
        if len(boxes) and _sideways(boxes):
            img = np.ascontiguousarray(np.rot90(img, 1))
            quarter = 1
            boxes, _ = self.detect(img)
        crops = [_crop(img, b) for b in boxes]
        # a page is upside down as a whole: one vote for the page, weighted by line length
        if crops and self.upside_down(_longest(crops, 24)) > 0.5:
            h, w = img.shape[:2]
            img = np.ascontiguousarray(np.rot90(img, 2))
            boxes = _rotate_boxes(boxes, 2, w, h)
            crops = [np.ascontiguousarray(np.rot90(c, 2)) for c in crops]
            quarter += 2
        angle = (quarter * 90) % 360
        out_w, out_h = (in_w, in_h) if quarter % 2 == 0 else (in_h, in_w)  # the upright input
        if not crops:
            return OcrPage([], 0.0, angle, out_w, out_h)
        texts = self.read(crops)
        skew = _skew(boxes)
        if abs(skew) < self.params.deskew_min:
            skew = 0.0
        h, w = img.shape[:2]
        lines = _lines(boxes, texts, w, h, skew, self.params.min_score, out_w, out_h)
        chars = sum(len(ln["text"]) for ln in lines)
        conf = sum(ln["confidence"] * len(ln["text"]) for ln in lines) / chars if chars else 0.0
        return OcrPage(lines, round(conf, 4), angle, out_w, out_h, round(skew, 2))


def _longest(crops: list[np.ndarray], n: int) -> list[np.ndarray]:
    return sorted(crops, key=lambda c: -c.shape[1] / c.shape[0])[:n]


def _sideways(boxes: np.ndarray) -> bool:
    """Most text (by length) is in tall boxes: the page is lying on its side."""
    flat = tall = 0.0
    for b in boxes:
        w, h = _box_size(b)
        if w >= 2 * h:
            flat += w
        elif h >= 2 * w:
            tall += h
    return tall > flat


def _skew(boxes: np.ndarray) -> float:
    """The page's tilt in degrees (counter-clockwise positive), from its long lines' slopes."""
    angles, weights = [], []
    for b in boxes:
        w, h = _box_size(b)
        if w < 8 * h:
            continue  # short boxes give poor angles
        dx, dy = (b[1] - b[0]) + (b[2] - b[3])
        angles.append(-math.degrees(math.atan2(dy, dx)))
        weights.append(w)
    if len(angles) < 3:
        return 0.0
    order = np.argsort(angles)
    cum = np.cumsum(np.asarray(weights)[order])
    return float(np.asarray(angles)[order][np.searchsorted(cum, cum[-1] / 2)])


def _lines(boxes, texts, w, h, skew, min_score, out_w, out_h) -> list[dict]:
    """Line dicts in reading order, coordinates deskewed about the centre of the (w, h) image
    the boxes are in, then scaled to a page of (out_w, out_h)."""
    cx, cy = w / 2.0, h / 2.0
    t = math.radians(skew)  # undo a counter-clockwise tilt: rotate points clockwise on screen
    cos, sin = math.cos(t), math.sin(t)
    items = []
    for b, (text, score) in zip(boxes, texts):
        text = text.strip()
        if not text or score < min_score:
            continue
        xs = cx + (b[:, 0] - cx) * cos - (b[:, 1] - cy) * sin
        ys = cy + (b[:, 0] - cx) * sin + (b[:, 1] - cy) * cos
        items.append({"text": text, "x0": float(xs.min()), "x1": float(xs.max()),
                      "top": float(ys.min()), "bottom": float(ys.max()), "confidence": score})
    ordered = []
    for column, group in column_groups(items):
        for ln in _merge_rows(group):
            ln["column"] = column
            ordered.append(ln)
    sx, sy = out_w / w, out_h / h
    for ln in ordered:
        for k in ("x0", "x1"):
            ln[k] = round(min(max(ln[k] * sx, 0.0), out_w), 1)
        for k in ("top", "bottom"):
            ln[k] = round(min(max(ln[k] * sy, 0.0), out_h), 1)
        ln["confidence"] = round(min(1.0, max(0.0, ln["confidence"])), 4)
    return ordered


def _merge_rows(items: list[dict]) -> list[dict]:
    """Top to bottom; boxes side by side on one row become one line, left to right."""
    out = []
    for row in row_groups(items):
        row.sort(key=lambda it: it["x0"])
        text, prev = "", None
        for it in row:
            if prev is not None:
                gap = it["x0"] - prev["x1"]
                text += " " if gap > 0.8 * (prev["bottom"] - prev["top"]) else ""
            text += it["text"]
            prev = it
        n = sum(len(it["text"]) for it in row)
        conf = sum(it["confidence"] * len(it["text"]) for it in row) / n
        out.append({"text": text, "x0": min(it["x0"] for it in row), "x1": max(it["x1"] for it in row),
                    "top": min(it["top"] for it in row), "bottom": max(it["bottom"] for it in row),
                    "confidence": conf})
    return out


_ENGINE: Engine | None = None
_ENGINE_LOCK = threading.Lock()


def engine() -> Engine:
    """The process's engine, loaded on first use (about a second and ~100 MB)."""
    global _ENGINE
    if _ENGINE is None:
        with _ENGINE_LOCK:
            if _ENGINE is None:
                _ENGINE = Engine()
    return _ENGINE


def recognise(image) -> OcrPage:
    """The text lines of one page image (a PIL image of any mode), in reading order."""
    return engine().recognise(image)
