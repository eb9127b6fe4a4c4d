from jianyan.index.tokenize import query_terms, stopwords, tokenize, user_terms


def test_domain_terms_stay_whole():
    tokens = tokenize("深化放管服改革，支持专精特新企业，全面推进乡村振兴，落实三重一大和八项规定")
    for term in ("放管服", "专精特新", "乡村振兴", "三重一大", "八项规定"):
        assert term in tokens


def test_numbers_whole_and_stop_words_dropped():
    tokens = tokenize("哪几年的政府工作报告把国内生产总值增长的预期目标定在7.5%？税率由16%降为13%")
    assert {"7.5%", "16%", "13%", "国内生产总值"} <= set(tokens)
    assert not {"的", "哪几年", "政府工作报告", "？"} & set(tokens)


def test_dictionary_files_load():
    assert "提案" in user_terms() and len(user_terms()) > 100
    assert "的" in stopwords()


def test_query_terms_longest_first():
    terms = query_terms(tokenize("优化营商环境"))
    assert terms[0] == "营商环境"
