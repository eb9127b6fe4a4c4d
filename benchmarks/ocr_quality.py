"""OCR quality and speed on scanned pages made from real text (tests/ocr_pages.py).

For each case (font size, resolution, rotation, skew, two columns) and engine, prints the
character error rate (edit distance over characters, whitespace ignored, against the text
LibreOffice printed on the page), the same with the full-width forms of ASCII characters folded
(（→( ：→: ，→, ...: the same glyphs; 、。“”《》 are not folded), the lines found out of the
lines printed, the page's confidence, the rotation found, and seconds per page.

Engines, all run through jianyan.ingest.ocr's pipeline unless marked stock:
  v6        PP-OCRv6 small det/rec from the rapidocr wheel (what jianyan uses)
  v4        PP-OCRv4 det/rec from the rapidocr-onnxruntime wheel (if installed)
  v6-stock  rapidocr's own RapidOCR() pipeline and defaults, same models (reference)
  v4-stock  rapidocr_onnxruntime's own RapidOCR() pipeline and defaults (reference)

    python benchmarks/ocr_quality.py                       # v6 and v4, all cases
    python benchmarks/ocr_quality.py --engines v6 --cases 12pt-300dpi,12pt-150dpi --errors
    python benchmarks/ocr_quality.py --pages /tmp/ocr-pages   # reuse pages made before
    python benchmarks/ocr_quality.py --set det_side=1600 --set box_thresh=0.5   # try parameters
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jianyan.ingest import ocr  # noqa: E402
from tests import ocr_pages  # noqa: E402


def v4_models() -> ocr.Models | None:
    try:
        import rapidocr_onnxruntime
    except ImportError:
        return None
    root = Path(rapidocr_onnxruntime.__file__).resolve().parent / "models"
    return ocr.Models(root / "ch_PP-OCRv4_det_infer.onnx", root / "ch_PP-OCRv4_rec_infer.onnx",
                      root / "ch_ppocr_mobile_v2.0_cls_infer.onnx", name="PP-OCRv4")


class Stock:
    """A package's own pipeline with its defaults (model paths given: nothing is downloaded)."""

    def __init__(self, which: str, threads: int):
        import numpy as np

        self._np = np
        if which == "v6-stock":
            from rapidocr import RapidOCR

            m = ocr.bundled_models()
            self._eng = RapidOCR(params={
                "Global.log_level": "error", "Det.model_path": str(m.det), "Rec.model_path": str(m.rec),
                "Cls.model_path": str(m.cls), "EngineConfig.onnxruntime.intra_op_num_threads": threads})
            self._call = lambda img: list(self._eng(img).txts or [])
        else:
            from rapidocr_onnxruntime import RapidOCR

            self._eng = RapidOCR(intra_op_num_threads=threads)
            self._call = lambda img: [r[1] for r in (self._eng(img)[0] or [])]

    def recognise(self, image) -> ocr.OcrPage:
        img = self._np.ascontiguousarray(self._np.asarray(image.convert("RGB"))[:, :, ::-1])
        lines = [{"text": t, "confidence": 0.0} for t in self._call(img)]
        return ocr.OcrPage(lines, 0.0, -1, image.width, image.height)


def make_engine(name: str, params: ocr.Params):
    if name.endswith("-stock"):
        return Stock(name, params.threads or 2)
    models = ocr.bundled_models() if name == "v6" else v4_models()
    return None if models is None else ocr.Engine(models, params)


def expected_angle(case: ocr_pages.Case) -> int:
    return (-case.rotate) % 360


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="v6,v4")
    parser.add_argument("--cases", default=",".join(ocr_pages.CASES))
    parser.add_argument("--pages", type=Path, help="folder to keep the generated pages in and reuse")
    parser.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                        help=f"an ocr.Params field: {', '.join(f.name for f in dataclasses.fields(ocr.Params))}")
    parser.add_argument("--errors", action="store_true", help="print what was misread")
    parser.add_argument("--repeat", type=int, default=1, help="time the best of N runs per page")
    args = parser.parse_args()
    if not ocr_pages.POLICIES_JSONL.exists():
        sys.exit(f"needs the real corpora in {ocr_pages.SHARED}")
    if ocr_pages.soffice() is None:
        sys.exit("needs LibreOffice (soffice) to make the pages")
    overrides = {}
    for kv in args.set:
        k, v = kv.split("=", 1)
        typ = type(getattr(ocr.Params(), k))
        overrides[k] = typ(v)
    params = ocr.Params(**overrides)
    names = args.cases.split(",")
    if args.pages is None:
        with tempfile.TemporaryDirectory(prefix="jianyan-ocr-pages-") as tmp:
            run(args, params, names, Path(tmp))
    else:
        run(args, params, names, args.pages)


def run(args, params: ocr.Params, names: list[str], folder: Path) -> None:
    t0 = time.perf_counter()
    pages = ocr_pages.load_or_build(folder, names)
    print(f"{len(pages)} pages in {folder} ({time.perf_counter() - t0:.0f} s); params: {params}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)

    header = (f"{'engine':<9}{'case':<18}{'CER':>8}{'CER fw':>8}{'lines':>9}{'conf':>7}"
              f"{'angle':>7}{'s/page':>8}{'cpu s':>7}")
    for name in args.engines.split(","):
        t = time.perf_counter()
        eng = make_engine(name, params)
        if eng is None:
            print(f"{name}: not installed, skipped")
            continue
        print(f"\n{name}: loaded in {time.perf_counter() - t:.1f} s")
        print(header)
        total_wall = total_pages = 0
        sums = {"clean": [], "all": []}
        for case_name, page in pages.items():
            best = None
            for _ in range(args.repeat):
                c0, w0 = time.process_time(), time.perf_counter()
                res = eng.recognise(page.image)
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                if best is None or wall < best[1]:
                    best = (res, wall, cpu)
            res, wall, cpu = best
            got = "\n".join(ln["text"] for ln in res.lines)
            raw, folded = ocr_pages.cer(page.text, got, False), ocr_pages.cer(page.text, got)
            sums["all"].append(folded)
            angle = "-" if res.angle < 0 else ("ok" if res.angle == expected_angle(page.case) else str(res.angle))
            print(f"{name:<9}{case_name:<18}{raw:>8.2%}{folded:>8.2%}{len(res.lines):>4}/{len(page.lines):<4}"
                  f"{res.confidence:>7.3f}{angle:>7}{wall:>8.2f}{cpu:>7.1f}", flush=True)
            if args.errors:
                for e in ocr_pages.errors(page.text, got):
                    print(f"      {e}")
            total_wall += wall
            total_pages += 1
        threads = getattr(eng, "threads", params.threads or 2)
        print(f"{name}: {total_pages / total_wall:.3f} pages/s (wall, {threads} threads per model); "
              f"mean CER fw {sum(sums['all']) / len(sums['all']):.2%}")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
