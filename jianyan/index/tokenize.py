"""Chinese segmentation for keyword search: jieba with a domain dictionary and stop words.

Queries and passages go through the same function, in simplified characters (`script.fold`). jieba's search mode adds the shorter words
inside long ones (中华人民共和国 → 中华, 华人, 人民, 共和国…), so a query that says 共和国 still
matches. Numbers are kept whole with their decimal point and percent sign (7.5%, 16%), because
report queries turn on them.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from importlib import resources

from ..script import fold

_TOKEN_OK = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?%?")
_lock = threading.Lock()


def _data_lines(name: str) -> list[str]:
    text = resources.files("jianyan.data").joinpath(name).read_text(encoding="utf-8")
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.extend(line.split())
    return out


@lru_cache(maxsize=1)
def user_terms() -> tuple[str, ...]:
    return tuple(_data_lines("userdict.txt"))


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(_data_lines("stopwords.txt"))


@lru_cache(maxsize=1)
def _tokenizer():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    with _lock:
        tk.initialize()
        for term in user_terms():
            tk.add_word(term, freq=max(tk.suggest_freq(term, tune=False), 10000))
    return tk


def _merge_numbers(text: str, words: list[str]) -> list[str]:
    """jieba cuts 7.5% into 7 . 5 %: put the numbers of `text` back together."""
    numbers = _NUMBER.findall(text)
    kept = [w for w in words if not re.fullmatch(r"[\d.%]+", w)]
    return kept + numbers


def tokenize(text: str) -> list[str]:
    """Tokens for BM25: search-mode words, numbers whole, no stop words or punctuation."""
    tk = _tokenizer()
    stop = stopwords()
    words = [w.strip().lower() for w in tk.cut_for_search(fold(text))]
    words = _merge_numbers(text, words)
    return [w for w in words if w and w not in stop and _TOKEN_OK.search(w)]


def query_terms(tokens: list[str]) -> list[str]:
    """Distinct query words worth highlighting (of the query's `tokenize` tokens), longest first
    (so 营商环境 wins over 营商)."""
    terms = {t for t in tokens if len(t) >= 2 or t.isdigit()}
    return sorted(terms, key=lambda t: (-len(t), t))
