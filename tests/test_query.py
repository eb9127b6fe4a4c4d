"""How a drafter's query is read for the dense channels (search/query.py)."""

from jianyan.search.query import MAX_CLAUSES, query_clauses, query_core


def test_core_drops_the_question_wrapper_only():
    assert query_core("有没有提案建议加强农村养老服务？") == "加强农村养老服务"
    assert query_core("有没有人提过在社区设立托育点") == "在社区设立托育点"
    assert query_core("是否有委员呼吁：推进垃圾分类。") == "推进垃圾分类"
    # No wrapper: the query as it is (trimmed); a bare wrapper keeps the query rather than nothing.
    assert query_core(" 关于加快发展绿色金融的建议 ") == "关于加快发展绿色金融的建议"
    assert query_core("有没有？") == "有没有？"


def test_clauses_split_several_suggestions():
    clauses = query_clauses("有没有提案建议线上注销，对拒不提供数据的企业建档曝光，并让行业协会督促？")
    assert clauses == ["线上注销", "对拒不提供数据的企业建档曝光", "让行业协会督促"]


def test_one_clause_is_no_clause_list_and_short_pieces_are_dropped():
    assert query_clauses("加强农村养老服务") == []
    assert query_clauses("加强农村养老服务，同时") == []  # "同时" alone says nothing
    long = "，".join(f"第{n}项具体建议内容" for n in range(20))
    assert len(query_clauses(long)) == MAX_CLAUSES
