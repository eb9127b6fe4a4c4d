"""The document type a query asks for, from how drafters phrase it (a boost, never a filter)."""

from __future__ import annotations

import pytest

from jianyan.search.intent import doc_type_intent


@pytest.mark.parametrize("query, kind", [
    ("政府工作报告里是怎么写减税降费的", "report"),
    ("2019年工作总结中关于委员履职的表述", "report"),
    ("报告里提到的国内生产总值增长目标", "report"),
    ("有没有人提过发展社区嵌入式养老服务", "proposal"),
    ("关于加强农村饮水安全的提案", "proposal"),
    ("有委员曾经建议建立养老服务时间银行", "proposal"),
    ("国务院关于同意设立某市国家级新区的批复", "policy"),
    ("国务院部署进一步优化营商环境", "policy"),
    ("关于加强政务信息公开工作的通知。", "policy"),
    ("社区嵌入式养老", None),
    ("增值税税率由16%降为13%", None),
    ("", None),
])
def test_the_type_a_query_asks_for(query, kind):
    assert doc_type_intent(query) == kind


def test_a_report_cue_wins_over_a_proposal_cue():
    # "工作报告" names where to look; the subject may be about proposals.
    assert doc_type_intent("工作报告里关于提案办理的表述") == "report"
