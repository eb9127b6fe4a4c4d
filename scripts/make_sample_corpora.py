#!/usr/bin/env python3
"""Generate the sample corpora used by the README demo.

Writes a small, mixed-format set of fictional Chinese official documents
under ``corpora/`` (relative to the repository root):

    corpora/seed/2021年县政协工作总结.txt                 (copy of the user's seed document)
    corpora/policy/关于加强政务信息公开工作的通知.pdf       (PDF with a text layer)
    corpora/policy/关于印发某市营商环境优化办法的通知.md    (UTF-8 Markdown, 章/条 structure)
    corpora/proposals/关于加快发展社区嵌入式养老服务的提案.docx
    corpora/proposals/提案导出_2022.csv                   (UTF-8 CSV export of a proposal system)
    corpora/reports/2022年市政协工作报告.txt               (GBK-encoded plain text)
    corpora/README.md

All texts except the seed copy are original fictional documents; names of
places and people are anonymised with "XX"/"某" as in real published samples.

The script is deterministic: running it twice produces byte-identical files
(PDF metadata is made invariant, and ZIP-based formats get fixed timestamps).

Usage:
    python scripts/make_sample_corpora.py [--out corpora]

Requires: reportlab, python-docx.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import io
import shutil
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The user's own seed document lives in ../shared next to the repository.
SEED_SOURCE = REPO_ROOT.parent / "shared" / "seed" / "000_d3ce3beb9149fa2b.txt"

FIXED_ZIP_TIME = (2022, 3, 15, 9, 0, 0)
FIXED_DATETIME = _dt.datetime(2022, 1, 12, 9, 0, 0)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def normalize_zip(path: Path) -> None:
    """Rewrite a ZIP container (docx/xlsx) with fixed timestamps and order.

    python-docx and openpyxl stamp every member with the current time, which
    would make the output differ on every run.
    """
    src = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(
        out, "w", compression=zipfile.ZIP_DEFLATED
    ) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zout.writestr(zi, data)
    path.write_bytes(out.getvalue())


# Punctuation that a typesetter never puts at the start of a line.
NO_LINE_START = set("，。、；：？！）》」』”’%")


def hard_wrap(text: str, width: int) -> list[str]:
    """Cut ``text`` into lines of ``width`` characters, as text pasted from a PDF.

    Closing punctuation is kept at the end of the previous line (so a line may
    be one character longer), mimicking the line-breaking rules of the source.
    """
    lines: list[str] = []
    cur = ""
    for ch in text:
        if len(cur) >= width and ch not in NO_LINE_START:
            lines.append(cur)
            cur = ""
        cur += ch
    if cur:
        lines.append(cur)
    return lines


# --------------------------------------------------------------------------
# 1. Seed copy
# --------------------------------------------------------------------------

def copy_seed(out: Path) -> Path | None:
    dest = out / "seed" / "2021年县政协工作总结.txt"
    if SEED_SOURCE.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SEED_SOURCE, dest)  # byte-exact copy
        return dest
    if dest.exists():
        # Shared folder not available (e.g. fresh clone): keep committed copy.
        return dest
    print(f"warning: seed source {SEED_SOURCE} not found; skipping", file=sys.stderr)
    return None


# --------------------------------------------------------------------------
# 2. PDF policy notice (通知) with a real text layer
# --------------------------------------------------------------------------

NOTICE_ISSUER_HEADER = "XX县人民政府办公室文件"
NOTICE_DOC_NO = "X政办发〔2022〕15号"
NOTICE_TITLE = "关于加强政务信息公开工作的通知"
NOTICE_ADDRESSEE = "各乡镇人民政府，县直各部门："

# Each entry: (kind, text). kind is "p" (indented paragraph) or "h" (heading,
# also indented two characters as in GB/T 9704 layout).
NOTICE_BODY: list[tuple[str, str]] = [
    ("p", "为深入贯彻落实《中华人民共和国政府信息公开条例》，进一步提升我县政务公开"
          "标准化、规范化水平，切实保障人民群众的知情权、参与权、表达权和监督权，经县"
          "人民政府同意，现就加强全县政务信息公开工作有关事项通知如下。"),
    ("h", "一、提高思想认识，压实工作责任"),
    ("p", "政务信息公开是建设法治政府、服务型政府的重要内容，是密切党群干群关系、提升"
          "政府公信力的重要途径。各乡镇、各部门要充分认识做好政务公开工作的重要意义，"
          "把政务公开纳入重要议事日程，与业务工作同部署、同推进、同考核。"),
    ("p", "（一）明确责任主体。各乡镇、各部门主要负责同志是本单位政务公开工作的第一责"
          "任人，要确定一名分管负责同志具体抓，明确一个股室、至少一名工作人员负责日常信"
          "息发布、依申请公开办理和网站栏目维护等工作，人员发生变动的要及时调整补充，并"
          "报县政务公开办备案。"),
    ("p", "（二）健全工作机制。建立健全信息发布审核、保密审查、舆情回应和考核评议等制"
          "度，做到发布前有审核、发布后有跟踪、出现问题有纠正。涉及群众切身利益的重要政"
          "策文件，原则上应当自印发之日起5个工作日内通过县政府门户网站予以公开。"),
    ("h", "二、突出公开重点，提升公开质量"),
    ("p", "（一）深化重点领域信息公开。围绕财政预决算、重大建设项目、公共资源配置、社会"
          "公益事业、乡村振兴等重点领域，细化公开目录，逐项明确公开内容、公开时限和责任"
          "单位。财政预决算和“三公”经费信息要按规定时限全面公开，重大建设项目要公开批"
          "准、实施和竣工验收等关键环节信息。"),
    ("p", "（二）做好政策解读和回应关切。坚持政策文件与解读材料同步组织、同步审签、同步"
          "发布，解读材料应当通俗易懂，多采用图表图解、问答、短视频等形式，切实增强政策"
          "的可读性和传播力。对涉及本地区、本部门的热点舆情，要在规定时间内作出回应，不"
          "得推诿、拖延。"),
    ("p", "（三）规范依申请公开办理。严格按照法定程序和时限办理政府信息公开申请，做到件"
          "件有登记、件件有回复、件件有存档。对依法不予公开的信息，要说明理由并告知救济"
          "途径，减少因程序瑕疵引发的行政复议和行政诉讼案件。"),
    ("h", "三、加强平台建设，强化监督保障"),
    ("p", "（一）优化政务公开平台。以县政府门户网站为第一平台，整合政务新媒体、政务服务"
          "大厅公开专区和村（社区）公开栏等渠道，推动信息发布统一标准、统一口径。各乡镇"
          "、各部门要每季度开展一次网站和政务新媒体自查，及时清理过期失效信息和错链断链。"),
    ("p", "（二）加强培训和督查考核。县政务公开办每年至少组织两次全县政务公开业务培训，"
          "采取日常检查与季度通报相结合的方式开展督查。政务公开工作情况纳入年度绩效考核"
          "，对工作不力、造成不良影响的单位予以通报批评并责令限期整改。"),
    ("p", "请各乡镇、各部门于2022年4月15日前将本单位政务公开工作联系人名单报县政务公开"
          "办。执行中遇到的问题，请及时与县政务公开办联系。"),
]
NOTICE_SIGNATURE = "XX县人民政府办公室"
NOTICE_DATE = "2022年3月15日"
NOTICE_FOOTNOTE = "（此件公开发布）"


def write_notice_pdf(path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    font = "STSong-Light"  # built-in CID font: needs no font file, extracts cleanly
    pdfmetrics.registerFont(UnicodeCIDFont(font))

    page_w, page_h = A4
    # Margins roughly follow GB/T 9704 (top 37mm, left 28mm, right 26mm).
    left, right, top, bottom = 79.0, 74.0, 105.0, 99.0
    text_w = page_w - left - right
    size = 15.5
    leading = 29.0
    indent = 2 * size  # first-line indent of two full-width characters

    # Characters that must not start a line (simple 禁则 handling: they hang).
    no_line_start = set("，。、；：？！）》」』”’")

    def wrap(text: str, first_indent: float) -> list[tuple[float, str]]:
        """Greedy wrap by real glyph width; returns (x_offset, line) pairs."""
        lines: list[tuple[float, str]] = []
        cur, cur_w, offset = "", 0.0, first_indent
        for ch in text:
            w = pdfmetrics.stringWidth(ch, font, size)
            if cur and cur_w + w > text_w - offset and ch not in no_line_start:
                lines.append((offset, cur))
                cur, cur_w, offset = "", 0.0, 0.0
            cur += ch
            cur_w += w
        if cur:
            lines.append((offset, cur))
        return lines

    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.setTitle(NOTICE_TITLE)
    c.setAuthor(NOTICE_SIGNATURE)
    c.setSubject(NOTICE_DOC_NO)

    page_no = 0
    y = 0.0

    def start_page() -> None:
        nonlocal page_no, y
        page_no += 1
        # Running header on every page.
        c.setFont(font, 12)
        c.setFillColorRGB(0.75, 0, 0)
        c.drawCentredString(page_w / 2, page_h - 60, NOTICE_ISSUER_HEADER)
        c.setStrokeColorRGB(0.75, 0, 0)
        c.setLineWidth(1)
        c.line(left, page_h - 68, page_w - right, page_h - 68)
        c.setFillColorRGB(0, 0, 0)
        c.setFont(font, size)
        y = page_h - top

    def end_page() -> None:
        # Page number footer on every page: "— 1 —" (drawn last, so the
        # content-stream order is header, body, footer).
        c.setFont(font, 14)
        c.drawCentredString(page_w / 2, 55, f"— {page_no} —")
        c.showPage()

    def emit(x: float, text: str, *, centred: bool = False, right_edge: float | None = None,
             font_size: float = size, line_h: float = leading) -> None:
        nonlocal y
        if y < bottom:
            end_page()
            start_page()
        c.setFont(font, font_size)
        if centred:
            c.drawCentredString(page_w / 2, y, text)
        elif right_edge is not None:
            c.drawRightString(right_edge, y, text)
        else:
            c.drawString(x, y, text)
        y -= line_h

    start_page()
    # Document number (centred) and title block on page one.
    emit(0, NOTICE_DOC_NO, centred=True, line_h=leading * 1.6)
    emit(0, NOTICE_TITLE, centred=True, font_size=21, line_h=leading * 1.6)
    emit(left, NOTICE_ADDRESSEE)
    for _kind, para in NOTICE_BODY:
        for off, line in wrap(para, indent):
            emit(left + off, line)
    y -= leading  # blank line before the signature block
    sig_right = page_w - right - 2 * size
    emit(0, NOTICE_SIGNATURE, right_edge=sig_right)
    emit(0, NOTICE_DATE, right_edge=sig_right - size)
    y -= leading * 0.5
    emit(left + indent, NOTICE_FOOTNOTE)
    end_page()
    c.save()


# --------------------------------------------------------------------------
# 3. DOCX CPPCC proposal
# --------------------------------------------------------------------------

DOCX_TITLE = "关于加快发展社区嵌入式养老服务的提案"
DOCX_META = [
    ("提案人", "王某某（市政协委员，XX医科大学护理学院副教授）"),
    ("类别", "社会事业"),
    ("日期", "2022年1月12日"),
]
DOCX_SURVEY = (
    "截至2021年底，我市60周岁以上户籍老年人口达58.6万人，占户籍总人口的21.3%，"
    "其中80周岁以上高龄老人9.2万人，失能、半失能老人约3.1万人。课题组先后走访了"
    "城区4个街道、12个社区的养老服务站点，发放问卷1200份，收回有效问卷1086份。调查"
    "显示，超过九成的老年人希望在熟悉的社区和家庭环境中养老，对助餐、助浴、康复护理"
    "和短期托养服务的需求最为集中，而现有社区养老服务设施的使用率仅为43%左右。"
)
DOCX_ANALYSIS = (
    "社区养老服务“叫好不叫座”的问题比较突出，主要表现在三个方面：一是设施布局不均衡，"
    "老城区用房紧张，新建小区配建的养老服务用房移交不到位，部分站点设在二楼以上且未"
    "加装电梯，老年人出行不便；二是服务供给单一，多数站点以文化娱乐活动为主，专业的"
    "康复护理、认知症照护等服务能力不足，与老年人的刚性需求存在错位；三是运营可持续"
    "性差，站点主要依靠政府补贴维持，引入的社会力量规模小、盈利难，护理人员流动性大、"
    "持证上岗率不足五成。"
)
DOCX_SUGGESTIONS = [
    "1. 统筹规划嵌入式养老设施布局。将社区嵌入式养老服务设施纳入国土空间规划和城市更新"
    "计划，严格落实新建住宅小区按每百户不少于20平方米的标准配建养老服务用房，并建立"
    "规划、建设、验收、移交全过程监管机制；老城区可通过购置、置换、租赁闲置房产等方式"
    "补齐短板。",
    "2. 推动医养康养融合发展。支持社区卫生服务中心与养老服务站点毗邻建设或一体化运营，"
    "开展家庭医生签约、慢病管理和康复指导服务；探索设立家庭养老照护床位，将符合条件的"
    "护理服务项目按规定纳入长期护理保险支付范围。",
    "3. 完善运营扶持和人才保障政策。对连锁化、品牌化运营的社会力量给予建设补贴和运营"
    "补贴，推行“公建民营”“以收定补”等模式；加大养老护理员职业技能培训力度，落实入职"
    "奖补和岗位津贴，畅通职业发展通道，稳定专业护理队伍。",
]
DOCX_CLOSING = (
    "同时建议由市民政局牵头，会同发展改革、自然资源和规划、卫生健康、医保等部门建立"
    "联席会议制度，一是定期会商设施建设和用房移交中的难点问题，二是开展服务质量第三方"
    "评估并向社会公开结果，三是每年向市政协通报社区嵌入式养老服务发展情况，形成推进"
    "工作的合力。"
)


def write_proposal_docx(path: Path) -> None:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    # Use an East Asian font for Chinese text in the Normal style.
    normal = doc.styles["Normal"]
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")

    doc.add_paragraph(DOCX_TITLE, style="Title")

    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for key, value in DOCX_META:
        row = table.add_row()
        row.cells[0].text = key
        row.cells[1].text = value

    doc.add_paragraph("提案内容", style="Heading 1")

    def labelled(label: str, text: str) -> None:
        p = doc.add_paragraph()
        run = p.add_run(label)
        run.bold = True
        p.add_run(text)

    labelled("调研情况：", DOCX_SURVEY)
    labelled("问题分析：", DOCX_ANALYSIS)
    labelled("具体建议：", "")
    for item in DOCX_SUGGESTIONS:
        doc.add_paragraph(item)
    doc.add_paragraph(DOCX_CLOSING)

    props = doc.core_properties
    props.title = DOCX_TITLE
    props.author = "王某某"
    props.last_modified_by = "王某某"
    props.created = FIXED_DATETIME
    props.modified = FIXED_DATETIME
    props.revision = 1

    doc.save(str(path))
    normalize_zip(path)


# --------------------------------------------------------------------------
# 4. GBK-encoded city CPPCC work report with PDF-paste artefacts
# --------------------------------------------------------------------------

REPORT_HEAD = [
    "政协XX市委员会常务委员会工作报告",
    "——2023年1月10日在政协XX市第五届委员会第三次会议上",
    "XX市政协主席  李某某",
    "",
    "各位委员：",
    "现在，我代表政协XX市第五届委员会常务委员会，向大会报告工作，请予审议。",
    "",
    "一、2022年工作回顾",
    "2022年是党的二十大胜利召开之年，也是本届政协承上启下的关键之年。在中共XX市委的"
    "坚强领导下，市政协常委会坚持以习近平新时代中国特色社会主义思想为指导，紧扣全市"
    "高质量发展大局，聚焦群众急难愁盼问题，认真履行政治协商、民主监督、参政议政职能，"
    "各项工作取得新的进展。",
    "（一）坚持政治引领，筑牢团结奋斗的共同思想基础",
    "始终把学习贯彻党的二十大精神作为首要政治任务，健全党组理论学习中心组学习、常委会"
    "集体学习和委员读书活动相结合的学习制度。一是抓好集中学习，全年召开党组理论学习中"
    "心组学习会12次、常委会专题学习会6次，邀请专家学者作专题辅导4场；二是抓好委员培训，"
    "分两期举办委员履职能力培训班，参训委员320余人次，实现新任委员培训全覆盖；三是抓好"
    "成果转化，组织委员撰写理论研讨文章46篇，其中9篇在省级以上报刊发表。",
    "（二）聚焦中心大局，提升协商议政的质量水平",
]

# This paragraph is hard-wrapped at 38 characters, as if pasted from a PDF,
# with a stray page-number line in the middle.
REPORT_WRAPPED_1 = (
    "围绕市委年度重点工作确定协商议题，全年组织全体会议协商1次、常委会议专题协商4次、"
    "对口协商和界别协商11次。一是围绕先进制造业集群培育开展专题调研，组织委员深入32家"
    "规上企业座谈走访，形成的调研报告提出的“链长制”工作建议被市委、市政府采纳；二是围绕"
    "县域经济高质量发展开展协商，提出完善县域产业园区考核评价、推动飞地经济合作等建议"
    "18条；三是围绕城市更新和老旧小区改造开展视察，推动解决加装电梯、停车难等具体问题"
    "27个。常委会全年报送社情民意信息216篇，被全国政协、省政协采用23篇，市领导批示41"
    "篇次。"
)

# The second pasted paragraph contains a word broken across two lines
# ("政协工作报" / "告").
REPORT_WRAPPED_2_BEFORE = (
    "坚持把民主监督作为推动决策部署落地见效的重要抓手，聚焦优化营商环境、生态环境保护"
    "、食品药品安全等领域开展监督性视察8次。选聘42名委员担任市直部门特约监督员，参与"
    "行风评议和明察暗访。在提案办理协商中，将办理结果纳入年度政协工作报"
)
REPORT_WRAPPED_2_AFTER = (
    "告并接受委员评议，推动承办单位由“重答复”向“重落实”转变，全年提案办复率达到100%，"
    "委员满意和基本满意率达到98.6%。"
)

REPORT_TAIL = [
    "（四）坚持人民至上，用心用情服务保障民生",
    "深入开展“委员进社区、履职为民生”活动，组织委员在全市设立委员工作室56个，开展"
    "政策宣讲、法律咨询、义诊送医等活动230余场次，惠及群众2.3万人次。一是助力乡村振兴，"
    "组织农业界、经济界委员结对帮扶15个行政村，协调落实产业发展资金1800余万元；二是"
    "关注“一老一小”，就普惠托育、社区养老等问题开展民主协商，推动新增普惠性托位1200个；"
    "三是关心困难群体，发动委员捐款捐物折合人民币360余万元，资助困难学生480名。",
    "（五）加强自身建设，不断提高履职能力和水平",
    "坚持以党的建设带动政协机关建设和委员队伍建设，修订完善政协全体会议、常委会议、"
    "主席会议议事规则和委员履职考核办法，建立委员履职档案，实行年度履职积分通报。"
    "加强专门委员会建设，推动专委会与界别、委员工作室联动履职，形成了工作合力。"
    "机关建设方面，一是深化模范机关创建，开展“一支部一品牌”活动，机关党支部被评为市直"
    "机关先进基层党组织；二是加强干部队伍建设，选派8名年轻干部到基层一线和重点项目"
    "挂职锻炼；三是严格落实中央八项规定精神，持续整治形式主义、官僚主义，全年会议、"
    "文件数量分别比上年减少15%和12%。",
    "同时也要看到，我们的工作还存在一些不足：协商议题的精准性和协商成果的转化运用有待"
    "进一步提高，界别作用发挥还不够充分，少数委员履职的积极性和主动性不够强，联系群众"
    "的经常性工作机制还需完善。对此，我们将认真研究，切实加以改进。",
    "",
    "二、2022年工作的主要体会",
    "一年来的实践使我们深刻体会到：必须坚持党的全面领导，确保政协工作始终沿着正确政治"
    "方向前进；必须坚持服务中心大局，找准政协工作与全市发展的结合点和着力点；必须坚持"
    "以人民为中心，把协商议政的落脚点放在增进民生福祉上；必须坚持守正创新，以制度建设"
    "推动协商民主广泛多层制度化发展。",
    "这些体会，是我们做好新时代政协工作的重要遵循。实践证明，只有把党的领导贯穿政协工作"
    "全过程各方面，把协商民主贯穿履行职能全过程，把团结和民主两大主题落实到具体工作"
    "之中，才能更好地发挥专门协商机构作用，把人民政协制度优势转化为国家治理效能；"
    "只有坚持人民政协为人民，在履职中察民情、聚民智、惠民生，才能真正做到协商于民、"
    "协商为民。",
    "",
    "三、2023年工作安排",
    "2023年是全面贯彻落实党的二十大精神的开局之年。市政协工作的总体要求是：坚持以习"
    "近平新时代中国特色社会主义思想为指导，全面贯彻党的二十大精神，坚持团结和民主两大"
    "主题，为奋力谱写XX高质量发展新篇章贡献智慧和力量。",
    "（一）持续深化理论武装。一是把学习宣传贯彻党的二十大精神引向深入，二是办好委员"
    "读书活动和履职能力培训，三是加强政协理论研究，不断增强履职本领。",
    "（二）聚焦发展建言资政。围绕产业转型升级、科技创新平台建设、区域协同发展等重大问"
    "题开展专题协商，力争形成一批有分量、可操作的调研成果，为市委、市政府科学决策提供"
    "参考。",
    "（三）着力增进民生福祉。持续开展委员联系群众活动，围绕教育、医疗、养老、就业等民"
    "生领域开展民主监督，推动解决一批群众反映强烈的实际问题。",
    "（四）广泛凝聚人心共识。坚持大团结大联合，加强同各民主党派、工商联和无党派人士的"
    "团结合作，做好民族宗教界、港澳台侨界和新的社会阶层人士的工作。一是办好“委员讲堂”"
    "和界别协商座谈会，二是用好政协新闻宣传平台，三是在协商中增进共识、在服务中凝聚"
    "人心，不断巩固共同团结奋斗的思想政治基础。",
    "（五）全面加强自身建设。坚持把党的政治建设摆在首位，推进政协党的组织和工作全覆盖；"
    "完善委员履职评价体系，引导委员懂政协、会协商、善议政，守纪律、讲规矩、重品行；"
    "加强专门委员会和机关建设，提高服务保障水平，推动政协工作提质增效。",
    "",
    "各位委员，新的一年，让我们更加紧密地团结在以习近平同志为核心的党中央周围，在中共"
    "XX市委的坚强领导下，凝心聚力、担当作为，为全面建设社会主义现代化XX作出新的更大"
    "贡献！",
]


def build_report_text() -> str:
    lines: list[str] = list(REPORT_HEAD)
    wrapped1 = hard_wrap(REPORT_WRAPPED_1, 38)
    lines.extend(wrapped1[:3])
    lines.append("3")  # stray page number left over from the PDF
    lines.extend(wrapped1[3:])
    lines.append("（三）立足民主监督，助推重大决策部署落地见效")
    lines.extend(hard_wrap(REPORT_WRAPPED_2_BEFORE, 38))
    # The last line of BEFORE ends with "报"; AFTER starts with "告".
    lines.extend(hard_wrap(REPORT_WRAPPED_2_AFTER, 38))
    lines.extend(REPORT_TAIL)
    return "\r\n".join(lines) + "\r\n"  # Windows line endings, as legacy files have


def write_report_gbk(path: Path) -> None:
    text = build_report_text()
    path.write_bytes(text.encode("gbk"))  # raises if any char is outside GBK


# --------------------------------------------------------------------------
# 5. CSV export of a proposal system
# --------------------------------------------------------------------------

CSV_ROWS: list[dict[str, str]] = [
    {
        "编号": "2022-001",
        "案由": "关于推进中小学课后服务提质增效的提案",
        "提案人": "陈某某",
        "类别": "教育",
        "提交时间": "2022-01-08",
        "内容": (
            "调研情况：我市自2021年秋季学期起全面推行义务教育阶段课后服务，目前全市312所"
            "中小学已实现课后服务全覆盖，参加课后服务的学生约占在校生总数的86%。调研中发现，"
            "多数学校课后服务仍以作业辅导和看护为主，学生和家长对课程丰富程度的满意度不高。"
            "问题分析：一是师资力量不足，教师日均在校时间延长两小时以上，工作负担明显加重；"
            "二是课程资源单一，体育、艺术、科技类特色课程供给偏少，农村学校尤为突出；三是"
            "经费保障机制尚不健全，部分学校引进校外专业力量缺乏稳定资金来源。具体建议：建立"
            "“财政补助+服务性收费”相结合的经费保障机制，将课后服务工作量纳入教师绩效工资"
            "分配；统筹少年宫、科技馆、体育场馆等校外资源，建立经审核的第三方机构和志愿者"
            "资源库；实行弹性上下班制度，合理安排教师轮休，切实减轻教师负担。"
        ),
    },
    {
        "编号": "2022-002",
        "案由": "关于加强农村生活污水治理的提案",
        "提案人": "刘某某",
        "类别": "生态环境",
        "提交时间": "2022-01-09",
        "内容": (
            "调研情况：近年来，我市持续推进农村人居环境整治，农村卫生厕所普及率达到92%，"
            "但农村生活污水治理率仅为38%左右，明显滞后于垃圾治理和厕所革命进度。课题组"
            "实地走访了6个乡镇、24个行政村，发现已建成的污水处理设施中约三成运行不正常。"
            "问题分析：一是规划建设不够科学，部分设施选址和规模脱离村庄实际，进水量不足，"
            "“晒太阳”现象时有发生；二是管护机制不健全，运维责任主体不明确，运维经费缺乏"
            "稳定来源；三是群众参与度不高，部分农户接管意愿不强，污水收集管网入户率偏低。"
            "具体建议：因地制宜选择治理模式，靠近城镇的村庄优先纳入城镇污水管网，居住分散"
            "的村庄采用小型化、生态化处理方式；建立县级统筹、乡镇监管、村级参与、专业公司"
            "运维的长效管护机制，将运维经费纳入县级财政预算；把污水治理与改厕、庭院整治"
            "统筹推进，通过村规民约和积分制引导农户主动接管。"
        ),
    },
    {
        "编号": "2022-003",
        "案由": "关于优化城区公交线网提升公交出行分担率的提案",
        "提案人": "赵某某",
        "类别": "城乡建设",
        "提交时间": "2022-01-10",
        "内容": (
            "调研情况：我市中心城区现有公交线路86条，线网总长度1460公里，但公交出行分担率"
            "仅为19.5%，低于同类城市平均水平。问卷调查显示，候车时间长、换乘不便、准点率低"
            "是市民不选择公交出行的主要原因。问题分析：线网布局与城市发展不同步，新建城区和"
            "产业园区覆盖不足，而老城区主干道线路重复系数偏高；公交专用道不成网，高峰时段"
            "车辆运行速度慢；公交站点与地铁站、大型居住区接驳不畅。具体建议：1.开展公交线网"
            "整体优化，撤并重复线路，增开园区通勤专线和社区微循环线路；2.加快公交专用道成网"
            "建设，完善电子警察等执法设施，提高高峰时段公交运行速度；3.推进公交与轨道交通"
            "一体化衔接，优化接驳站点设置和换乘优惠政策，提升公交出行吸引力。"
        ),
    },
    {
        "编号": "2022-004",
        "案由": "关于支持专精特新中小企业融资发展的提案",
        "提案人": "孙某某",
        "类别": "经济",
        "提交时间": "2022-01-11",
        "内容": (
            "调研情况：截至2021年底，我市共有国家级专精特新“小巨人”企业17家、省级专精特新"
            "中小企业146家。调研中，近七成企业反映融资难、融资贵仍是制约发展的突出问题。"
            "问题分析：专精特新企业普遍轻资产、重研发，缺少传统抵押物，银行信贷产品与企业"
            "需求匹配度不高；知识产权质押融资评估难、处置难，规模偏小；政府性融资担保机构"
            "资本金不足，担保放大倍数偏低；企业利用多层次资本市场直接融资的意识和能力不强。"
            "具体建议：引导银行机构开发“专精特新贷”等专属信贷产品，扩大信用贷款和中长期"
            "贷款投放；建立知识产权质押融资风险补偿资金池，完善评估、登记、处置服务体系；"
            "充实政府性融资担保机构资本金，降低担保费率；建立重点企业上市后备库，实行"
            "“一企一策”分类培育辅导。"
        ),
    },
    {
        "编号": "2022-005",
        "案由": "关于加快发展社区嵌入式养老服务的提案",
        "提案人": "王某某",
        "类别": "社会事业",
        "提交时间": "2022-01-12",
        "内容": (
            "调研情况：截至2021年底，我市60周岁以上户籍老年人口达58.6万人，占户籍总人口的"
            "21.3%，失能、半失能老人约3.1万人。超过九成的老年人希望在熟悉的社区和家庭环境中"
            "养老，对助餐、助浴、康复护理和短期托养服务的需求最为集中，而现有社区养老服务设施"
            "的使用率仅为43%左右。问题分析：一是设施布局不均衡，老城区用房紧张，新建小区配建"
            "的养老服务用房移交不到位；二是服务供给单一，专业的康复护理、认知症照护等服务能力"
            "不足；三是运营可持续性差，站点主要依靠政府补贴维持，护理人员流动性大。具体建议："
            "将社区嵌入式养老服务设施纳入国土空间规划和城市更新计划，落实新建住宅小区养老服务"
            "用房配建标准；推动社区卫生服务中心与养老服务站点一体化运营，探索设立家庭养老照护"
            "床位；对连锁化、品牌化运营的社会力量给予建设和运营补贴，落实养老护理员入职奖补和"
            "岗位津贴。"
        ),
    },
]


def build_csv_rows() -> list[dict[str, str]]:
    rows = [dict(r) for r in CSV_ROWS]
    # Row 006 is a resubmission of row 002 by another member: the same text with
    # a few words changed and one sentence added (for duplicate detection).
    base = rows[1]
    body = base["内容"]
    replacements = [
        ("近年来，我市持续推进", "近年来，全市持续推进"),
        ("课题组实地走访了6个乡镇、24个行政村", "提案人实地走访了6个乡镇、24个行政村"),
        ("运维经费缺乏稳定来源", "运维资金缺乏稳定来源"),
        ("通过村规民约和积分制引导农户主动接管", "通过村规民约和积分制激励农户主动接管"),
    ]
    for old, new in replacements:
        assert old in body, old
        body = body.replace(old, new)
    added = "同时，建议将农村生活污水治理成效纳入乡镇年度目标考核，定期通报治理进度。"
    body = body + added
    rows.append(
        {
            "编号": "2022-006",
            "案由": "关于加快推进农村生活污水治理的提案",
            "提案人": "周某某",
            "类别": "生态环境",
            "提交时间": "2022-01-15",
            "内容": body,
        }
    )
    return rows


def write_csv(path: Path) -> None:
    fields = ["编号", "案由", "提案人", "类别", "提交时间", "内容"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    for row in build_csv_rows():
        writer.writerow(row)
    path.write_bytes(buf.getvalue().encode("utf-8"))


# --------------------------------------------------------------------------
# 6. Markdown policy (办法) with 章/条 structure
# --------------------------------------------------------------------------

MARKDOWN_POLICY = """\
# 某市人民政府关于印发《某市营商环境优化办法》的通知

某政发〔2022〕8号

各区人民政府，市政府各部门、各直属机构：

现将《某市营商环境优化办法》印发给你们，请认真贯彻执行。

某市人民政府

2022年5月20日

## 某市营商环境优化办法

### 第一章 总则

第一条 为了持续优化营商环境，激发市场主体活力和社会创造力，推动经济高质量发展，根据《优化营商环境条例》等法律法规，结合本市实际，制定本办法。

第二条 本办法适用于本市行政区域内的优化营商环境工作。本办法所称营商环境，是指企业等市场主体在市场经济活动中所涉及的体制机制性因素和条件。

第三条 优化营商环境工作应当坚持市场化、法治化、国际化原则，以市场主体需求为导向，以深刻转变政府职能为核心，对标先进地区，营造稳定、公平、透明、可预期的发展环境。

市人民政府负责统筹推进全市优化营商环境工作，建立优化营商环境工作协调机制，研究解决重大问题。市发展改革部门是本市优化营商环境工作的主管部门，负责组织、指导、协调和督促优化营商环境日常工作。各区人民政府负责本行政区域内的优化营商环境工作，其他有关部门按照各自职责做好相关工作。

### 第二章 政务服务

第四条 市、区人民政府应当推进政务服务标准化、规范化、便利化建设，依法编制并公布政务服务事项清单，实行清单之外无审批。

第五条 政务服务机构应当推行以下便利化措施：

（一）企业开办全流程一网通办，营业执照、公章刻制、发票申领、社保登记等事项一日办结；

（二）对高频政务服务事项实行跨区域通办，申请人可以在本市任一政务服务中心提交申请；

（三）推行告知承诺制，申请人书面承诺符合条件的，行政机关可以直接作出审批决定；

（四）对已经取得的电子证照，不得要求申请人重复提交纸质材料；

（五）为老年人、残疾人等群体保留线下办理渠道，提供预约、帮办代办等服务。

第六条 有关部门应当压减工程建设项目审批时间，社会投资一般工业项目从取得用地到获得施工许可的审批时间不超过20个工作日。对社会投资的小型低风险项目，实行一次申报、一口受理、并联审批，全流程审批时间不超过10个工作日。供水、供电、燃气等公用企业应当公开服务标准、资费标准和办理时限，不得强制市场主体接受指定的设计、施工或者材料供应服务。

### 第三章 监管执法与权益保护

第七条 有关部门应当推行“双随机、一公开”监管，对新技术、新产业、新业态、新模式实行包容审慎监管，依法制定并公布轻微违法行为不予行政处罚清单。

第八条 行政机关实施行政检查，应当遵守下列规定：

（一）同一部门对同一市场主体的多项检查事项，原则上合并一次进行；

（二）除直接涉及公共安全和人民群众生命健康等特殊行业、重点领域外，不得开展无计划的检查；

（三）检查结束后应当及时告知检查结果，不得干扰市场主体正常生产经营活动。

第九条 市人民政府设立营商环境投诉举报平台，统一受理市场主体的投诉举报。有关部门应当自受理之日起7个工作日内作出答复，情况复杂的可以延长至15个工作日。任何单位和个人不得对投诉举报人进行打击报复。

国家机关、事业单位不得违约拖欠市场主体的货物、工程、服务等账款，大型企业不得利用优势地位拖欠中小企业账款。违反前款规定的，由有关部门依法责令改正，并纳入信用记录。

第十条 本办法自2022年7月1日起施行。
"""


def write_markdown(path: Path) -> None:
    path.write_bytes(MARKDOWN_POLICY.encode("utf-8"))


# --------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------

README = """\
# Sample corpora

Small, mixed-format set of Chinese official documents used by the README demo
(`jianyan` ingests this directory recursively) and by smoke tests. Everything
except the seed document is **fictional** text written for this project;
place and person names are anonymised with "XX"/"某".

Regenerate with `python scripts/make_sample_corpora.py` (deterministic: a
re-run produces byte-identical files; the seed copy is refreshed only when
`../shared/seed/` exists next to the repository).

| File | Format / encoding | Document type | Structure it exercises |
|------|-------------------|---------------|------------------------|
| `seed/2021年县政协工作总结.txt` | plain text, UTF-8 | 工作总结 (county CPPCC annual summary) | The user's own seed document, byte-exact copy. Sections 一、二、…, inline 一是…二是…三是 enumerations. |
| `policy/关于加强政务信息公开工作的通知.pdf` | PDF (3 pages, real text layer, STSong-Light CID font) | 通知 (county government notice) | Running header `XX县人民政府办公室文件` and footer `— N —` on every page (boilerplate to strip), document number `X政办发〔2022〕15号`, addressee line, 一、二、三、 headings with （一）（二） items, paragraphs wrapped mid-sentence across lines and pages with a 2-character first-line indent, signature block (issuing body + date `2022年3月15日`). |
| `policy/关于印发某市营商环境优化办法的通知.md` | Markdown, UTF-8 | 通知 wrapping a 办法 (regulation) | Markdown headings; 第一章…第三章 chapters, 第一条…第十条 articles, articles with （一）（二） items. |
| `proposals/关于加快发展社区嵌入式养老服务的提案.docx` | DOCX | 提案 (CPPCC proposal) | `Title`-styled title, metadata table (提案人 / 类别 / 日期), a `Heading 1` paragraph, labelled paragraphs 调研情况： / 问题分析： / 具体建议：, suggestion items 1. 2. 3. as separate paragraphs, inline 一是…二是…三是. |
| `proposals/提案导出_2022.csv` | CSV, UTF-8 (no BOM), CRLF | 6 提案 rows exported from a proposal system | Columns `编号,案由,提案人,类别,提交时间,内容`; one-line bodies in 调研情况：…问题分析：…具体建议：… form; row 2022-003 has inline `1.…2.…3.` items; **rows 2022-002 and 2022-006 are near-duplicates** (006 is a resubmission: same text with a few words changed and one sentence appended); row 2022-005 is a condensed version of the DOCX proposal. |
| `reports/2022年市政协工作报告.txt` | plain text, **GBK**, CRLF | 工作报告 (city CPPCC standing committee report) | Title line, `——2023年1月10日在政协XX市第五届委员会第三次会议上` date line, sections 一、二、三、 with （一）…（五） subsections, 一是…二是…三是 enumerations; two paragraphs hard-wrapped at 38 characters as if pasted from a PDF, a stray page-number line `3`, and a word broken across lines (`政协工作报` / `告`). |

## Ingesting the CSV

The CSV needs a column mapping:

```
--map id=编号,title=案由,author=提案人,category=类别,date=提交时间,body=内容 --type proposal
```
"""


def write_readme(path: Path) -> None:
    path.write_bytes(README.encode("utf-8"))


# --------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "corpora",
                        help="output directory (default: <repo>/corpora)")
    args = parser.parse_args(argv)
    out: Path = args.out
    for sub in ("seed", "policy", "proposals", "reports"):
        (out / sub).mkdir(parents=True, exist_ok=True)

    written = [
        copy_seed(out),
    ]
    targets = [
        (write_notice_pdf, out / "policy" / "关于加强政务信息公开工作的通知.pdf"),
        (write_markdown, out / "policy" / "关于印发某市营商环境优化办法的通知.md"),
        (write_proposal_docx, out / "proposals" / "关于加快发展社区嵌入式养老服务的提案.docx"),
        (write_csv, out / "proposals" / "提案导出_2022.csv"),
        (write_report_gbk, out / "reports" / "2022年市政协工作报告.txt"),
        (write_readme, out / "README.md"),
    ]
    for fn, path in targets:
        fn(path)
        written.append(path)
    for path in written:
        if path is not None:
            print(f"{path.stat().st_size:8d}  {path.relative_to(out.parent) if out.parent in path.parents else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
