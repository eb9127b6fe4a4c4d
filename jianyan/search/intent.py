"""Which kind of document a query asks for, from how drafters phrase it.

Drafters wrap a search in the kind of document they want: "政府工作报告里是怎么写的", "有没有人提过…",
"…的批复". When a query says so, documents of that type get a soft boost (never a filter: the
words can also be part of the subject).
"""

from __future__ import annotations

import re

_REPORT = re.compile(r"政府工作报告|工作报告|工作总结|报告(里|中|提出|提到|把|是怎么)")
_PROPOSAL = re.compile(r"提案|有没有人(提|建议)|谁提过|委员.{0,6}建议")
_POLICY_END = re.compile(r"(通知|批复|复函|函|意见|决定|办法|条例|规定|方案|文件|答复)[。？?！!]*$")
_POLICY = re.compile(r"国务院(办公厅)?(关于|部署|同意|批复|原则同意|印发|决定)")


def doc_type_intent(query: str) -> str | None:
    q = query.strip()
    if _REPORT.search(q):
        return "report"
    if _PROPOSAL.search(q):
        return "proposal"
    if _POLICY_END.search(q) or _POLICY.search(q):
        return "policy"
    return None
