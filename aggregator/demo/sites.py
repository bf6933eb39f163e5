"""Sample sites shaped like the real ones (docs/sites.md), for tests, `xxgk demo` and bench.

A fictional university, 东湖科技大学, publishes on:
- `/portal/`  its portal, 博达 VSB family A: `li#line_u…` list, pb_sys pager
  numbered backwards, a pinned (置顶) old item, a same-shape sidebar, titles
  cut with "..." (with and without a `title` attribute), a link-type entry to
  mp.weixin.qq.com, a `content.jsp` twin, detail pages with byline counters,
  `#vsb_content_2 .v_news_content` and extensionless `download.jsp` attachments;
- `/zsb/`     本科招生网, VSB family B: legacy `table.winstyle…` rows with filler
  rows and "YYYY/MM/DD&nbsp;" dates, `a.Next` pager;
- `/yjsy/`    研究生院, a plain list with `[MM-DD]` dates (no year), a pinned item,
  two articles with the same title, details that say "请下载附件查阅";
- `/cgzx/`    采购与招投标管理中心, GBK pages with no charset in the header,
  `h4` titles cut without a `title` attribute, announcements of every type;
- `/ccgp/`    中国政府采购网 channel list `ul.c_list_bid` with a JS `Pager`,
  detail pages with 公告概要 tables, `code-…` fields and `ul.fjxx` attachments;
- `/xxgk/`    信息公开网 on TRS WCM: `ul.list` with "[YYYY-MM-DD]", `createPageHTML`
  pager, `index_{n}.html`, metas and `.TRS_Editor`, `P0….pdf` attachments;
- `/jwc/`     教务处 on 苏迪 WebPlus: `.list_item`, `.Article_PublishDate`,
  `/{YYYY}/{MMDD}/c{col}a{id}/page.htm` articles, `a.next` pager;
- `/waf/`     a 瑞数 `$_ts` firewall shell (HTTP 412).

Every site is a function of a list of `SamplePost`s, so a test can add posts,
change one, or redesign a page, and serve the result again.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from aggregator.demo.attachments import with_attachments
from aggregator.demo.files import rss_feed
from aggregator.demo.server import Resource, html

SCHOOL = "东湖科技大学"
OWNER = 1383475626  # VSB owner number: links counters and attachments


@dataclass(slots=True)
class SamplePost:
    news_id: int
    title: str
    published: datetime
    paragraphs: list[str]
    department: str = "党委宣传部"
    attachments: list[str] = field(default_factory=list)
    pinned: bool = False
    external: str | None = None  # a link-type entry pointing off-site
    title_attr: bool = True
    twin: bool = False  # listed as content.jsp?…wbnewsid= instead of info/…htm
    extra_html: str = ""


def esc(text: str) -> str:
    return _html.escape(text, quote=True)


def cut(title: str, n: int = 22) -> str:
    return title if len(title) <= n else title[:n] + "..."


# -- content -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NewsKind:
    """One kind of portal post: its title, the months it is published in (None: any), who
    publishes it and what its body says ({s} the school, {y} the year, {m}/{d} the date)."""

    title: str
    months: frozenset[int] | None
    department: str
    body: tuple[str, ...]


def _kind(title: str, months: str | None, department: str, *body: str) -> NewsKind:
    return NewsKind(title, frozenset(int(m) for m in months.split(",")) if months else None, department, body)


_NEWS = [
    _kind("{s}召开{y}年党风廉政建设和反腐败工作会议", "2,3,4", "党委办公室",
          "{m}月{d}日，{s}召开{y}年党风廉政建设和反腐败工作会议，总结上一年度工作，部署本年度任务。",
          "校党委书记在讲话中要求，各级党组织要压紧压实管党治党政治责任，持之以恒正风肃纪。",
          "会上，各二级党组织负责人递交了党风廉政建设责任书。"),
    _kind("关于做好{y}年寒假学生离校及安全稳定工作的通知", "1,12", "学生工作部",
          "各学院（部）：{y}年寒假即将到来，为做好学生离校及假期安全稳定工作，现将有关事项通知如下。",
          "一、学生离校前须完成宿舍安全检查，关闭门窗水电，贵重物品随身携带。",
          "二、各学院要逐一掌握学生离校去向，寒假留校学生须向学院提出申请，统一安排住宿。"),
    _kind("{s}{y}年本科招生章程", "4,5,6", "招生办公室",
          "第一章 总则 第一条 为规范学校本科招生工作，根据《中华人民共和国高等教育法》和教育部有关规定，制定本章程。",
          "第二条 学校全称：{s}；办学层次：本科；学校地址：湖北省武汉市东湖新技术开发区。",
          "第三章 招生计划 学校分省分专业招生计划以各省级招生考试机构公布的为准。"),
    _kind("{s}与湖北省农业科学院签署战略合作协议", None, "科学技术发展院",
          "{m}月{d}日，{s}与湖北省农业科学院战略合作协议签约仪式在学校举行。",
          "根据协议，双方将在联合科研攻关、科技成果转化、人才联合培养等方面开展全方位合作。",
          "签约后，双方还就共建现代农业工程技术研究中心进行了座谈交流。"),
    _kind("关于公布{y}年度校级教学成果奖评审结果的通知", "3,4,5,6", "教务处",
          "经个人申报、学院推荐、专家评审和公示，学校决定授予“新工科背景下实践教学体系改革”等 24 项成果{y}年度校级教学成果奖。",
          "其中特等奖 2 项、一等奖 8 项、二等奖 14 项，获奖名单见附件。",
          "希望获奖教师再接再厉，进一步推广成果应用，推动学校人才培养质量持续提升。"),
    _kind("{s}举行{y}届毕业典礼暨学位授予仪式", "6", "党委宣传部",
          "{m}月{d}日上午，{s}{y}届毕业典礼暨学位授予仪式在体育馆隆重举行，6200 余名毕业生参加。",
          "校长作题为《向光而行》的讲话，勉励毕业生胸怀家国、脚踏实地。",
          "仪式上，校领导为毕业生代表拨穗并颁发学位证书。"),
    _kind("关于{y}年端午节放假安排的通知", "5", "党政办公室",
          "各学院（部）、各单位：根据国务院办公厅通知精神，结合学校实际，现将{y}年端午节放假安排通知如下。",
          "端午节放假 3 天，放假期间各单位要做好值班和安全保卫工作，遇有重大突发事件及时报告。",
          "节后正常上课，各学院要做好学生假期安全教育。"),
    _kind("{s}{y}年部门预算公开", "4,5,6,7", "财务处",
          "根据财政部和教育部关于部门预算公开的有关规定，现将{s}{y}年部门预算予以公开。",
          "{y}年学校收入预算总额 28.6 亿元，其中财政拨款收入 12.4 亿元、事业收入 9.8 亿元。",
          "预算公开表格见附件，包括收支总表、收入预算表、支出预算表和财政拨款支出预算表等。"),
    _kind("关于开展{y}年度教职工年度考核工作的通知", "11,12,1", "人事处",
          "根据《事业单位工作人员考核规定》，学校决定开展{y}年度教职工年度考核工作。",
          "考核对象为在编在岗教职工及人事代理人员，考核内容包括德、能、勤、绩、廉五个方面。",
          "请各单位于规定时间内将考核结果汇总表报送人事处。"),
    _kind("我校获批{y}年度国家自然科学基金项目52项", "8,9", "科学技术发展院",
          "近日，国家自然科学基金委员会公布{y}年度项目评审结果，我校获批各类项目 52 项，直接经费 2380 万元。",
          "其中面上项目 21 项、青年科学基金项目 29 项、优秀青年科学基金项目 2 项。",
          "获批项目数量与经费均创学校历史新高。"),
    _kind("关于拟任干部任前公示的公告", None, "党委组织部",
          "根据《党政领导干部选拔任用工作条例》，经学校党委研究，拟任以下同志为处级领导干部，现予以公示。",
          "公示期为五个工作日。公示期间，如对公示对象有意见，可通过来信、来电或来访等方式向党委组织部反映。",
          "联系电话：027-87651001。"),
    _kind("{s}第五届教职工代表大会第三次会议隆重开幕", "3,4", "校工会",
          "{m}月{d}日，{s}第五届教职工代表大会暨工会会员代表大会第三次会议开幕，268 名代表出席。",
          "大会听取并审议了学校工作报告、财务工作报告和提案工作报告。",
          "代表们围绕学校事业发展积极建言献策，共提交提案 46 件。"),
    _kind("关于组织申报{y}年度湖北省高等学校省级教学研究项目的通知", "3,4,5", "教务处",
          "根据湖北省教育厅通知要求，现组织申报{y}年度湖北省高等学校省级教学研究项目。",
          "申报项目须围绕新工科、新农科建设和课程思政等方向，每个项目主持人限报 1 项。",
          "请各学院于规定时间前将申报书及汇总表报送教务处教学研究科。"),
    _kind("{s}学术委员会{y}年度工作报告", "12,1", "学术委员会秘书处",
          "{y}年，学校学术委员会依据章程履行职责，共召开全体会议 6 次、专门委员会会议 14 次。",
          "审议学科专业设置、教学科研成果评定、学术不端行为调查等事项 38 项。",
          "现将学术委员会年度工作情况报告如下。"),
    _kind("关于{y}年国庆节放假安排的通知", "9", "党政办公室",
          "各学院（部）、各单位：根据国务院办公厅通知精神，现将{y}年国庆节放假安排通知如下。",
          "10 月 1 日至 7 日放假调休，共 7 天。放假期间各单位要安排好值班工作。",
          "请各学院提醒学生注意出行安全，按时返校。"),
    _kind("{s}{y}年信息公开工作年度报告", "10", "党政办公室",
          "根据《高等学校信息公开办法》，现公布{s}{y}年信息公开工作年度报告。",
          "报告包括概述、主动公开情况、依申请公开情况、对信息公开的评议情况、因信息公开工作受到举报复议诉讼情况、主要问题及改进措施等部分。",
          "本报告电子版可在学校信息公开网下载。"),
    _kind("图书馆关于开展{y}年读书月系列活动的通知", "4", "图书馆",
          "为迎接“4·23 世界读书日”，图书馆决定于四月开展{y}年读书月系列活动。",
          "活动包括经典诵读大赛、“我最喜爱的一本书”征文、数据库检索技能培训等。",
          "欢迎全校师生踊跃参加。"),
    _kind("关于做好{y}年全国大学英语四、六级考试报名工作的通知", "3,9", "教务处",
          "{y}年全国大学英语四、六级考试网上报名工作即将开始，现将有关事项通知如下。",
          "报名时间以考试报名系统公布为准，考生须登录报名网站完成资格确认和缴费。",
          "四级考试报名费 30 元/人，六级考试报名费 30 元/人。"),
    _kind("{s}召开{y}年本科教学工作会议", "2,3", "教务处",
          "{m}月{d}日，{s}召开{y}年本科教学工作会议，全面部署新学期本科教学工作。",
          "会议强调，要把人才培养作为学校的中心工作，持续推进一流专业和一流课程建设。",
          "各学院院长、教学副院长参加会议。"),
    _kind("关于对{y}年学生违纪处分决定的公示", None, "学生工作部",
          "根据《普通高等学校学生管理规定》和《{s}学生违纪处分办法》，学校拟对 3 名违纪学生给予处分，现予以公示。",
          "公示期为五个工作日。学生对处分决定有异议的，可在收到处分决定书之日起 10 日内向学生申诉处理委员会提出书面申诉。",
          "联系电话：027-87651120。"),
    _kind("{s}在第十八届“挑战杯”全国大学生课外学术科技作品竞赛中获佳绩", None, "科学技术发展院",
          "日前，第十八届“挑战杯”全国大学生课外学术科技作品竞赛终审决赛结果揭晓。",
          "我校学生团队作品获特等奖 1 项、一等奖 2 项、二等奖 3 项，学校获“优胜杯”。",
          "学校将继续完善大学生科技创新工作体系，支持学生参与科研实践。"),
    _kind("关于{y}年国家助学金获得者名单的公示", "10,11", "学生资助管理中心",
          "根据《学生资助资金管理办法》，经学生申请、学院评审，学校拟确定 5126 名学生获得{y}年国家助学金，现予以公示。",
          "公示期为五个工作日。如有异议，请在公示期内向学生资助管理中心反映。",
          "名单见附件。"),
    _kind("{s}举办“科学家精神”主题报告会", None, "党委宣传部",
          "{m}月{d}日，{s}“科学家精神”主题报告会在图书馆报告厅举行。",
          "中国科学院院士应邀作报告，讲述老一辈科学家胸怀祖国、服务人民的感人故事。",
          "600 余名师生现场聆听报告。"),
    _kind("关于印发《{s}科研经费管理办法（修订）》的通知", None, "科学技术发展院",
          "《{s}科研经费管理办法（修订）》已经学校校长办公会审议通过，现予以印发，请遵照执行。",
          "本办法自发布之日起施行，原办法同时废止。",
          "办法全文见附件。"),
    _kind("关于调整部分校区校园巴士运行时间的通知", None, "后勤保障部",
          "为方便师生往返各校区，经研究，自{m}月{d}日起调整部分校区校园巴士运行时间。",
          "工作日早高峰增开 7:20、7:40 两个班次，周末班次保持不变。",
          "详细时刻表见附件，如有疑问请致电后勤保障部 027-87651300。"),
    _kind("{s}召开{y}年暑期工作部署会", "6,7", "党政办公室",
          "{m}月{d}日，{s}召开{y}年暑期工作部署会，安排暑期校园建设、安全稳定和招生工作。",
          "会议要求各单位落实假期值班制度，确保暑期各项工作平稳有序。",
          "各单位主要负责人参加会议。"),
    _kind("{s}{y}年暑期“三下乡”社会实践活动启动", "6,7", "校团委",
          "{m}月{d}日，{s}{y}年暑期“三下乡”社会实践活动启动仪式举行，126 支团队出征。",
          "实践团队将深入乡村开展支教助学、科技支农、健康义诊等活动。",
          "校团委将全程跟踪指导，做好安全保障。"),
    _kind("关于做好{y}届毕业生离校工作的通知", "5,6", "学生工作部",
          "{y}届毕业生离校工作即将开始，为确保毕业生文明有序离校，现将有关事项通知如下。",
          "毕业生须在规定时间内完成图书归还、宿舍退宿和财务结算等离校手续。",
          "各学院要做好毕业生档案转递和就业派遣工作。"),
    _kind("{s}召开{y}年安全稳定工作会议", None, "保卫处",
          "{m}月{d}日，{s}召开{y}年安全稳定工作会议，分析当前安全形势，部署重点工作。",
          "会议要求，要抓好实验室安全、消防安全和校园交通安全。",
          "各单位安全工作负责人参加会议。"),
    _kind("{s}新增 3 个国家级一流本科专业建设点", "5,6", "教务处",
          "近日，教育部公布{y}年度国家级和省级一流本科专业建设点名单，{s}新增 3 个国家级一流本科专业建设点。",
          "至此，学校国家级一流本科专业建设点达到 28 个。",
          "学校将以一流专业建设为牵引，持续提升本科人才培养质量。"),
    _kind("关于开展{y}年实验室安全专项检查的通知", None, "实验室与设备管理处",
          "为消除实验室安全隐患，学校决定开展{y}年实验室安全专项检查。",
          "检查内容包括危险化学品管理、特种设备使用、消防设施和安全教育培训落实情况。",
          "各学院须先行自查，并于规定时间前提交自查报告。"),
    _kind("关于{y}年夏季学期教学安排的通知", "6,7", "教务处",
          "根据学校校历，{y}年夏季学期自 7 月 7 日起，为期三周，主要安排实习实训、创新创业和国际暑期课程。",
          "各学院须于规定时间前在教务系统中完成课程安排，学生按培养方案选课。",
          "夏季学期课程成绩计入学生成绩档案。"),
    _kind("{s}获批{y}年度国家社会科学基金项目18项", "6,7", "社会科学处",
          "全国哲学社会科学工作办公室近日公布{y}年度国家社会科学基金项目立项名单，{s}获批 18 项。",
          "其中重点项目 2 项、一般项目 9 项、青年项目 7 项，立项数位居省属高校前列。",
          "学校将加强项目过程管理，推动产出高质量研究成果。"),
    _kind("{s}与武汉东湖新技术开发区管委会签署校地合作协议", None, "发展规划处",
          "{m}月{d}日，{s}与武汉东湖新技术开发区管委会校地合作签约仪式举行。",
          "双方将共建大学科技园，在光电信息、生物医药等领域共同推动科技成果就地转化。",
          "签约仪式后，双方召开了校地合作联席会议。"),
    _kind("关于表彰{y}年度优秀共产党员、优秀党务工作者和先进基层党组织的决定", "6,7", "党委组织部",
          "为庆祝中国共产党成立纪念日，学校党委决定，授予 60 名同志“优秀共产党员”称号、20 名同志“优秀党务工作者”称号，授予 12 个党组织“先进基层党组织”称号。",
          "希望受表彰的先进集体和个人珍惜荣誉、再创佳绩。",
          "表彰名单见附件。"),
    _kind("{s}召开{y}年研究生教育工作会议", None, "研究生院",
          "{m}月{d}日，{s}召开{y}年研究生教育工作会议，总结研究生教育改革成效，部署下一阶段重点任务。",
          "会议要求，要健全导师立德树人职责落实机制，提高学位论文质量。",
          "各学院研究生工作负责人和导师代表参加会议。"),
    _kind("{s}{y}年国际学术交流周开幕", None, "国际交流处",
          "{m}月{d}日，{s}{y}年国际学术交流周开幕，来自 12 个国家和地区的 80 余名学者参加。",
          "交流周期间将举办学术报告 36 场、青年学者论坛 6 场。",
          "学校将以交流周为契机，拓展与海外高校的合作。"),
    _kind("{s}举行{y}年校园开放日活动", "5,6,7", "招生办公室",
          "{m}月{d}日，{s}{y}年校园开放日活动举行，2000 余名考生和家长走进校园。",
          "各学院设置咨询展位，介绍专业设置、培养方案和就业情况。",
          "考生和家长还参观了实验室、图书馆和学生宿舍。"),
]


def _subject(title: str) -> str:
    """What a notice is about: `关于公布2025年…名单的通知` → `2025年…名单`."""
    s = title.removeprefix(SCHOOL).removeprefix("关于").removeprefix("公布").removeprefix("做好").removeprefix("开展")
    for end in ("的通知", "的通报", "的公告", "公示"):
        s = s.removesuffix(end)
    return s


def body_for(title: str, department: str) -> list[str]:
    """Two or three paragraphs that fit a notice's title, as an office writes them (the sample
    admissions and 教务处 lists: what is announced, the period or the steps, whom to ask)."""
    what, ask = _subject(title), f"{department}联系电话：027-87650000。"
    if "名单" in title or "结果" in title:
        verb = "公示" if "公示" in title else "公布"
        return [f"根据有关规定，经审核，现将{what}予以{verb}，具体名单见附件。",
                f"公示期为五个工作日。如有异议，请在公示期内以书面形式实名向{department}反映。", ask]
    if "章程" in title or "简章" in title or "计划" in title:
        return [f"现发布{what}，请考生和家长认真阅读。",
                "考生须如实填报信息；学校招生工作接受纪检监察部门和社会各界监督。",
                f"本{'章程' if '章程' in title else '简章'}由学校{department}负责解释。{ask}"]
    if "分数线" in title:
        return [f"现将{what}公布如下，各省（区、市）分批次、分科类的最低录取分数见附表。",
                "分数线为投档后实际录取的最低分，供考生填报志愿时参考。", ask]
    if "一封信" in title:
        return ["亲爱的考生：感谢你对我校的关注！学校始终坚持公平公正、择优录取。",
                "诚挚欢迎你报考我校，期待与你在东湖之滨相遇。", ask]
    if title.startswith("关于"):
        work = what if what.endswith("工作") else f"{what}相关工作"
        return [f"各学院（部）、各单位：为做好{work}，现将有关事项通知如下。",
                f"请各单位高度重视，按时间节点认真组织实施，并将有关材料报送{department}。", ask]
    return [f"{what}如下，请按安排做好准备；如有变动，将另行通知。",
            "请关注本网站及学校官方微信公众号。", ask]


def news_posts(n: int, *, start: datetime = datetime(2025, 6, 30, 16, 30), first_id: int = 9001) -> list[SamplePost]:
    """`n` portal posts, newest first, one every 33 hours, each of a kind that is published in its
    month (no 寒假 notice in June), with a body that fits its title."""
    posts = []
    seen: dict[str, int] = {}
    for i in range(n):
        when = start - timedelta(hours=33 * i)
        fitting = [k for k in _NEWS if k.months is None or when.month in k.months]
        # Round the kinds of the month, preferring one not yet used that year.
        turn = [fitting[(i + k) % len(fitting)] for k in range(len(fitting))]
        kind = next((k for k in turn if k.title.format(s=SCHOOL, y=when.year) not in seen), turn[0])
        title = kind.title.format(s=SCHOOL, y=when.year)
        seen[title] = seen.get(title, 0) + 1
        if seen[title] > 1:
            title = f"{title}（{seen[title]}）"
        posts.append(
            SamplePost(
                news_id=first_id + n - i,
                title=title,
                published=when,
                paragraphs=[line.format(s=SCHOOL, y=when.year, m=when.month, d=when.day) for line in kind.body],
                department=kind.department,
                attachments=[f"附件{1}：{title[:10]}报名表.docx"] if i % 4 == 1 else [],
                title_attr=i % 3 != 2,
            )
        )
    return posts


# -- VSB family A (portal) --------------------------------------------------------------

_VSB_HEAD = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}" />
<title>{title}</title>
<META Name="keywords" Content="{school},{title}" />
<!--Announced by Visual SiteBuilder 9-->
<link rel="stylesheet" type="text/css" href="{root}_sitegray/_sitegray_d.css" />
<script language="javascript" src="{root}_sitegray/_sitegray.js"></script>
<!-- CustomerNO:77656262657232307e7a47545353544703090000 -->
<link rel="stylesheet" type="text/css" href="{root}list.vsb.css" />
<script type="text/javascript" src="/system/resource/js/vsbscreen.min.js" id="_vsbscreen" devices="pc|pad"></script>
<script type="text/javascript" src="/system/resource/js/counter.js"></script>
<script type="text/javascript">_jsq_(1010,'/list.jsp',-1,{owner})</script>
</head>"""


def vsb_page_href(name: str, pages: int, j: int, deep: bool) -> str:
    """Where VSB puts list page `j` of `pages`, relative to the page linking it: page 1 is
    `{name}.htm`, the others `{name}/{pages - j + 1}.htm` (numbered backwards); `deep`
    when the linking page is itself inside `{name}/`."""
    if j == 1:
        return f"../{name}.htm" if deep else f"{name}.htm"
    return f"{pages - j + 1}.htm" if deep else f"{name}/{pages - j + 1}.htm"


def vsb_a_list(posts: list[SamplePost], *, base: str, column: str, tree: int, per_page: int,
               sidebar: list[SamplePost]) -> dict[str, Resource]:
    """`{base}{column}.htm` and `{base}{column}/{k}.htm`, numbered backwards. A pinned (置顶)
    post heads page 1 and recurs at its own date further down, as on real VSB lists."""
    pinned = [p for p in posts if p.pinned]
    ordered = sorted(posts, key=lambda p: p.published, reverse=True)
    pages = [ordered[i : i + per_page] for i in range(0, len(ordered), per_page)] or [[]]
    n = len(pages)
    out: dict[str, Resource] = {}
    name = column.rsplit("/", 1)[-1]
    for k, items in enumerate(pages, 1):
        deep = k > 1
        up = "../../" if deep else "../"
        rows = []
        for i, p in enumerate((pinned if k == 1 else []) + items):
            if p.external:
                href = p.external
            elif p.twin:
                href = f"{up}content.jsp?urltype=news.NewsContentUrl&amp;wbtreeid={tree}&amp;wbnewsid={p.news_id}"
            else:
                href = f"{up}info/{tree}/{p.news_id}.htm"
            title_attr = f' title="{esc(p.title)}"' if p.title_attr else ""
            top = '<span class="top">[置顶]</span>' if p.pinned else ""
            rows.append(
                f'<li id="line_u8_{i}">{top}<a href="{href}" target="_blank"{title_attr}>{esc(cut(p.title))}</a>'
                f'<span class="date">{p.published:%Y-%m-%d}</span></li>\n'
                f'<span id="section_u8_{i}" style="display:none;"></span>'
            )
        def page_href(j: int, deep: bool = deep) -> str:
            return vsb_page_href(name, n, j, deep)
        nxt = (f'<span class="p_next p_fun"><a href="{page_href(k + 1)}">下页</a></span>'
               f'<span class="p_last p_fun"><a href="{page_href(n)}">尾页</a></span>') if k < n else \
              '<span class="p_next_d p_fun_d">下页</span><span class="p_last_d p_fun_d">尾页</span>'
        prev = (f'<span class="p_first p_fun"><a href="{page_href(1)}">首页</a></span>'
                f'<span class="p_prev p_fun"><a href="{page_href(k - 1)}">上页</a></span>') if k > 1 else \
               '<span class="p_first_d p_fun_d">首页</span><span class="p_prev_d p_fun_d">上页</span>'
        numbers = "".join(
            f'<span class="p_no_d">{j}</span>' if j == k else f'<span class="p_no"><a href="{page_href(j)}">{j}</a></span>'
            for j in range(1, n + 1)
        )
        side = "".join(
            f'<li id="line_u9_{i}"><a href="{up}info/1011/{p.news_id}.htm" title="{esc(p.title)}">{esc(cut(p.title, 14))}</a>'
            f'<span class="date">{p.published:%m-%d}</span></li>'
            for i, p in enumerate(sidebar)
        )
        root = "../../" if deep else "../"
        ids = ",".join(str(p.news_id) for p in items)
        page = f"""{_VSB_HEAD.format(charset="utf-8", title="学校要闻-" + SCHOOL, school=SCHOOL, root=root, owner=OWNER)}
<body>
<div class="header"><a href="{root}index.htm"><img src="{root}images/logo.png" alt="{SCHOOL}" /></a>
<form action="{root}ssjg.jsp?wbtreeid=1001" method="post" id="au0a" name="au0a" onsubmit="return _nl_ys_check()">
<input type="hidden" id="lucenenewssearchkey440713" name="lucenenewssearchkey" value="" />
<input type="text" name="showkeycode440713" id="showkeycode440713" /></form></div>
<div class="main">
<aside class="btlist"><h3>热点新闻</h3><ul>{side}</ul></aside>
<div class="m_right"><div class="dqwz">当前位置：<a href="{root}index.htm">首页</a> &gt;&gt; <a href="{root}xwzx.htm">新闻中心</a> &gt;&gt; 学校要闻</div>
<div class="btlist list-con"><ul>
{"".join(rows)}
</ul></div>
<div class="pb_sys_common pb_sys_normal pb_sys_style1"><span class="p_t">共{len(ordered)}条</span>
<span class="p_pages">{prev}{numbers}{nxt}</span><span class="p_t">{k}/{n}</span></div>
<script>_showDynClickBatch([{",".join(f"'dynclicks_u8_{p.news_id}'" for p in items)}],[{ids}],"wbnews",{OWNER})</script>
</div></div>
<div class="footer">版权所有：{SCHOOL} 地址：湖北省武汉市东湖新技术开发区</div>
</body></html>"""
        path = f"{base}{column}.htm" if k == 1 else f"{base}{column}/{n - k + 1}.htm"
        out[path] = html(page)
    return out


def vsb_detail(p: SamplePost, *, base: str, tree: int, crumbs: list[str], charset: str = "utf-8") -> str:
    attachments = "".join(
        f'<li>附件【<a href="/system/_content/download.jsp?urltype=news.DownloadAttachUrl&amp;owner={OWNER}'
        f'&amp;wbfileid={p.news_id}{j}" target="_blank">{esc(name)}</a>】已下载<span id="nattach{p.news_id}{j}">'
        f'<script language="javascript">getClickTimes({p.news_id}{j},{OWNER},"wbnewsfile","attach")</script></span>次</li>'
        for j, name in enumerate(p.attachments)
    )
    body = "".join(
        f'<p class="vsbcontent_start">{esc(t)}</p>' if j == 0 else f"<p>{esc(t)}</p>"
        for j, t in enumerate(p.paragraphs)
    )
    crumb = " &gt;&gt; ".join(["<a href=\"../../../index.htm\">首页</a>", *crumbs, "正文"])
    return f"""{_VSB_HEAD.format(charset=charset, title=esc(p.title) + "-" + SCHOOL, school=SCHOOL, root="../../", owner=OWNER)}
<body><div class="header"><img src="../../images/logo.png" alt="{SCHOOL}" /></div>
<div class="position">当前位置：{crumb}</div>
<script>NewsvoteDWR.getNewsLinkUrl({p.news_id},'{OWNER}','vsb',newsSkip);</script>
<form name="_newscontent_fromname"><div class="content">
<h1 class="title">{esc(p.title)}</h1>
<div class="info">发布时间：{p.published:%Y-%m-%d %H:%M}&nbsp;&nbsp;作者：&nbsp;&nbsp;来源：{esc(p.department)}&nbsp;&nbsp;点击数：<script>_showDynClicks("wbnews", {OWNER}, {p.news_id})</script></div>
<div id="vsb_content_2"><div class="v_news_content">{body}
<p class="vsbcontent_img"><img width="600" src="/__local/A/1B/2C/9F8E7D6C5B4A_3C2B1A09.jpg" vurl="/_vsl/9F8E7D6C5B4A/3C2B1A09/1E2D" vheight="" vwidth="600" orisrc="/__local/A/1B/2C/9F8E7D6C5B4A_3C2B1A09.jpg" class="img_vsb_content"></p>
{p.extra_html}<p class="vsbcontent_end">（审核：{esc(p.department)}）</p></div></div>
<div id="div_vote_id"></div>
<ul style="list-style-type:none;">{attachments}</ul>
<p><span>上一条：</span><a href="{p.news_id + 1}.htm">上一篇文章</a></p><p><span>下一条：</span><a href="{p.news_id - 1}.htm">下一篇文章</a></p>
</div></form>
<script>document.write('<img src="https://evil.example.com/track.gif">');</script>
<div class="footer">版权所有：{SCHOOL}</div></body></html>"""


@with_attachments
def portal_site(posts: list[SamplePost], *, per_page: int = 10) -> dict[str, Resource]:
    base = "/portal/"
    pages = vsb_a_list(posts, base=base, column="xwzx/xxyw", tree=1010, per_page=per_page, sidebar=[
        SamplePost(8001 + i, f"热点：{SCHOOL}第{i + 1}期学术沙龙举行", datetime(2025, 6, 1), []) for i in range(5)
    ])
    for p in posts:
        if not p.external:
            page = html(vsb_detail(p, base=base, tree=1010, crumbs=[
                '<a href="../../xwzx.htm">新闻中心</a>', '<a href="../../xwzx/xxyw.htm">学校要闻</a>']))
            pages[f"{base}info/1010/{p.news_id}.htm"] = page
            # VSB serves every article at its content.jsp twin too.
            pages[f"{base}content.jsp?urltype=news.NewsContentUrl&wbtreeid=1010&wbnewsid={p.news_id}"] = page
    return pages


def portal_posts() -> list[SamplePost]:
    """23 dated posts, one pinned old notice, one link-type post, one content.jsp twin."""
    posts = news_posts(23)
    posts.insert(0, SamplePost(8888, f"关于印发《{SCHOOL}信息公开实施细则》的通知", datetime(2024, 10, 10, 9, 0),
                               ["为规范学校信息公开工作，根据《高等学校信息公开办法》，制定本细则。"],
                               department="党政办公室", pinned=True,
                               attachments=[f"{SCHOOL}信息公开实施细则.pdf", "信息公开申请表.docx"]))
    posts[3] = replace(posts[3], external="https://mp.weixin.qq.com/s/Xq3vD9LkPzR1uAa2bC4dEw",
                       title=f"【图说】{SCHOOL}2025年毕业季")
    posts[5] = replace(posts[5], twin=True)
    return posts


# -- VSB family B (本科招生网) --------------------------------------------------------------


def zsb_posts() -> list[SamplePost]:
    titles = [
        "{s}2025年本科招生章程", "{s}2025年高校专项计划招生简章", "{s}2025年分省分专业招生计划",
        "{s}2024年各省录取分数线", "{s}2025年综合评价招生入围考生名单公示", "{s}2025年高水平运动队测试结果公示",
        "{s}2025年艺术类专业招生简章", "致2025届考生的一封信", "{s}2025年保送生拟录取名单公示",
        "{s}2025年新生入学须知", "{s}招生咨询会日程安排",
    ]
    return [
        SamplePost(5100 + i, t.format(s=SCHOOL), datetime(2025, 6, 20, 9, 0) - timedelta(days=5 * i),
                   body_for(t.format(s=SCHOOL), "招生办公室"), department="招生办公室")
        for i, t in enumerate(titles)
    ]


@with_attachments
def zsb_site(posts: list[SamplePost], per_page: int = 6) -> dict[str, Resource]:
    base = "/zsb/"
    pages_ = [posts[i : i + per_page] for i in range(0, len(posts), per_page)]
    n = len(pages_)
    out: dict[str, Resource] = {}
    for k, items in enumerate(pages_, 1):
        deep = k > 1
        up = "../" if deep else ""
        rows = "".join(
            f'<tr height="20"><td width="1%" valign="middle"><img src="{up}images/dot.gif" border="0"></td>'
            f'<td valign="middle"><a href="{up}info/1021/{p.news_id}.htm" class="c1234" target="_blank" '
            f'title="{esc(p.title)}">{esc(cut(p.title, 16))}</a></td>'
            f'<td width="1%" nowrap="" align="right" valign="middle"><span class="timestyle1234">{p.published:%Y/%m/%d}&nbsp;</span></td></tr>'
            f'<tr height="1"><td colspan="3" style="background-image: url({up}images/line.gif)"></td></tr>'
            for p in items
        )
        def href(j: int, deep: bool = deep) -> str:
            return vsb_page_href("zsxx", n, j, deep)
        nxt = f'<a href="{href(k + 1)}" class="Next">下页</a><a href="{href(n)}" class="Next">尾页</a>' if k < n \
            else '<span class="NextDisabled">下页</span><span class="NextDisabled">尾页</span>'
        page = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<title>招生信息-{SCHOOL}本科招生网</title><!--Announced by Visual SiteBuilder 9--></head><body>
<table width="100%"><tr><td class="fontstyle1235">当前位置：<a href="{up}index.htm">首页</a><span class="splitflagstyle1235">&gt;&gt;</span>招生信息</td></tr></table>
<table class="winstyle1234" width="100%" cellspacing="0" cellpadding="0"><tbody>{rows}
<tr id="img1234"><td colspan="3"><table><tr><td></td></tr></table></td></tr></tbody></table>
<table class="headStyle5h1klaqjfc" width="100%" border="0" cellspacing="0" cellpadding="0"><tr>
<td nowrap="" align="left" width="1%" id="fanye1234">共{len(posts)}条&nbsp;&nbsp;{k}/{n}&nbsp;</td>
<td nowrap="" align="left"><span class="PrevDisabled">首页</span><span class="PrevDisabled">上页</span>{nxt}
<input type="text" value="{k}" id="a1234GOPAGE" size="2"><input type="button" name="a1234Find" value="转到" onclick="_simple_list_gotopage_fun({n},'a1234GOPAGE',2)"></td>
</tr></table></body></html>"""
        out[f"{base}zsxx.htm" if k == 1 else f"{base}zsxx/{n - k + 1}.htm"] = html(page)
    for p in posts:
        body = "".join(f"<p>{esc(t)}</p>" for t in p.paragraphs)
        out[f"{base}info/1021/{p.news_id}.htm"] = html(f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<title>{esc(p.title)}-{SCHOOL}本科招生网</title></head><body>
<table width="100%"><tr><td class="fontstyle1235">当前位置：<a href="../../index.htm">首页</a><span class="splitflagstyle1235">&gt;&gt;</span><a href="../../zsxx.htm">招生信息</a><span class="splitflagstyle1235">&gt;&gt;</span>正文</td></tr></table>
<form name="_newscontent_fromname"><table width="100%"><tr><td class="titlestyle1240" align="center">{esc(p.title)}</td></tr>
<tr><td align="center"><span class="timestyle1240">{p.published:%Y-%m-%d %H:%M}</span>&nbsp;&nbsp;<span class="authorstyle1240">{esc(p.department)}</span></td></tr>
<tr><td><div id="vsb_content"><div class="v_news_content">{body}</div></div></td></tr></table></form></body></html>""")
    return out


# -- month-day list (研究生院) --------------------------------------------------------------


def yjsy_posts() -> list[SamplePost]:
    items = [
        (7311, "关于{y}年硕士研究生招生考试网上报名的公告", datetime(2024, 10, 10, 9, 0), True),
        (7420, "{s}{y}年硕士研究生招生复试分数线", datetime(2025, 3, 28, 18, 0), False),
        (7419, "{s}{y}年硕士研究生复试录取工作方案", datetime(2025, 3, 26, 10, 0), False),
        (7418, "{s}{y}年硕士研究生拟录取名单公示（第一批）", datetime(2025, 4, 10, 17, 0), False),
        (7417, "{s}{y}年博士研究生招生简章", datetime(2025, 1, 6, 9, 0), False),
        (7416, "关于{y}年硕士研究生调剂工作的通知", datetime(2024, 12, 30, 9, 0), False),
        (7415, "关于{y}年硕士研究生调剂工作的通知", datetime(2024, 12, 20, 9, 0), False),
        (7414, "{s}{y}年接收推荐免试研究生章程", datetime(2024, 9, 12, 9, 0), False),
    ]
    # The 拟录取名单 states its 公示 period with the year implied (what `xxgk compliance` counts: 10 working days).
    bodies = {7418: "名单见附件，请下载附件查阅。公示时间：4月10日至4月23日。"}
    return [
        SamplePost(i, t.format(s=SCHOOL, y=d.year), d, [bodies.get(i, "请下载附件查阅。")], department="研究生院",
                   attachments=[f"{t.format(s=SCHOOL, y=d.year)[:14]}.docx", "专业目录.pdf"], pinned=pin)
        for i, t, d, pin in items
    ]


@with_attachments
def yjsy_site(posts: list[SamplePost], per_page: int = 4) -> dict[str, Resource]:
    base = "/yjsy/"
    pinned = [p for p in posts if p.pinned]
    rest = sorted((p for p in posts if not p.pinned), key=lambda p: p.published, reverse=True)
    chunks = [rest[i : i + per_page] for i in range(0, len(rest), per_page)]
    n = len(chunks)
    out: dict[str, Resource] = {}
    for k, items in enumerate(chunks, 1):
        deep = k > 1
        up = "../../" if deep else "../"
        rows = "".join(
            f'<li><a href="{up}info/1031/{p.news_id}.htm" target="_blank">{esc(p.title)}</a><span>[{p.published:%m-%d}]</span></li>'
            for p in (pinned if k == 1 else []) + items
        )
        nxt = f'<a href="{"" if deep else "sszs/"}{n - k}.htm">下页</a>' if k < n else "下页"
        out[f"{base}zsgz/sszs.htm" if k == 1 else f"{base}zsgz/sszs/{n - k + 1}.htm"] = html(f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>硕士招生-{SCHOOL}研究生院</title></head><body>
<div class="nav"><ul><li><a href="{up}index.htm">首页</a></li><li><a href="{up}zsgz.htm">招生工作</a></li></ul></div>
<div class="list"><h2>硕士招生</h2><ul>{rows}</ul>
<div class="page">共{len(posts)}条 首页 上页 {nxt} 尾页 转到 <input type="text" size="2"> 页</div></div>
</body></html>""")
    for p in posts:
        attachments = "".join(
            f'<li>附件【<a href="/system/_content/download.jsp?urltype=news.DownloadAttachUrl&amp;owner={OWNER}&amp;wbfileid=77{p.news_id}{j}">{esc(a)}</a>】</li>'
            for j, a in enumerate(p.attachments)
        )
        out[f"{base}info/1031/{p.news_id}.htm"] = html(f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{esc(p.title)}-{SCHOOL}研究生院</title></head><body>
<div class="location">当前位置：<a href="../../index.htm">首页</a> &gt; <a href="../../zsgz.htm">招生工作</a> &gt; 硕士招生</div>
<form name="_newscontent_fromname"><h2 class="arti_title">{esc(p.title)}</h2>
<div class="arti_metas">发布日期：{p.published:%Y年%m月%d日}&nbsp; 发布单位：研究生院招生办公室</div>
<div id="vsb_content"><div class="v_news_content"><p>{esc(p.paragraphs[0])}</p></div></div>
<ul style="list-style-type:none;">{attachments}</ul></form></body></html>""")
    return out


# -- GBK procurement centre ---------------------------------------------------------------

_CG_ITEMS = [
    ("DHKJ-2025-CG017", "实验室高性能计算集群采购项目公开招标公告", "公开招标", 569800.00, None, None),
    ("DHKJ-2025-CG017", "实验室高性能计算集群采购项目中标（成交）结果公告", "公开招标", None, "武汉光谷智算科技有限公司", 556000.00),
    ("DHKJ-2025-CG021", "学生公寓空调维修服务竞争性磋商公告", "竞争性磋商", 350000.00, None, None),
    ("DHKJ-2025-CG021", "学生公寓空调维修服务竞争性磋商公告的更正公告", "竞争性磋商", None, None, None),
    ("DHKJ-2025-CG025", "图书馆中文图书采购项目询价公告", "询价", 80000.00, None, None),
    ("DHKJ-2025-CG025", "图书馆中文图书采购项目废标公告", "询价", None, None, None),
    ("DHKJ-2025-CG030", "校园网核心交换机采购项目单一来源采购公示", "单一来源", 1200000.00, None, None),
    ("DHKJ-2025-CG012", "食堂食材配送服务项目合同公告", "公开招标", None, "湖北楚天鲜农业发展有限公司", 2380000.00),
    ("DHKJ-2024-CG088", "学生宿舍家具采购项目履约验收结果公告", "公开招标", None, "武汉木艺家具有限公司", 1460000.00),
    (None, "2025年7月政府采购意向公开", None, None, None, None),
]


# Dates the notices state, for the compliance calendar: a tender whose documents are on offer for 4
# working days (5 required: short), a result published within 2 working days of being fixed (ok),
# a contract published a week after its signing (2 working days: late).
_CG_DATES = {0: "获取招标文件时间：2025年7月8日至2025年7月11日", 1: "定标日期：2025年7月3日",
             7: "合同签订日期：2025年6月10日"}


def cgzx_posts() -> list[SamplePost]:
    posts = []
    for i, (code, title, method, budget, supplier, award) in enumerate(_CG_ITEMS):
        lines = []
        if code:
            lines += [f"一、项目编号：{code}", f"二、项目名称：{title.split('项目')[0]}项目", f"三、采购人：{SCHOOL}"]
        if method:
            lines.append(f"四、采购方式：{method}")
        if budget:
            lines.append(f"五、预算金额：￥{budget / 10000:.2f} 万元")
        if supplier:
            lines.append(f"六、中标（成交）供应商：{supplier}")
        if award:
            lines.append(f"七、中标（成交）金额：{award:.2f}(元)")
        if i in _CG_DATES:
            lines.append(_CG_DATES[i])
        lines.append("联系人：采购与招投标管理中心 王老师 027-87651234")
        posts.append(SamplePost(6200 - i, f"{SCHOOL}{title}", datetime(2025, 7, 8, 9, 30) - timedelta(days=3 * i),
                                lines, department="采购与招投标管理中心", title_attr=False))
    return posts


@with_attachments
def cgzx_site(posts: list[SamplePost], per_page: int = 6) -> dict[str, Resource]:
    base = "/cgzx/"
    chunks = [posts[i : i + per_page] for i in range(0, len(posts), per_page)]
    n = len(chunks)
    out: dict[str, Resource] = {}
    for k, items in enumerate(chunks, 1):
        deep = k > 1
        up = "../" if deep else ""
        rows = "".join(
            f'<li id="line_u5_{i}"><a href="{up}info/1051/{p.news_id}.htm" target="_blank"><h4>{esc(cut(p.title, 20))}</h4>'
            f'<p class="date"><i class="fa fa-calendar"></i>{p.published:%Y-%m-%d}</p><p>{esc(p.paragraphs[0][:30])}...</p></a></li>'
            for i, p in enumerate(items)
        )
        nxt = f'<span class="p_next p_fun"><a href="{"" if deep else "cggg/"}{n - k}.htm">下页</a></span>' if k < n else ""
        page = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>采购公告-{SCHOOL}采购与招投标管理中心</title></head><body>
<div class="list-con"><ul>{rows}</ul></div>
<div class="pb_sys_common pb_sys_normal pb_sys_style1"><span class="p_pages">{nxt}</span><span class="p_t">{k}/{n}</span></div>
</body></html>"""
        out[f"{base}cggg.htm" if k == 1 else f"{base}cggg/{n - k + 1}.htm"] = Resource(page.encode("gbk"), "text/html")
    for p in posts:
        body = "".join(f"<p>{esc(t)}</p>" for t in p.paragraphs)
        page = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{esc(p.title)}-采购与招投标管理中心</title></head><body>
<div class="position">当前位置：<a href="../../index.htm">首页</a>&gt;&gt;<a href="../../cggg.htm">采购公告</a>&gt;&gt;正文</div>
<form name="_newscontent_fromname"><h1>{esc(p.title)}</h1>
<div class="info">发布时间：{p.published:%Y-%m-%d %H:%M}&nbsp;&nbsp;来源：采购与招投标管理中心</div>
<div id="vsb_content"><div class="v_news_content">{body}</div></div></form></body></html>"""
        out[f"{base}info/1051/{p.news_id}.htm"] = Resource(page.encode("gbk"), "text/html")
    return out


# -- 中国政府采购网 -------------------------------------------------------------------------


def ccgp_posts() -> list[SamplePost]:
    regions = ["湖北", "湖北武汉", "湖北", "湖北宜昌", "湖北"]
    items = [
        ("DHKJ-2025-CG017", f"{SCHOOL}实验室高性能计算集群采购项目中标(成交)结果公告", "武汉光谷智算科技有限公司", 55.6),
        ("HBZC-2025-00412", f"{SCHOOL}智慧教室建设项目中标公告", "湖北华科信息技术有限公司", 238.45),
        ("HBZC-2025-00398", f"{SCHOOL}后勤综合服务外包项目成交公告", "武汉城市物业管理有限公司", 96.0),
        ("HBZC-2025-00377", f"{SCHOOL}大型仪器设备维保服务项目中标(成交)结果公告", "湖北仪联科技有限公司", 41.2),
        ("HBZC-2025-00351", f"{SCHOOL}校园安防监控系统升级项目中标公告", "武汉安视达电子有限公司", 128.9),
    ]
    return [
        SamplePost(24187654 - i * 17, title, datetime(2025, 7, 10, 16, 0) - timedelta(days=4 * i, hours=i),
                   [code, supplier, f"{amount:.6f}", regions[i]], department="湖北省政府采购网")
        for i, (code, title, supplier, amount) in enumerate(items)
    ]


@with_attachments
def ccgp_site(posts: list[SamplePost], per_page: int = 3) -> dict[str, Resource]:
    base = "/ccgp/cggg/dfgg/zbgg/"
    chunks = [posts[i : i + per_page] for i in range(0, len(posts), per_page)]
    out: dict[str, Resource] = {}
    for k, items in enumerate(chunks):
        rows = "".join(
            f'<li><a href="./{p.published:%Y%m}/t{p.published:%Y%m%d}_{p.news_id}.htm" title="{esc(p.title)}" target="_blank">{esc(p.title)}</a>\n'
            f'<span>发布时间：<em>{p.published:%Y-%m-%d %H:%M}</em> 地域：<em>{p.paragraphs[3]}</em> 采购人：<em>{SCHOOL}</em></span></li>'
            for p in items
        )
        out[f"{base}index.htm" if k == 0 else f"{base}index_{k}.htm"] = html(f"""<!DOCTYPE html><html><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>中标公告</title></head><body>
<div class="main_list"><div class="vF_deail_currentloc"><a>首页</a>»<a>政采公告</a>»<a>地方公告</a>»<a>中标公告</a></div>
<ul class="c_list_news"><li><a href="/cggg/zygg/">中央公告</a></li></ul>
<ul class="c_list_bid">{rows}</ul>
<p class="pager"><script>Pager({{size:{len(chunks)}, current:{k}, prefix:'index',suffix:'htm'}});</script></p></div></body></html>""")
    for p in posts:
        code, supplier, amount, region = p.paragraphs
        out[f"{base}{p.published:%Y%m}/t{p.published:%Y%m%d}_{p.news_id}.htm"] = html(f"""<!DOCTYPE html><html><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="SiteName" content="中国政府采购网"><meta name="SiteDomain" content="www.ccgp.gov.cn"><meta name="SiteIDCode" content="bm14000002">
<meta name="ArticleTitle" content="{esc(p.title)}"><meta name="PubDate" content="{p.published:%Y-%m-%d %H:%M}">
<meta name="ContentSource" content="{esc(p.department)}"><title>{esc(p.title)}</title>
<script id="keyparam" src="/_bot_sbu/sbu_fpcm.js"></script></head><body id="detail">
<div class="vF_deail_currentloc"><a class="CurrChnlCls">首页</a>»<a class="CurrChnlCls">政采公告</a>»<a class="CurrChnlCls">地方公告</a>»<a class="CurrChnlCls">中标公告</a></div>
<div class="vF_deail_maincontent"><div class="vF_detail_main vF_x7k2">
<div class="vF_detail_header"><h2 class="tc">{esc(p.title.replace("(成交)", "（成交）"))}</h2>
<p class="tc"><span id="pubTime">{p.published:%Y年%m月%d日 %H:%M}</span> 来源：<span id="sourceName">{esc(p.department)}</span> 【<span id="printBtn">打印</span>】</p></div>
<div class="table"><h5>公告概要：</h5><table>
<tr><td class="title">采购项目名称</td><td colspan="3">{esc(p.title[len(SCHOOL):].split("项目")[0])}项目</td></tr>
<tr><td class="title">品目</td><td colspan="3">货物/设备</td></tr>
<tr><td class="title">采购单位</td><td>{SCHOOL}</td><td class="title">行政区域</td><td>{region}</td></tr>
<tr><td class="title">公告时间</td><td>{p.published:%Y年%m月%d日 %H:%M}</td><td class="title">评审专家名单</td><td>张某某、李某某、王某某</td></tr>
<tr><td class="title">总中标金额</td><td colspan="3">￥{amount} 万元（人民币）</td></tr>
<tr><td class="title">代理机构名称</td><td colspan="3">湖北诚信招标代理有限公司</td></tr></table></div>
<div class="vF_detail_content_container"><div class="vF_detail_content">
<p><strong>一、项目编号：</strong><samp class="bookmark-item uuid-1 code-00004 editDisable">{code}</samp></p>
<p><strong>二、项目名称：</strong><span class="bookmark-item uuid-2 code-00003">{esc(p.title[len(SCHOOL):].split("项目")[0])}项目</span></p>
<p><strong>三、中标（成交）信息</strong></p>
<table><tr><th>供应商名称</th><th>中标（成交）金额</th></tr>
<tr><td class="code-winningSupplierName">{esc(supplier)}</td><td class="code-summaryPrice">{amount}万元</td></tr></table>
<p><strong>七、公告期限</strong></p><p>自本公告发布之日起1个工作日。</p>
<p class="fjxx">附件信息：</p><ul class="fjxx"><li><p><a href="https://download.ccgp.gov.cn/oss/download?uuid={p.news_id}" ignore="1">中标通知书.pdf</a></p></li></ul>
</div></div></div></div></body></html>""")
    return out


# -- TRS WCM (信息公开网) and 苏迪 WebPlus (教务处) ----------------------------------------------


def xxgk_posts() -> list[SamplePost]:
    titles = ["{s}2024—2025学年信息公开工作年度报告", "{s}2025年部门预算", "{s}2024年部门决算",
              "{s}关于拟任干部任前公示的公告", "{s}2025年收费项目及标准公示", "{s}学术不端行为处理结果公示",
              "{s}2025年重大建设项目公示"]
    usual = ["根据有关规定，现予以公开。", "公开期限：自发布之日起30日。"]
    # What the compliance calendar reads in their text: a budget published 50 days after its 批复 (late),
    # final accounts 13 days after (ok), a 任前公示 of 3 working days (short), a fee notice signed on
    # 4月10日 and published after 20 working days (late).
    stated = {1: ["经学校主管部门于2025年4月30日批复，现将学校2025年部门预算予以公开。", *usual[1:]],
              2: ["经学校主管部门于2025年5月28日批复，现将学校2024年部门决算予以公开。", *usual[1:]],
              3: ["经学校党委研究，拟任以下同志为处级领导干部，现予公示。", "公示期：2025年6月3日至6月5日。"],
              4: [*usual, "党政办公室", "二〇二五年四月十日"]}
    # The annual report of 2024—2025 is published after that year ends (by 31 October); the others
    # every nine days back from late June.
    return [SamplePost(30000 + i, t.format(s=SCHOOL),
                       datetime(2025, 10, 20, 10, 0) if i == 0 else datetime(2025, 6, 28, 10, 0) - timedelta(days=9 * i),
                       stated.get(i, usual), department="党政办公室",
                       attachments=[f"{t.format(s=SCHOOL)}.pdf"] if i % 2 == 0 else [])
            for i, t in enumerate(titles)]


@with_attachments
def xxgk_trs_site(posts: list[SamplePost], per_page: int = 4) -> dict[str, Resource]:
    base = "/xxgk/gsgg/"
    chunks = [posts[i : i + per_page] for i in range(0, len(posts), per_page)]
    out: dict[str, Resource] = {}
    for k, items in enumerate(chunks):
        rows = "".join(
            f'<li><a href="./{p.published:%Y%m}/t{p.published:%Y%m%d}_{p.news_id}.html" title="{esc(p.title)}" '
            f'target="_blank">{esc(cut(p.title, 18))}</a><span>[{p.published:%Y-%m-%d}]</span></li>'
            for p in items
        )
        out[f"{base}index.html" if k == 0 else f"{base}index_{k}.html"] = html(f"""<!DOCTYPE html><html><head>
<meta charset="utf-8"><title>公示公告-{SCHOOL}信息公开网</title></head><body>
<div class="column"><h2>公示公告</h2><ul class="list">{rows}</ul>
<div class="page"><script>createPageHTML({len(chunks)}, {k}, "index", "html");</script></div></div></body></html>""")
    for p in posts:
        files = "".join(f'<a href="./P0{p.published:%Y%m%d}1000{j}.pdf">{esc(a)}</a>' for j, a in enumerate(p.attachments))
        out[f"{base}{p.published:%Y%m}/t{p.published:%Y%m%d}_{p.news_id}.html"] = html(f"""<!DOCTYPE html><html><head>
<meta charset="utf-8"><meta name="ArticleTitle" content="{esc(p.title)}"><meta name="PubDate" content="{p.published:%Y-%m-%d %H:%M}">
<meta name="ContentSource" content="{esc(p.department)}"><meta name="SiteName" content="{SCHOOL}信息公开网">
<title>{esc(p.title)}</title></head><body><div class="crumb">当前位置：<a href="../../../index.html">首页</a> &gt; <a href="../index.html">公示公告</a></div>
<h1>{esc(p.title)}</h1><div class="TRS_Editor">{"".join(f"<p>{esc(t)}</p>" for t in p.paragraphs)}</div>
<div class="files">附件：{files}</div></body></html>""")
    return out


def jwc_posts() -> list[SamplePost]:
    titles = ["关于2025年暑期学校课程安排的通知", "关于开展2025年本科教学质量评估的通知", "关于2025届本科毕业论文（设计）抽检结果的通报",
              "关于公布2025年大学生创新创业训练计划项目立项名单的通知", "关于做好2025—2026学年第一学期选课工作的通知"]
    return [SamplePost(120000 + i, t, datetime(2025, 7, 1, 15, 0) - timedelta(days=6 * i), body_for(t, "教务处"),
                       department="教务处") for i, t in enumerate(titles)]


def _jwc_meta(p: SamplePost) -> str:
    """WebPlus's date line; one template of the column writes it as bare labelled text that no
    preset selector names (`日期：…` in a plain <p>), as real sites do."""
    if p.news_id == 120002:
        return f'<p class="sub">日期：{p.published:%Y年%m月%d日} 浏览次数：<span>37</span></p>'
    return f'<p class="arti_metas"><span class="arti_update">发布时间：{p.published:%Y-%m-%d}</span></p>'


# The detail page `xxgk demo` takes down for its first round: the post is stored from its
# list entry, the run is partial, and the second round completes it.
DEMO_MISSING_DETAIL = "/zsb/info/1021/5103.htm"


@with_attachments
def jwc_webplus_site(posts: list[SamplePost], per_page: int = 3) -> dict[str, Resource]:
    base = "/jwc/"
    chunks = [posts[i : i + per_page] for i in range(0, len(posts), per_page)]
    out: dict[str, Resource] = {}
    for k, items in enumerate(chunks, 1):
        rows = "".join(
            f'<li class="list_item i{j + 1}"><div class="fields pr_fields"><span class="Article_Title">'
            f'<a href="/{p.published:%Y}/{p.published:%m%d}/c2891a{p.news_id}/page.htm" target="_blank" title="{esc(p.title)}">'
            f'{esc(cut(p.title, 20))}</a></span></div><div class="fields ex_fields">'
            f'<span class="Article_PublishDate">{p.published:%Y-%m-%d}</span></div></li>'
            for j, p in enumerate(items)
        )
        nxt = f'<li><a class="next" href="/jwc/2891/list{k + 1}.htm">下一页</a></li>' if k < len(chunks) else \
            '<li><span class="next">下一页</span></li>'
        out[f"{base}2891/list.htm" if k == 1 else f"{base}2891/list{k}.htm"] = html(f"""<!DOCTYPE html><html><head>
<meta charset="utf-8"><title>通知公告</title><link type="text/css" href="/_css/_system/system.css" rel="stylesheet"/>
<script type="text/javascript" src="/_js/jquery.sudy.wp.visitcount.js"></script></head><body>
<div id="wp_news_w6"><ul class="news_list list2">{rows}</ul></div>
<div id="wp_paging_w6"><ul class="wp_paging clearfix"><li class="page_nav"><span class="per_count">每页&nbsp;<em
class="per_count">{per_page}</em>&nbsp;记录&nbsp;</span><span class="all_count">总共&nbsp;<em class="all_count">{len(posts)}</em>&nbsp;记录&nbsp;</span>
</li>{nxt}</ul></div></body></html>""")
    for p in posts:
        out[f"/{p.published:%Y}/{p.published:%m%d}/c2891a{p.news_id}/page.htm"] = html(f"""<!DOCTYPE html><html><head>
<meta charset="utf-8"><title>{esc(p.title)}</title></head><body>
<div class="col_path">当前位置：<a href="/main.htm">首页</a> &gt; <a href="/jwc/2891/list.htm">通知公告</a></div>
<h1 class="arti_title">{esc(p.title)}</h1>{_jwc_meta(p)}
<div class="wp_articlecontent">{"".join(f"<p>{esc(t)}</p>" for t in p.paragraphs)}</div></body></html>""")
    return out


# -- blocked ----------------------------------------------------------------------------------


def waf_site() -> dict[str, Resource]:
    shell = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">"
             "<script type=\"text/javascript\">$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=49851;"
             "$_ts.cd=\"qXGcrrAlqGzqcpL7DGqEEaqlWp3\";</script>"
             "<script type=\"text/javascript\" charset=\"utf-8\" src=\"/4QbVtADbnLVIc/d.FxJzG50F.d2a8e1c.js\" r='m'></script>"
             "</head><body></body></html>")
    return {"/waf/tzgg.htm": html(shell, status=412)}


# -- the whole sample ---------------------------------------------------------------------------------


def banner_png(width: int = 600, height: int = 240) -> bytes:
    """The picture the sample articles show (a sky-to-lake gradient), as a real PNG: the demo's
    post pages show an image, not a broken link."""
    import struct
    import zlib

    rows = b"".join(b"\x00" + bytes((40 + y // 4, 110 + y // 5, 190 - y // 6)) * width for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def sample_pages() -> dict[str, Resource]:
    pages: dict[str, Resource] = {"/__local/A/1B/2C/9F8E7D6C5B4A_3C2B1A09.jpg": Resource(banner_png(), "image/png")}
    pages.update(portal_site(portal_posts()))
    pages.update(zsb_site(zsb_posts()))
    pages.update(yjsy_site(yjsy_posts()))
    pages.update(cgzx_site(cgzx_posts()))
    pages.update(ccgp_site(ccgp_posts()))
    pages.update(xxgk_trs_site(xxgk_posts()))
    pages.update(jwc_webplus_site(jwc_posts()))
    pages.update(waf_site())
    pages["/feed/xxgk.xml"] = rss_feed()
    pages["/robots.txt"] = Resource(b"User-agent: *\nDisallow: /admin/\n", "text/plain")
    return pages


def sample_channels(base_url: str, files: Path | None = None) -> str:
    """`[[channel]]` tables for the sample sites served at `base_url` (and, given
    `files`, for the sample exports written there by `write_sample_files`)."""
    exports = "" if files is None else f'''
[[channel]]
id = "wechat-official"
name = "官方微信公众号"
kind = "wechat"
group = "微信公众号"
path = "{(files / "wechat" / "official").as_posix()}"

[[channel]]
id = "wechat-video"
name = "官方视频号"
kind = "wechat"
group = "微信视频号"
path = "{(files / "wechat" / "channels").as_posix()}"

[[channel]]
id = "oa"
name = "学校OA·发文"
kind = "table"
group = "学校OA"
path = "{(files / "oa" / "oa-export.csv").as_posix()}"
  [channel.columns]
  key = "文号"
  title = "标题"
  date = "发布日期"
  department = "发布部门"
  body = "正文"
  url = "链接"
'''
    return exports + f'''
[[channel]]
id = "xxgk-feed"
name = "信息公开网·RSS"
kind = "feed"
group = "信息公开网"
url = "{base_url}/feed/xxgk.xml"

[[channel]]
id = "portal-news"
name = "学校门户·学校要闻"
kind = "html"
group = "学校门户网站"
url = "{base_url}/portal/xwzx/xxyw.htm"
preset = "vsb"

[[channel]]
id = "zsb-undergrad"
name = "本科招生网·招生信息"
kind = "html"
group = "本科招生信息公开"
url = "{base_url}/zsb/zsxx.htm"
preset = "vsb-legacy"

[[channel]]
id = "yjsy-admissions"
name = "研究生院·硕士招生"
kind = "html"
group = "研究生招生信息公开"
url = "{base_url}/yjsy/zsgz/sszs.htm"
  [channel.list]
  entry = "div.list li"
  link = "a@href"
  date = "span"
  next = "a:-soup-contains('下页')@href"
  [channel.detail]
  title = "h2.arti_title"
  date = ".arti_metas"

[[channel]]
id = "xxgk-notices"
name = "信息公开网·公示公告"
kind = "html"
group = "信息公开网"
url = "{base_url}/xxgk/gsgg/index.html"
preset = "trs"

[[channel]]
id = "jwc-notices"
name = "教务处·通知公告"
kind = "html"
group = "学校门户网站"
url = "{base_url}/jwc/2891/list.htm"
preset = "webplus"

[[channel]]
id = "procurement-centre"
name = "采购与招投标管理中心·采购公告"
kind = "procurement"
group = "政府采购信息"
url = "{base_url}/cgzx/cggg.htm"
preset = "vsb"
item = 18
  [channel.list]
  entry = "li[id^=line_u]"
  title = "h4"
  date = "p.date"

[[channel]]
id = "ccgp-results"
name = "中国政府采购网·本校中标公告"
kind = "procurement"
group = "政府采购信息"
url = "{base_url}/ccgp/cggg/dfgg/zbgg/index.htm"
preset = "ccgp"
item = 18
'''


def write_sample_files(folder: Path) -> None:
    """The WeChat exports and the OA export the sample channels read."""
    from aggregator.demo.files import write_follower_export, write_oa_export, write_video_export, write_wechat_exports

    write_wechat_exports(folder / "wechat" / "official")
    write_follower_export(folder / "wechat" / "official" / "用户增长-2024-09-01至2025-10-31.xlsx")
    write_video_export(folder / "wechat" / "channels" / "视频号-动态数据-2025-10.xlsx")
    write_oa_export(folder / "oa" / "oa-export.csv")
