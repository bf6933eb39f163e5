"""`xxgk report --check`: finished annual reports in the styles real ones come in — a DOCX with
heading styles, a DOCX of bold numbered paragraphs, a PDF whose lines break inside sentences, an
HTML page (inline, and linking its PDF), text with full-width digits — each with its figures
listed by hand; and the draft `xxgk report` writes, read back whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.demo.attachments import pdf_bytes
from aggregator.demo.server import Resource, SampleServer, html
from tests.helpers import run_xxgk

OVERVIEW = "2024—2025学年，学校认真贯彻落实《高等学校信息公开办法》，全年通过门户网站发布各类信息超1200条。"
ACTIVE = ["学校门户网站发布新闻1,234篇，公告通知356条；官方微信公众号推送推文412篇，累计阅读量16.5万人次。",
          "校报出版24期，OA系统发文2100余件次。"]
REQUESTS = "本学年共收到信息公开申请５件，均已按期答复。"
EXPECTED = [  # (section, label, value, unit, qualifier), by hand
    (1, "通过门户网站发布各类信息", 1200, "条", "超"),
    (2, "学校门户网站发布新闻", 1234, "篇", None), (2, "公告通知", 356, "条", None),
    (2, "官方微信公众号推送推文", 412, "篇", None), (2, "阅读量", 16.5, "万人次", None),
    (2, "校报出版", 24, "期", None), (2, "OA系统发文", 2100, "件次", "余"),
    (3, "收到信息公开申请", 5, "件", None),
]
TITLES = ["一、概述", "二、主动公开情况", "三、依申请公开和不予公开情况", "四、对信息公开的评议情况",
          "五、因学校信息公开工作受到举报、复议、诉讼的情况", "六、主要经验、问题和改进措施", "七、其他"]
BODIES = [[OVERVIEW], ACTIVE, [REQUESTS], ["师生对信息公开工作总体满意。"], ["本学年未发生。"],
          ["下一步将进一步规范公开流程。"], ["无。"]]


def _check(target: str, *extra: str) -> dict:
    done = run_xxgk("report", "--check", target, "--json", *extra)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def _figures(out: dict) -> list[tuple]:
    return [(f["section"], f["label"], f["value"], f["unit"], f["qualifier"]) for f in out["figures"]]


def _docx(path: Path, *, styled: bool) -> Path:
    from docx import Document

    doc = Document()
    doc.add_paragraph("东湖科技大学2024—2025学年信息公开工作年度报告")
    for title, body in zip(TITLES, BODIES, strict=True):
        if styled:
            doc.add_heading(title, level=1)
        else:
            doc.add_paragraph().add_run(title).bold = True
        for text in body:
            doc.add_paragraph(text)
    doc.save(str(path))
    return path


@pytest.mark.parametrize("styled", [True, False], ids=["heading-styles", "bold-paragraphs"])
def test_a_docx_report_has_its_seven_parts_and_every_figure(tmp_path: Path, styled: bool) -> None:
    out = _check(str(_docx(tmp_path / "report.docx", styled=styled)))
    assert [s["found"] for s in out["sections"]] == [True] * 7 and out["missing"] == []
    assert out["period"] == {"from": "2024-09-01", "to": "2025-08-31"}
    assert _figures(out) == EXPECTED


def test_a_pdf_whose_lines_break_inside_sentences(tmp_path: Path) -> None:
    text = "\n".join(["东湖科技大学2024—2025学年信息公开工作年度报告",
                      "报告期为2024年9月1日至2025年8月31日。", "一、概述",
                      "2024—2025学年，学校认真贯彻落实《高等学校信息公开办法》，全年通过门户",
                      "网站发布各类信息超1200条。", "二．主动公开情况",
                      "学校门户网站发布新闻1,234篇，公告通知356条；官方微信公众号推送推文",
                      "412篇，累计阅读量16.5万人次。", "校报出版24期，OA系统发文2100余件次。",
                      "第三部分 依申请公开和不予公开情况", REQUESTS, "四、对信息公开的评议情况", "师生总体满意。",
                      "六、主要经验、问题和改进措施", "下一步将进一步规范公开流程。"])
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes(text.split("\n")))
    out = _check(str(path))
    assert [s["found"] for s in out["sections"]] == [True, True, True, True, False, True, False]
    assert out["missing"] == ["五、因学校信息公开工作受到举报、复议、诉讼的情况", "七、其他"]
    assert out["period"] == {"from": "2024-09-01", "to": "2025-08-31"}
    assert _figures(out) == EXPECTED


def test_text_with_full_width_digits_and_headings_in_their_variants(tmp_path: Path) -> None:
    text = ("东湖科技大学信息公开工作年度报告\n（２０２４—２０２５学年）\n一、 概述\n" + OVERVIEW.replace("1200", "１２００")
            + "\n二、主动公开\n" + "\n".join(ACTIVE).replace("356", "３５６") + "\n三、依申请公开情况\n" + REQUESTS
            + "\n四、对信息公开的评议\n满意。\n五、举报、复议、诉讼情况\n无。\n六、存在的问题和改进措施\n无。\n七、其他需要报告的事项\n无。\n")
    path = tmp_path / "report.txt"
    path.write_text(text, encoding="utf-8")
    out = _check(str(path))
    assert out["missing"] == [] and _figures(out) == EXPECTED


@pytest.fixture()
def site() -> Iterator[SampleServer]:
    inline = "".join(f"<h2>{t}</h2>" + "".join(f"<p>{b}</p>" for b in body) for t, body in zip(TITLES, BODIES,
                                                                                                 strict=True))
    pages = {
        "/xxgk/ndbg.htm": html(f"<html><body><h1>2024—2025学年信息公开工作年度报告</h1>{inline}"
                               '<p>详见 <a href="/xxgk/list.htm">信息公开专栏</a>、'
                               '<a href="/xxgk/gone.htm">旧专栏</a></p></body></html>'),
        "/xxgk/list.htm": html("<html><body>专栏</body></html>"),
        "/xxgk/attached.htm": html('<html><body><h1>关于发布2024—2025学年信息公开工作年度报告的通知</h1>'
                                   '<p>现予发布，见附件。</p><a href="/xxgk/ndbg.pdf">年度报告.pdf</a></body></html>'),
    }
    lines = ["东湖科技大学2024—2025学年信息公开工作年度报告"]
    for title, body in zip(TITLES, BODIES, strict=True):
        lines += [title, *body]
    pages["/xxgk/ndbg.pdf"] = Resource(pdf_bytes(lines), "application/pdf")
    with SampleServer(pages) as server:
        yield server


def test_an_html_report_inline_and_its_links_checked(site: SampleServer) -> None:
    out = _check(site.url + "/xxgk/ndbg.htm")
    assert out["missing"] == [] and _figures(out) == EXPECTED
    assert out["links"] == {"found": 2, "answering": 1}  # the old column answers 404


def test_a_page_linking_its_report_as_an_attachment(site: SampleServer) -> None:
    out = _check(site.url + "/xxgk/attached.htm")
    assert out["missing"] == [] and _figures(out) == EXPECTED
    unread = run_xxgk("report", "--check", site.url + "/xxgk/nosuch.htm")
    assert unread.returncode == 2 and "HTTP 404" in unread.stderr and "Traceback" not in unread.stderr


def test_the_check_reads_the_draft_it_writes(tmp_path: Path) -> None:
    """The draft `xxgk report` writes has the seven parts as Word headings, and `--check` reads back every
    count it states — the channels' groups and the procurement types, compared with `xxgk stats`."""
    from docx import Document

    folder = tmp_path / "demo"
    done = run_xxgk("demo", "--dir", str(folder), "--no-serve", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    cfg = str(folder / "config.toml")
    stated = set()
    for by in ("group", "type"):
        rows = json.loads(run_xxgk("--config", cfg, "stats", "--year", "2024-2025", "--by", by, "--format",
                                   "json").stdout)["rows"]
        stated |= {(f"{r[by]}发布信息" if by == "group" else r[by], r["count"]) for r in rows if r["count"] and r[by]}
    assert len(stated) >= 12
    for name in ("draft.docx", "draft.md"):
        made = run_xxgk("--config", cfg, "report", "--year", "2024-2025", "-o", str(tmp_path / name))
        assert made.returncode == 0, made.stderr
        out = _check(str(tmp_path / name), "--no-links")
        assert [s["found"] for s in out["sections"]] == [True] * 7, out["sections"]
        assert out["period"] == {"from": "2024-09-01", "to": "2025-08-31"}
        found = {(f["label"], f["value"]) for f in out["figures"] if f["section"] == 2}
        assert stated <= found, stated - found
    parts = [p.text for p in Document(str(tmp_path / "draft.docx")).paragraphs if p.style.name == "Heading 1"]
    assert parts == TITLES


def test_what_only_the_office_knows_comes_from_its_table(tmp_path: Path, store_url: str) -> None:
    facts = tmp_path / "report-facts.csv"
    facts.write_text("学年,部分,内容\n2024-2025,三,本学年共收到信息公开申请 5 件，均已按期答复。\n"
                     "2024-2025,五、因学校信息公开工作受到举报、复议、诉讼的情况,本学年未发生。\n"
                     "2023-2024,三,上一学年的内容不应出现。\n", encoding="gbk")
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\nurl = "{store_url}"\n[report]\nfacts = "report-facts.csv"\nschool = "东湖科技大学"\n',
                   encoding="utf-8")
    assert run_xxgk("--config", str(cfg), "sync").returncode == 0  # a report is drafted from a store
    made = run_xxgk("--config", str(cfg), "report", "--year", "2024-2025", "-o", str(tmp_path / "r.md"))
    assert made.returncode == 0, made.stderr
    md = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert md.startswith("# 东湖科技大学2024—2025学年信息公开工作年度报告")
    assert "本学年共收到信息公开申请 5 件" in md and "本学年未发生。" in md and "上一学年" not in md
    assert md.count("【待填写】") == 4  # parts 一, 四, 六, 七 (and no previous year to compare: no 上学年)
    assert "上学年" not in md
    out = _check(str(tmp_path / "r.md"), "--no-links")
    assert (3, "收到信息公开申请", 5, "件", None) in _figures(out)
    facts.write_text("学年,部分,内容\n2024-2025,第九部分,x\n", encoding="utf-8")
    bad = run_xxgk("--config", str(cfg), "report", "--year", "2024-2025", "-o", str(tmp_path / "r.md"))
    assert bad.returncode == 2 and "第 2 行" in bad.stderr and "Traceback" not in bad.stderr
