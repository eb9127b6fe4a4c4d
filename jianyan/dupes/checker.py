"""提案查重: duplicate, overlapping and related past proposals for a draft, with aligned evidence.

Two kinds of evidence, each good at one thing:
- copied text: maximal runs of ≥ 12 characters shared with a past proposal (`shingles.py`),
  found among candidates that hold a share of the draft's winnowed fingerprints
  (`index/fingerprints.py`, persisted with the indexes) — containment, not Jaccard, so a copied
  section inside a longer text is caught;
- meaning: every passage of the draft against every passage of a candidate (e5 vectors, both
  sides embedded as passages); `forward` is the length-weighted mean of each draft passage's best
  cosine, `reverse` the same from the past proposal's side. A rewording has both high; a proposal
  on the same broad topic has neither.
Whether a high semantic score means a rewording depends on the neighbourhood: the closest
candidates get the probability of `verdicts.REWORDING_MODEL`, from the pair's score against the
draft's and the past proposal's k nearest neighbours (margin, Artetxe & Schwenk 2019). The
verdict of each pair comes from `verdicts.py`; 并案 groups from `clusters.py`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from ..index.sync import SearchIndexes
from ..ingest.draft import Draft, draft_from_text
from ..store import PassageSpan, Store
from ..index.fingerprints import fingerprints
from .shingles import Normalised, copied_spans, normalise
from .verdicts import (CALIBRATED_CANDIDATES, NEIGHBOURS_K, REWORDING_MODEL, VERDICT_NAMES, Thresholds,
                       verdict, verdict_fields, verdict_rank)

log = logging.getLogger("jianyan.dupes")

MAX_CANDIDATES = 100  # past proposals compared in full per check
NEIGHBOURS_PER_PASSAGE = 20  # FAISS neighbours of each draft passage that nominate candidates


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
                "title": self.title, "year": self.year, **verdict_fields(self.verdict, self.scores),
                "evidence": [{"kind": e.kind, "similarity": round(e.similarity, 4), "draft": e.draft,
                              "past": e.past} for e in self.evidence]}


@dataclass
class DupeResult:
    verdict: str
    matches: list[Match]
    draft_text: str
    notice: str = ""

    @property
    def probability(self) -> float | None:
        """The best match's calibrated probability of being this draft reworded (None: no match)."""
        ps = [m.scores["probability"] for m in self.matches if "probability" in m.scores]
        return round(max(ps), 4) if ps else None

    def to_dict(self) -> dict:
        out = {"verdict": self.verdict, "verdict_name": VERDICT_NAMES[self.verdict],
               "probability": self.probability,
               "draft_text": self.draft_text, "matches": [m.to_dict() for m in self.matches]}
        if self.notice:
            out["notice"] = self.notice
        return out


@dataclass
class ComparedText:
    """What a check needs of one text: its text, passages, their vectors and lengths."""

    text: str
    starts: list[int]
    ends: list[int]
    paths: list[list[str]]
    vectors: np.ndarray
    lengths: np.ndarray
    normalised: Normalised | None = None

    @classmethod
    def of(cls, text: str, passages, vectors: np.ndarray) -> "ComparedText":
        """From a text and its passages (anything with start, end and heading_path)."""
        return cls(text, [p.start for p in passages], [p.end for p in passages],
                   [list(p.heading_path) for p in passages], vectors,
                   np.asarray([p.end - p.start for p in passages], float))

    def norm(self) -> Normalised:
        if self.normalised is None:
            self.normalised = normalise(self.text)
        return self.normalised

    def passage_at(self, pos: int) -> int:
        for i, (s, e) in enumerate(zip(self.starts, self.ends)):
            if s <= pos < e:
                return i
        return -1

    def span(self, start: int, end: int) -> dict:
        i = self.passage_at(start)
        return {"start": start, "end": end, "text": self.text[start:end],
                "heading_path": self.paths[i] if i >= 0 else []}


def directional(a: ComparedText, b: ComparedText) -> tuple[float, np.ndarray]:
    """Length-weighted mean, over `a`'s passages, of each one's best cosine in `b`; and the cosines."""
    sims = a.vectors @ b.vectors.T
    best = sims.max(axis=1)
    return float((best * a.lengths).sum() / a.lengths.sum()), sims


def semantic(a: ComparedText, b: ComparedText) -> float:
    """min(forward, reverse): both texts must find themselves in the other."""
    return min(directional(a, b)[0], directional(b, a)[0])


def neighbour_mean(similarities, k: int = NEIGHBOURS_K) -> float:
    """Mean of the k highest similarities (all of them when fewer): one side of the margin."""
    top = sorted(similarities, reverse=True)[:k]
    return float(np.mean(top)) if top else 0.0


class DuplicateChecker:
    def __init__(self, store: Store, indexes: SearchIndexes, embedder,
                 thresholds: Thresholds | None = None, indexed: set[int] | None = None) -> None:
        """`indexed`: as for `Searcher` — only passages the index holds are compared. Nothing is
        read per passage here: a stored proposal's passages are read when it is compared."""
        self.store, self.indexes, self.embedder = store, indexes, embedder
        self.t = thresholds or Thresholds()
        self.docs = store.document_briefs(doc_type="proposal")
        self._indexed = indexed
        if indexed is not None:  # indexes behind the store: only proposals they hold are compared
            held = set(indexes.passage_segments.documents_of(np.fromiter(indexed, np.int64)).tolist())
            self.docs = {d: b for d, b in self.docs.items() if d in held}
        self._spans: dict[int, list[PassageSpan]] = {}
        self._proposal_passages: np.ndarray | None = None
        self._proposal_filter = None
        self._compared: dict[int, ComparedText] = {}
        self._neighbours: dict[int, list[float]] = {}

    # -- stored proposals --------------------------------------------------------------------
    @property
    def proposal_ids(self) -> list[int]:
        return list(self.docs)

    @property
    def proposal_passages(self) -> np.ndarray:
        """Every indexed passage of a proposal (the id filter of FAISS searches)."""
        if self._proposal_passages is None:
            self._proposal_passages = self.indexes.passage_segments.ids_of_documents(
                np.asarray(list(self.docs), np.int64))
        return self._proposal_passages

    @property
    def proposal_filter(self):
        """`proposal_passages` as row masks of the index's segments, made once per view."""
        if self._proposal_filter is None:
            from ..index.segments import RowFilter

            self._proposal_filter = RowFilter(self.indexes.passage_segments, self.proposal_passages)
        return self._proposal_filter

    def spans(self, doc_ids: list[int]) -> dict[int, list[PassageSpan]]:
        missing = [d for d in dict.fromkeys(doc_ids) if d not in self._spans]
        if missing:
            found = self.store.passage_spans_of(missing)
            for d in missing:
                spans = found.get(d, [])
                if self._indexed is not None:
                    spans = [p for p in spans if p.id in self._indexed]
                self._spans[d] = spans
        return {d: self._spans[d] for d in doc_ids}

    def stored(self, doc_ids: list[int]) -> dict[int, ComparedText]:
        """Stored proposals as compared texts: their texts in one query, vectors from the index."""
        missing = [d for d in dict.fromkeys(doc_ids) if d not in self._compared]
        if missing:
            texts = self.store.document_texts(missing)
            spans = self.spans(missing)
            for d in missing:
                self._compared[d] = ComparedText.of(texts[d], spans[d],
                                                    self.indexes.vectors.reconstruct([p.id for p in spans[d]]))
        return {d: self._compared[d] for d in doc_ids}

    def sharing_text(self, text: str) -> dict[int, float]:
        """Proposals holding at least the candidate share of `text`'s fingerprints, with that share."""
        found = self.indexes.title_segments.sharing_fingerprints(fingerprints(text), self.t.copy_containment)
        return {d: share for d, share in found.items() if d in self.docs}

    def warm(self) -> None:
        """What the first check would otherwise wait for: the proposals' passage filter."""
        self.proposal_filter  # noqa: B018 - computed and kept

    # -- a draft -----------------------------------------------------------------------------
    def _compared_draft(self, draft: Draft) -> ComparedText:
        vectors = self.embedder.embed_passages([p.text for p in draft.passages])
        return ComparedText.of(draft.text, draft.passages, vectors)

    def near_proposals(self, text: ComparedText) -> dict[int, float]:
        """Proposals near any passage of `text` (FAISS), each with its best passage cosine."""
        # One batched search; no id filter when every indexed passage is a proposal's.
        allowed = None if len(self.proposal_passages) == len(self.indexes.vectors) else self.proposal_filter
        ids, scores = self.indexes.vectors.search_many(text.vectors, NEIGHBOURS_PER_PASSAGE, allowed)
        ids, scores = ids.ravel(), scores.ravel()
        ok = ids >= 0
        docs = self.indexes.passage_segments.documents_of(ids[ok]).tolist()
        best: dict[int, float] = {}
        for d, score in zip(docs, scores[ok].tolist()):
            if d in self.docs and score > best.get(d, -1.0):
                best[d] = score
        return best

    def _candidates(self, draft: ComparedText, exclude: set[int]) -> list[int]:
        """Proposals sharing text with the draft (fingerprints) or near its passages (FAISS),
        at most MAX_CANDIDATES: those sharing text first, then by best passage cosine."""
        lexical = set(self.sharing_text(draft.text))
        best = self.near_proposals(draft)
        ranked = sorted((lexical | set(best)) - exclude,
                        key=lambda d: (d not in lexical, -best.get(d, 0.0)))
        return ranked[:MAX_CANDIDATES]

    def pair_scores(self, a: ComparedText, b: ComparedText) -> tuple[dict[str, float], list, np.ndarray]:
        """(scores, copied spans, a×b passage cosines) of one pair."""
        forward, sims = directional(a, b)
        reverse, _ = directional(b, a)
        spans, copied_a, copied_b = copied_spans(a.norm(), b.norm())
        scores = {"copied_draft": copied_a, "copied_past": copied_b,
                  "semantic": min(forward, reverse), "forward": forward, "reverse": reverse}
        return scores, spans, sims

    def stored_neighbours(self, doc_id: int, exclude: set[int] = frozenset()) -> list[float]:
        """The semantic scores of a stored proposal's NEIGHBOURS_K nearest other proposals
        (nominated by FAISS as a draft's candidates are), cached for the view's life."""
        if doc_id not in self._neighbours:
            me = self.stored([doc_id])[doc_id]
            near = sorted(self.near_proposals(me).items(), key=lambda kv: -kv[1])
            others = [d for d, _ in near if d != doc_id][:MAX_CANDIDATES]
            texts = self.stored(others)
            self._neighbours[doc_id] = sorted(((semantic(me, texts[d]), d) for d in others), reverse=True)
        return [s for s, d in self._neighbours[doc_id] if d not in exclude][:NEIGHBOURS_K]

    def calibrate(self, scored: list[tuple[int, dict[str, float]]], exclude: set[int] = frozenset()) -> None:
        """Add the margin features and the rewording probability to the closest candidates' scores
        (in place); the rest are too far from the draft to be a rewording (probability 0)."""
        if not scored:
            return
        draft_side = neighbour_mean([s["semantic"] for _, s in scored])
        closest = sorted(scored, key=lambda ds: -ds[1]["semantic"])
        for rank, (doc_id, s) in enumerate(closest):
            if rank >= CALIBRATED_CANDIDATES:
                s["probability"] = 0.0
                continue
            s["draft_neighbours"] = draft_side
            s["past_neighbours"] = neighbour_mean([s["semantic"], *self.stored_neighbours(doc_id, exclude)])
            s["probability"] = REWORDING_MODEL.probability_of(s)

    def _match(self, draft: ComparedText, doc_id: int, past: ComparedText, scores: dict[str, float],
               spans, sims: np.ndarray) -> Match:
        brief = self.docs[doc_id]
        return Match(doc_id, brief.external_id, brief.title, brief.year, verdict(scores, self.t), scores,
                     self._evidence(draft, past, spans, sims))

    def _evidence(self, draft: ComparedText, past: ComparedText, spans, sims: np.ndarray) -> list[Evidence]:
        out: list[Evidence] = []
        for s in sorted(spans, key=lambda s: -s.length)[:20]:
            out.append(Evidence("copied", 1.0, draft.span(s.a_start, s.a_end), past.span(s.b_start, s.b_end)))
        copied_passages = {draft.passage_at(s.a_start) for s in spans}
        for i in range(len(draft.starts)):
            j = int(sims[i].argmax())
            if sims[i, j] >= self.t.evidence_similarity and i not in copied_passages:
                out.append(Evidence("paraphrase", float(sims[i, j]),
                                    draft.span(draft.starts[i], draft.ends[i]),
                                    past.span(past.starts[j], past.ends[j])))
        out.sort(key=lambda e: e.draft["start"])
        return out

    def check(self, text: str, title: str = "", exclude_external_ids: tuple[str, ...] = (),
              limit: int = 10) -> DupeResult:
        """Check a typed or pasted draft (`DraftError` when too short or too long)."""
        return self.check_draft(draft_from_text(text, title), exclude_external_ids, limit)

    def check_draft(self, draft: Draft, exclude_external_ids: tuple[str, ...] = (),
                    limit: int = 10) -> DupeResult:
        if not self.docs:
            self._compared_draft(draft)  # the draft is still embedded: a model that fails says so
            return DupeResult("none", [], draft.text, notice="文档库中还没有提案，无法查重")
        matches = [m for m in self.compare_all(draft, exclude_external_ids) if m.verdict != "none"]
        matches.sort(key=lambda m: (verdict_rank(m.verdict), -max(m.scores["probability"], m.scores["copied_draft"]),
                                    -m.scores["semantic"]))
        return DupeResult(matches[0].verdict if matches else "none", matches[:limit], draft.text)

    def compare_all(self, draft: Draft, exclude_external_ids: tuple[str, ...] = ()) -> list[Match]:
        """Every candidate compared with the draft, whatever its verdict (for calibration)."""
        compared = self._compared_draft(draft)
        excluded = set(exclude_external_ids)
        exclude = {d for d, b in self.docs.items() if b.external_id in excluded} if excluded else set()
        candidates = self._candidates(compared, exclude)
        past = self.stored(candidates)
        pairs = {d: self.pair_scores(compared, past[d]) for d in candidates}
        self.calibrate([(d, pairs[d][0]) for d in candidates], exclude)
        return [self._match(compared, d, past[d], *pairs[d]) for d in candidates]

    def cluster(self, year: int | None = None) -> list[dict]:
        """并案 groups of stored proposals (see `clusters.py`)."""
        from .clusters import cluster_proposals

        return cluster_proposals(self, year)
