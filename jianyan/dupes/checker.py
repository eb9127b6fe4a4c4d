"""提案查重 and 并案: duplicate, overlapping and related proposals, with aligned evidence.

Two kinds of evidence, each good at one thing:
- copied text: maximal runs of ≥ 12 characters shared with a past proposal (`shingles.py`),
  found among candidates from a MinHash LSH Ensemble over character 5-grams — containment, not
  Jaccard, so a copied section inside a longer text is caught (Zhu et al., "LSH Ensemble:
  Internet-scale domain search", VLDB 2016);
- meaning: every passage of the draft against every passage of a candidate (e5 vectors, both
  sides embedded as passages); `forward` is the length-weighted mean of each draft passage's best
  cosine, `reverse` the same from the past proposal's side. A rewording has both high; a proposal
  on the same broad topic has neither.

Verdicts, thresholds calibrated on data (README "提案查重"; `jianyan eval dupes` reproduces):
- duplicate (重复): ≥ 80 % of the draft is copied, or ≥ 60 % of both texts; or min(forward,
  reverse) ≥ 0.945 (dev paraphrases 0.946–0.960; dev distinct drafts at most 0.928);
- overlap (部分重复): ≥ 15 % of either text is copied (dev partial copies 0.38–0.63; paraphrases
  and distinct drafts 0.00);
- related (相关): min(forward, reverse) ≥ 0.935 — the same specific matter in other words;
- none.
The semantic thresholds hold for the bundled multilingual-e5-small; another model needs its own
calibration (`jianyan eval dupes` prints the scores to choose from).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field

import numpy as np

from ..errors import JianyanError
from ..ingest.chunk import chunk_blocks
from ..ingest.clean import clean_lines, lines_from_text
from ..ingest.structure import parse_structure
from ..store import Store
from ..index.sync import SearchIndexes
from .shingles import SHINGLE, Normalised, copied_spans, normalise, shingles

log = logging.getLogger("jianyan.dupes")

VERDICTS = ("duplicate", "overlap", "related", "none")
VERDICT_NAMES = {"duplicate": "重复", "overlap": "部分重复", "related": "相关", "none": "未发现重复"}
MAX_DRAFT_CHARS = 50_000
MAX_CANDIDATES = 100  # past proposals compared in full per check
MIN_DRAFT_CHARS = 20


class DraftError(JianyanError):
    code = "bad_draft"


@dataclass
class Thresholds:
    copy_duplicate_draft: float = 0.80
    copy_duplicate_both: float = 0.60
    copy_overlap: float = 0.15
    semantic_duplicate: float = 0.945
    semantic_related: float = 0.935
    evidence_similarity: float = 0.93  # a passage pair shown as paraphrase evidence
    lsh_containment: float = 0.10  # candidate: this share of the draft's 5-grams in a proposal


@dataclass
class Evidence:
    kind: str  # copied | paraphrase
    similarity: float
    draft: dict  # {start, end, text, heading_path}
    past: dict


@dataclass
class Match:
    document_id: int
    external_id: str
    title: str
    year: int | None
    verdict: str
    scores: dict[str, float]
    evidence: list[Evidence] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"document_id": self.document_id, "external_id": self.external_id,
                "title": self.title, "year": self.year,
                "verdict": self.verdict, "verdict_name": VERDICT_NAMES[self.verdict],
                "scores": {k: round(v, 4) for k, v in self.scores.items()},
                "evidence": [{"kind": e.kind, "similarity": round(e.similarity, 4), "draft": e.draft,
                              "past": e.past} for e in self.evidence]}


@dataclass
class DupeResult:
    verdict: str
    matches: list[Match]
    draft_text: str
    notice: str = ""

    def to_dict(self) -> dict:
        out = {"verdict": self.verdict, "verdict_name": VERDICT_NAMES[self.verdict],
               "draft_text": self.draft_text, "matches": [m.to_dict() for m in self.matches]}
        if self.notice:
            out["notice"] = self.notice
        return out


@dataclass
class _Doc:
    """What a check needs of one text: cleaned text, passages, their vectors and lengths."""

    text: str
    starts: list[int]
    ends: list[int]
    paths: list[list[str]]
    vectors: np.ndarray
    lengths: np.ndarray
    normalised: Normalised | None = None

    def norm(self) -> Normalised:
        if self.normalised is None:
            self.normalised = normalise(self.text)
        return self.normalised


def _verdict(s: dict[str, float], t: Thresholds) -> str:
    if s["copied_draft"] >= t.copy_duplicate_draft or \
            min(s["copied_draft"], s["copied_past"]) >= t.copy_duplicate_both:
        return "duplicate"
    if max(s["copied_draft"], s["copied_past"]) >= t.copy_overlap:
        return "overlap"  # a section copied, the rest new (its meaning then follows the copy)
    if s["semantic"] >= t.semantic_duplicate:
        return "duplicate"  # reworded throughout
    if s["semantic"] >= t.semantic_related:
        return "related"
    return "none"


def _minhash(text: str):
    """(MinHash of the text's character 5-grams, number of distinct 5-grams)."""
    from datasketch import MinHash

    sh = shingles(text, SHINGLE)
    m = MinHash(num_perm=128)
    if sh:
        m.update_batch([x.encode("utf-8") for x in sh])
    return m, len(sh)


def _directional(a: _Doc, b: _Doc) -> tuple[float, np.ndarray]:
    sims = a.vectors @ b.vectors.T
    best = sims.max(axis=1)
    return float((best * a.lengths).sum() / a.lengths.sum()), sims


class DuplicateChecker:
    def __init__(self, store: Store, indexes: SearchIndexes, embedder,
                 thresholds: Thresholds | None = None) -> None:
        self.store, self.indexes, self.embedder = store, indexes, embedder
        self.t = thresholds or Thresholds()
        rows = store.conn.execute(
            "SELECT p.id, p.document_id, p.start, p.end, p.heading_path FROM passages p "
            "JOIN documents d ON d.id = p.document_id WHERE d.doc_type = 'proposal' "
            "ORDER BY p.document_id, p.seq").fetchall()
        self.proposal_passages = np.asarray([r[0] for r in rows], np.int64)
        self._passage_doc = {r[0]: r[1] for r in rows}
        self._by_doc: dict[int, list[tuple]] = {}
        for r in rows:
            self._by_doc.setdefault(r[1], []).append(r)
        self._docs: dict[int, _Doc] = {}
        self._lsh = None
        self._lsh_lock = threading.Lock()  # one build, however many checks wait for it

    # -- stored proposals --------------------------------------------------------------------
    def _doc(self, doc_id: int) -> _Doc:
        if doc_id not in self._docs:
            rows = self._by_doc[doc_id]
            text = self.store.conn.execute("SELECT text FROM documents WHERE id=?", (doc_id,)).fetchone()[0]
            vectors = self.indexes.vectors.reconstruct([r[0] for r in rows])
            self._docs[doc_id] = _Doc(text, [r[2] for r in rows], [r[3] for r in rows],
                                      [json.loads(r[4]) for r in rows], vectors,
                                      np.asarray([r[3] - r[2] for r in rows], float))
        return self._docs[doc_id]

    def _lsh_index(self):
        """The LSH Ensemble over every proposal's 5-grams. Built from the stored texts alone:
        loading each proposal's vectors for this would hold a second copy of the FAISS index."""
        with self._lsh_lock:
            if self._lsh is None:
                self._lsh = self._build_lsh()
        return self._lsh

    def warm(self) -> None:
        self._lsh_index()

    def _build_lsh(self):
        from datasketch import MinHashLSHEnsemble

        entries = []
        for doc_id, text in self.store.conn.execute(
                "SELECT id, text FROM documents WHERE doc_type = 'proposal'"):
            m, size = _minhash(text)
            if size:
                entries.append((doc_id, m, size))
        lsh = MinHashLSHEnsemble(threshold=self.t.lsh_containment, num_perm=128, num_part=16)
        if entries:
            lsh.index(entries)
        return lsh

    # -- a draft -----------------------------------------------------------------------------
    def _draft(self, title: str, text: str) -> _Doc:
        paragraphs = clean_lines(lines_from_text(text))
        cleaned = "\n".join(p.text for p in paragraphs)
        passages = chunk_blocks(parse_structure(cleaned).blocks, cleaned)
        vectors = self.embedder.embed_passages([p.text for p in passages])
        return _Doc(cleaned, [p.start for p in passages], [p.end for p in passages],
                    [p.heading_path for p in passages], vectors,
                    np.asarray([p.end - p.start for p in passages], float))

    def _candidates(self, draft: _Doc, exclude: set[int]) -> list[int]:
        """Proposals sharing text with the draft (LSH Ensemble) or near its passages (FAISS),
        at most MAX_CANDIDATES: those sharing text first, then by best passage cosine."""
        lexical: set[int] = set()
        m, size = _minhash(draft.text)
        if size and self._by_doc:
            lexical = set(self._lsh_index().query(m, size))
        # One batched search; no id filter when every indexed passage is a proposal's.
        allowed = None if len(self.proposal_passages) == len(self.indexes.vectors) else self.proposal_passages
        ids, scores = self.indexes.vectors.search_many(draft.vectors, 20, allowed)
        best: dict[int, float] = {}
        for pid, score in zip(ids.ravel().tolist(), scores.ravel().tolist()):
            d = self._passage_doc.get(pid) if pid >= 0 else None
            if d is not None and score > best.get(d, -1.0):
                best[d] = score
        ranked = sorted((lexical | set(best)) - exclude,
                        key=lambda d: (d not in lexical, -best.get(d, 0.0)))
        return ranked[:MAX_CANDIDATES]

    def compare(self, draft: _Doc, doc_id: int) -> Match:
        past = self._doc(doc_id)
        forward, sims = _directional(draft, past)
        reverse, _ = _directional(past, draft)
        spans, copied_draft, copied_past = copied_spans(draft.norm(), past.norm())
        scores = {"copied_draft": copied_draft, "copied_past": copied_past,
                  "semantic": min(forward, reverse), "forward": forward, "reverse": reverse}
        meta = self.store.conn.execute("SELECT external_id, title, year FROM documents WHERE id=?",
                                       (doc_id,)).fetchone()
        match = Match(doc_id, meta[0], meta[1], meta[2], _verdict(scores, self.t), scores)
        match.evidence = self._evidence(draft, past, spans, sims)
        return match

    def _evidence(self, draft: _Doc, past: _Doc, spans, sims: np.ndarray) -> list[Evidence]:
        out: list[Evidence] = []
        for s in sorted(spans, key=lambda s: -s.length)[:20]:
            out.append(Evidence("copied", 1.0, self._span(draft, s.a_start, s.a_end),
                                self._span(past, s.b_start, s.b_end)))
        copied_passages = {self._passage_at(draft, s.a_start) for s in spans}
        for i in range(len(draft.starts)):
            j = int(sims[i].argmax())
            if sims[i, j] >= self.t.evidence_similarity and i not in copied_passages:
                out.append(Evidence("paraphrase", float(sims[i, j]),
                                    self._span(draft, draft.starts[i], draft.ends[i]),
                                    self._span(past, past.starts[j], past.ends[j])))
        out.sort(key=lambda e: e.draft["start"])
        return out

    @staticmethod
    def _passage_at(doc: _Doc, pos: int) -> int:
        for i, (s, e) in enumerate(zip(doc.starts, doc.ends)):
            if s <= pos < e:
                return i
        return -1

    def _span(self, doc: _Doc, start: int, end: int) -> dict:
        i = self._passage_at(doc, start)
        return {"start": start, "end": end, "text": doc.text[start:end],
                "heading_path": doc.paths[i] if i >= 0 else []}

    def check(self, text: str, title: str = "", exclude_external_ids: tuple[str, ...] = (),
              limit: int = 10) -> DupeResult:
        body = (text or "").strip()
        if len(body) < MIN_DRAFT_CHARS:
            raise DraftError(f"提案正文太短（{len(body)} 字），至少需要 {MIN_DRAFT_CHARS} 字才能查重")
        if len(body) > MAX_DRAFT_CHARS:
            raise DraftError(f"提案正文过长（{len(body)} 字），请控制在 {MAX_DRAFT_CHARS} 字以内")
        full = f"{title.strip()}\n{body}" if title and title.strip() else body
        draft = self._draft(title, full)
        if not self._by_doc:
            return DupeResult("none", [], draft.text, notice="文档库中还没有提案，无法查重")
        exclude = {d for d, in self.store.conn.execute(
            f"SELECT id FROM documents WHERE external_id IN ({','.join('?' * len(exclude_external_ids))})",
            exclude_external_ids)} if exclude_external_ids else set()
        matches = [self.compare(draft, d) for d in self._candidates(draft, exclude)]
        rank = {v: i for i, v in enumerate(VERDICTS)}
        matches = [m for m in matches if m.verdict != "none"]
        matches.sort(key=lambda m: (rank[m.verdict], -max(m.scores["semantic"], m.scores["copied_draft"])))
        verdict = matches[0].verdict if matches else "none"
        return DupeResult(verdict, matches[:limit], draft.text)

    # -- 并案 --------------------------------------------------------------------------------
    def cluster(self, year: int | None = None) -> list[dict]:
        """Groups of stored proposals that duplicate or overlap each other (connected components
        of duplicate/overlap pairs), each with its members and the pairs that join them."""
        docs = [d for d in self._by_doc if year is None or self._year(d) == year]
        if len(docs) < 2:
            return []
        pos = {d: i for i, d in enumerate(docs)}
        allv = np.vstack([self._doc(d).vectors for d in docs])
        owner = np.concatenate([[pos[d]] * len(self._doc(d).starts) for d in docs])
        bounds = np.searchsorted(owner, np.arange(len(docs) + 1))
        fwd = np.zeros((len(docs), len(docs)))
        for d in docs:
            doc = self._doc(d)
            best = np.maximum.reduceat(doc.vectors @ allv.T, bounds[:-1], axis=1)
            fwd[pos[d]] = (best * doc.lengths[:, None]).sum(0) / doc.lengths.sum()
        semantic = np.minimum(fwd, fwd.T)
        lsh = self._lsh_index()
        pairs: set[tuple[int, int]] = set()
        for d in docs:
            m, size = _minhash(self._doc(d).text)
            for other in (lsh.query(m, size) if size else ()):
                if other != d and other in pos:
                    pairs.add((min(d, other), max(d, other)))
        i_idx, j_idx = np.nonzero(np.triu(semantic >= self.t.semantic_related, k=1))
        pairs |= {(min(docs[i], docs[j]), max(docs[i], docs[j])) for i, j in zip(i_idx, j_idx)}
        parent = {d: d for d in docs}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        edges = []
        for a, b in sorted(pairs):
            _, cov_a, cov_b = copied_spans(self._doc(a).norm(), self._doc(b).norm())
            s = float(semantic[pos[a], pos[b]])
            scores = {"copied_draft": cov_a, "copied_past": cov_b, "semantic": s}
            verdict = _verdict(scores, self.t)
            if verdict in ("duplicate", "overlap"):
                parent[find(a)] = find(b)
                edges.append((a, b, verdict, scores))
        groups: dict[int, list[int]] = {}
        for d in docs:
            groups.setdefault(find(d), []).append(d)
        clusters = []
        for members in groups.values():
            if len(members) < 2:
                continue
            mset = set(members)
            meta = {d: self.store.conn.execute("SELECT external_id, title, year, author FROM documents "
                                               "WHERE id=?", (d,)).fetchone() for d in members}
            clusters.append({
                "members": [{"document_id": d, "external_id": meta[d][0], "title": meta[d][1], "year": meta[d][2],
                             "author": meta[d][3]} for d in sorted(members)],
                "pairs": [{"a": meta[a][0], "b": meta[b][0], "verdict": v, "verdict_name": VERDICT_NAMES[v],
                           "scores": {k: round(x, 4) for k, x in sc.items()}}
                          for a, b, v, sc in edges if a in mset and b in mset]})
        clusters.sort(key=lambda c: -len(c["members"]))
        return clusters

    def _year(self, doc_id: int) -> int | None:
        return self.store.conn.execute("SELECT year FROM documents WHERE id=?", (doc_id,)).fetchone()[0]
