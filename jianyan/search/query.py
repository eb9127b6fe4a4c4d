"""How a drafter's query is read for the dense channels: its core and its clauses.

Drafters wrap what they look for in a question — "有没有提案建议……？", "有没有人提过……" — and the
wrapper is in every such query: embedded with it, a query is partly a vector for "a question
about proposals". The core is the query with that wrapper taken off (the keyword channel drops
the same words as stop words; `intent.py` still reads the wrapper for the document type).

A query that names several concrete suggestions ("建议线上注销，对拒不提供数据的企业建档曝光，
并让行业协会督促") describes one proposal whose passages each hold one of them. Each clause is
matched on its own and a document scores the mean of its clauses' best passages (the searcher's
clause channel), so the proposal that has all of them beats one that matches one clause well.
"""

from __future__ import annotations

import re

_WRAPPER = re.compile(
    r"^(有没有|是否有|有无|谁)(人|提案|委员|哪件提案|哪份提案)?"
    r"(提过|提出过?|建议过?|说过?|讲过?|谈到过?|呼吁过?|主张过?)?[，,：:]?|[？?。！!\s]+$")
_CLAUSE_SPLIT = re.compile(r"[，,；;。？?！!、\s]+|并且|以及|同时|还要|并")
MIN_CLAUSE_CHARS = 4  # shorter pieces ("同时", "建议") say nothing on their own
MAX_CLAUSES = 8  # a pasted paragraph is not a list of suggestions: its first clauses stand for it


def query_core(query: str) -> str:
    """The query without the drafter's question wrapper (the query itself if nothing is left)."""
    core = _WRAPPER.sub("", query.strip()).strip()
    return core or query.strip()


def query_clauses(query: str) -> list[str]:
    """The core's clauses of at least MIN_CLAUSE_CHARS characters (at most MAX_CLAUSES); empty
    when there are fewer than two, since one clause is the query itself."""
    parts = [p.strip() for p in _CLAUSE_SPLIT.split(query_core(query))]
    parts = [p for p in parts if len(p) >= MIN_CLAUSE_CHARS][:MAX_CLAUSES]
    return parts if len(parts) >= 2 else []
