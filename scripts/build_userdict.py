"""Regenerate jianyan/data/userdict.txt: the domain terms jieba must keep whole.

Two sources, both written to the file with a comment saying where each term came from:
1. CURATED: policy and CPPCC terms that jieba's general dictionary splits or that drafters search
   for as one unit (提案, 三重一大, 八项规定, 放管服, 双减, 乡村振兴, 营商环境…).
2. MINED from the real corpora in ../shared/corpora: slogans and named policies written in Chinese
   quotes (“多规合一”), 2–8 characters, in at least 3 documents, that jieba splits into pieces.
    python scripts/build_userdict.py
"""

from __future__ import annotations

import collections
import csv
import json
import re
from pathlib import Path

import jieba

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpora"
OUT = ROOT / "jianyan" / "data" / "userdict.txt"

CURATED = """
政协 提案 提案人 委员 政协委员 常委会 主席会议 界别 并案 提案办理 办复率 社情民意 委员工作室 专题协商
协商议政 参政议政 政治协商 民主监督 协商民主 全过程人民民主 建言献策 调研情况 问题分析 具体建议
三重一大 八项规定 四风 三会一课 主题党日 党风廉政建设 民主集中制 意识形态
放管服 双减 乡村振兴 营商环境 专精特新 新质生产力 一网通办 一件事一次办 河长制 林长制
供给侧结构性改革 减税降费 留抵退税 普惠金融 专项债 超长期特别国债 城镇调查失业率 国内生产总值
居民消费价格 碳达峰 碳中和 双循环 长三角一体化 高质量发展 稳就业 六稳 六保 三农 三去一降一补
产教融合 医养结合 家庭医生 县管乡用 时间银行 托育 嵌入式养老 老旧小区改造 垃圾分类 无废城市
排污许可 人工智能+ 互联网+ 数字政府 智慧城市 新基建 城市更新 历史文化街区 大运河文化带 长江大保护
""".split()


def corpus_texts() -> list[str]:
    texts = [r["content"] for r in csv.DictReader(
        open(SHARED / "jiangsu-cppcc-proposals-2019" / "jszx2019.csv", encoding="utf-8"))]
    for name, key in (("state-council-work-reports/government_work_reports.jsonl", "content"),
                      ("state-council-policies/policies_clean.jsonl", "text")):
        texts += [json.loads(line)[key] for line in open(SHARED / name, encoding="utf-8")]
    return texts


def mined_terms(texts: list[str]) -> list[tuple[str, int]]:
    counts: collections.Counter[str] = collections.Counter()
    for text in texts:
        counts.update(set(re.findall(r"“([\u4e00-\u9fff+]{2,8})”", text)))
    return [(t, n) for t, n in counts.most_common() if n >= 3 and len(jieba.lcut(t)) > 1]


def main() -> None:
    jieba.setLogLevel(60)
    lines = ["# jianyan domain dictionary for jieba: one term a line, '#' starts a comment.",
             "# Regenerate with: python scripts/build_userdict.py", "", "# curated"]
    seen = set(CURATED)
    lines += CURATED
    lines += ["", "# mined: quoted terms in >= 3 documents of ../shared/corpora that jieba splits (documents)"]
    for term, n in mined_terms(corpus_texts()):
        if term not in seen:
            seen.add(term)
            lines.append(f"{term}  # {n}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(seen)} terms")


if __name__ == "__main__":
    main()
