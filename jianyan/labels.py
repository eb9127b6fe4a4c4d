"""The Chinese names users see for the codes the core uses: the CLI prints them and the page
reads them from `/labels.js`, so each name is written once."""

from __future__ import annotations

from .dupes.verdicts import VERDICT_NAMES

DOC_TYPE_NAMES = {"proposal": "提案", "report": "工作报告", "policy": "政策文件", "other": "其他"}
STATUS_NAMES = {"added": "新增", "replaced": "更新", "unchanged": "未变", "failed": "失败", "skipped": "跳过"}


def all_labels() -> dict[str, dict[str, str]]:
    return {"doc_types": DOC_TYPE_NAMES, "statuses": STATUS_NAMES, "verdicts": VERDICT_NAMES}
