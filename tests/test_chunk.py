"""Passages of the real corpora: exact offsets, full coverage, size range, sentence ends."""

from __future__ import annotations

import re

from jianyan.ingest.chunk import MAX_CHARS

from .conftest import requires_shared


@requires_shared
def test_passages_are_exact_spans_that_cover_every_character(real_store):
    checked = 0
    for doc in real_store.list_documents():
        full = real_store.get_document(doc["id"])
        text = full["text"]
        covered = bytearray(len(text))
        for p in full["passages"]:
            assert text[p["start"]:p["end"]] == p["text"]
            assert 0 < len(p["text"]) <= MAX_CHARS
            covered[p["start"]:p["end"]] = b"\x01" * (p["end"] - p["start"])
        missing = [ch for ch, c in zip(text, covered) if not c and not ch.isspace()]
        assert not missing, (doc["external_id"], "".join(missing[:40]))
        starts = [p["start"] for p in full["passages"]]
        assert starts == sorted(starts)
        checked += 1
    assert checked == 436 + 72 + 60


@requires_shared
def test_passages_end_at_sentence_or_paragraph_ends(real_store):
    ends, at_boundary = 0, 0
    for p in real_store.passages():
        ends += 1
        at_boundary += bool(re.search(r"[。！？；;!?：:”’」）)]$", p.text)) or "\n" not in p.text
    # A passage may end without punctuation only where a heading or a paragraph ends.
    assert at_boundary / ends > 0.97


@requires_shared
def test_size_distribution(real_store):
    lengths = sorted(len(p.text) for p in real_store.passages())
    median = lengths[len(lengths) // 2]
    assert 100 <= median <= 350
    assert lengths[-1] <= MAX_CHARS
