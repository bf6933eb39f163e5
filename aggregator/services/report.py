"""Spreadsheets, 清单 coverage and the annual report's draft numbers.

- `write_workbook`: one XLSX per period, a sheet per view (渠道×月份, 清单类别,
  采购公告类型, 微信阅读), Chinese headers, totals, widths, frozen headers and
  Excel's own bar charts embedded — it opens cleanly in Excel and WPS.
- `export_month`: what the scheduler runs on the 1st: last month to
  `exports/YYYY-MM.xlsx` (re-running rewrites the same file).
- `coverage`: each of the 50 清单 items with its count and newest date.
- `write_report`: the 主动公开情况 numbers in the report's own form, with the
  change against the previous academic year, and the 清单 appendix (MD or DOCX).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from aggregator.clock import local_now
from aggregator.config import Config
from aggregator.qingdan import items as qingdan_items
from aggregator.services.platforms import (
    Platforms,
    account_sentence,
    follower_months,
    platform_figures,
    video_sentence,
)
from aggregator.services.stats import Period, Table, academic_year, stats
from connectors.procurement import PROCUREMENT_TYPES
from storage.records import PostRef
from storage.stats import channel_groups, count_by, item_counts, newest_of_item
from storage.store import Store

_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
CATEGORY_NAMES = {1: "基本信息", 2: "招生考试信息", 3: "财务、资产及收费信息", 4: "人事师资信息", 5: "教学质量信息",
                  6: "学生管理服务信息", 7: "学风建设信息", 8: "学位、学科信息", 9: "对外交流与合作信息", 10: "其他"}


def channel_names(config: Config) -> dict[str, str]:
    return {ch.id: ch.display_name for ch in config.channels}


# -- coverage ------------------------------------------------------------------------------------


@dataclass(slots=True)
class ItemCoverage:
    item: int
    category: int
    count: int
    latest: datetime | None
    newest: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item, "category": self.category, "count": self.count,
                "latest": self.latest.date().isoformat() if self.latest else None}


def coverage(store: Store, period: Period, *, newest: int = 0) -> list[ItemCoverage]:
    """All 50 items, in order, with count and newest date in the period (gaps have 0/None)."""
    numbers = list(qingdan_items())
    found = item_counts(store, numbers, period.start, period.end)
    out = []
    for number, it in qingdan_items().items():
        n, latest = found.get(number, (0, None))
        links = newest_of_item(store, number, period.start, period.end, newest) if newest and n else []
        out.append(ItemCoverage(number, it.category, n, latest, links))
    return out


@dataclass(slots=True)
class Review:
    """Posts of the period that neither the rules nor the model could tag: the office's to-do."""

    count: int
    posts: list[PostRef]

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "posts": [
            {"id": p.id, "channel": p.channel_id, "title": p.title, "url": p.url,
             "published_at": p.published_at.date().isoformat() if p.published_at else None}
            for p in self.posts]}


def needs_review(store: Store, period: Period, *, limit: int = 50) -> Review:
    count, posts = store.posts.review(period.start, period.end, limit=limit)
    return Review(count, posts)


# -- workbook -----------------------------------------------------------------------------------


def _sheet(wb: Any, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float],
           chart: tuple[str, int, int] | None = None, totals: bool = True) -> Any:
    """A sheet with a bold frozen header, widths, a bold totals row (the last), and optionally a bar chart
    (title, value column, number of data rows)."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font, PatternFill

    from aggregator.services.sheets import filters, xlsx_rows

    ws = wb.create_sheet(title)
    ws.append(list(header))
    xlsx_rows(ws, rows)  # a channel or a title that looks like a formula stays text
    filters(ws, len(header), len(rows))
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for cell in ws[ws.max_row] if totals else ():
        cell.font = bold
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = w
    ws.freeze_panes = "B2"
    if chart and chart[2] > 0:
        title_, col, n = chart
        bar = BarChart()
        bar.title, bar.y_axis.title = title_, "条数"
        bar.add_data(Reference(ws, min_col=col, min_row=1, max_row=n + 1), titles_from_data=True)
        bar.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
        bar.height, bar.width = 9, 18
        ws.add_chart(bar, f"{ws.cell(1, len(header) + 2).column_letter}2")
    return ws


def write_workbook(store: Store, config: Config, period: Period, path: Path, extra: Table | None = None) -> Path:
    """The office's spreadsheet for `period` (see the module docstring)."""
    from openpyxl import Workbook

    names = channel_names(config)
    wb = Workbook()
    wb.remove(wb.active)
    if extra is not None:
        header, rows = extra.human_rows()
        _sheet(wb, "统计", header, rows, [16] * len(extra.dims) + [10, 10])

    # 渠道 × 月份
    cm = stats(store, ["channel", "month"], period, channel_names=names)
    months = sorted({r["month"] for r in cm.rows if r["month"]})
    chans = sorted({r["channel"] for r in cm.rows})
    cell = {(r["channel"], r["month"]): r["count"] for r in cm.rows}
    rows = [[names.get(c, c), *[cell.get((c, m), 0) for m in months], sum(cell.get((c, m), 0) for m in months)]
            for c in chans]
    rows.append(["合计", *[sum(cell.get((c, m), 0) for c in chans) for m in months], sum(r[-1] for r in rows)])
    _sheet(wb, "渠道×月份", ["渠道", *months, "合计"], rows, [30] + [9] * len(months) + [10],
           chart=("各渠道帖子数", len(months) + 2, len(chans)))

    # 清单类别
    cat = {r["category"]: r["count"] for r in stats(store, ["category"], period).rows}
    rows = [[f"{n}. {CATEGORY_NAMES[n]}", cat.get(n, 0)] for n in range(1, 11)]
    rows.append(["非清单信息", cat.get(None, 0)])
    rows.append(["合计", sum(r[1] for r in rows)])
    _sheet(wb, "清单类别", ["清单类别", "帖子数"], rows, [28, 10], chart=("按清单类别", 2, 10))

    _procurement_sheets(wb, store, period)

    _wechat_sheets(wb, store, config, period)

    info = wb.create_sheet("说明")
    info.append(["统计期间", period.label])
    info.append(["起", period.start])
    info.append(["止（不含）", period.end])
    info.append(["生成时间", local_now()])
    info.append(["口径", "按发布时间（北京时间）计；阅读数为最新导出文件中的数"])
    for row in info.iter_rows(min_row=2, max_row=4, min_col=2, max_col=2):
        for c in row:
            c.number_format = "yyyy-mm-dd hh:mm"
    info.column_dimensions["A"].width, info.column_dimensions["B"].width = 14, 40
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _wechat_sheets(wb: Any, store: Store, config: Config, period: Period) -> None:
    """微信阅读 (articles and reads per account), 视频号 (videos and views) and 公众号关注人数 (the
    followers series, month by month, from each account's「用户增长」export)."""
    names = channel_names(config)
    figures = platform_figures(store, config, period)
    wechat = [ch.id for ch in config.channels if ch.kind == "wechat" and ch.id not in figures.video_channels]
    wr = stats(store, ["channel"], period, channels=wechat, channel_names=names) if wechat else None
    rows = [[names.get(r["channel"], r["channel"]), r["count"], r["reads"]] for r in (wr.rows if wr else [])]
    rows.append(["合计", sum(r[1] for r in rows), sum(r[2] for r in rows)])
    _sheet(wb, "微信阅读", ["公众号", "推文数", "阅读数"], rows, [28, 10, 12])
    if figures.videos:
        rows = [[v.name, v.videos, v.views, v.likes] for v in figures.videos]
        rows.append(["合计", *[sum(r[i] for r in rows) for i in (1, 2, 3)]])
        _sheet(wb, "视频号", ["视频号", "视频数", "播放量", "喜欢"], rows, [28, 10, 12, 10])
    series = [(a, follower_months(store, a.channel, period)) for a in figures.accounts]
    if any(months for _, months in series):
        rows = [[a.name, m, followers, gained, lost, gained - lost] for a, months in series
                for m, followers, gained, lost in months]
        _sheet(wb, "公众号关注人数", ["公众号", "月份", "月末累积关注人数", "新关注人数", "取消关注人数", "净增"],
               rows, [24, 10, 18, 12, 12, 10])


def _procurement_sheets(wb: Any, store: Store, period: Period) -> None:
    """采购公告类型 (count and the amounts stated, per type) and 采购金额按月 (per month): a sum is of what
    the announcements state; a blank cell is an amount no announcement of the row stated."""
    from aggregator.services.procurement import amounts_by_month, amounts_by_type, total

    for title, rows, first, chart in (("采购公告类型", amounts_by_type(store, period), "公告类型", True),
                                      ("采购金额按月", amounts_by_month(store, period), "月份", False)):
        header = [first, "条数", "预算金额合计（元）", "中标/成交金额合计（元）"]
        ws = _sheet(wb, title, header, [r.cells() for r in [*rows, total(rows)]], [18, 10, 20, 22],
                    chart=("政府采购信息公告", 2, len(rows)) if chart else None)
        _amount_format(ws, (3, 4))


def _amount_format(ws: Any, columns: Sequence[int]) -> None:
    for col in columns:
        for row in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            row[0].number_format = "#,##0.00"


def write_coverage_xlsx(found: Sequence[ItemCoverage], period: Period, path: Path) -> Path:
    """The 清单 appendix as a spreadsheet: one row per item, newest date as a date."""
    from openpyxl import Workbook

    items = qingdan_items()
    wb = Workbook()
    wb.remove(wb.active)
    rows = [[c.item, CATEGORY_NAMES[c.category], items[c.item].text, c.count, c.latest] for c in found]
    ws = _sheet(wb, "清单公开情况", ["事项", "类别", "内容", "条数", "最新发布"], rows, [6, 18, 60, 8, 18],
                totals=False)
    for (cell,) in ws.iter_rows(min_row=2, min_col=5, max_col=5):
        cell.number_format = "yyyy-mm-dd"
    ws.cell(1, 7, period.label)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_coverage_docx(found: Sequence[ItemCoverage], period: Period, path: Path) -> Path:
    """The 清单 appendix as a Word table (for the annual report's appendix): one row per item, the
    items with nothing published marked, and how many there are."""
    from docx import Document
    from docx.oxml.ns import qn

    items = qingdan_items()
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "宋体"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    doc.add_heading(f"清单事项公开情况（{period.label}）", level=1)
    gaps = sum(1 for c in found if not c.count)
    doc.add_paragraph(f"50 项中 {len(found) - gaps} 项有发布，{gaps} 项本期没有发布（年度报告中需说明原因）。")
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ["事项", "类别", "内容", "条数", "最新发布"], strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for c in found:
        cells = table.add_row().cells
        for cell, text in zip(cells, [str(c.item), CATEGORY_NAMES[c.category], items[c.item].text, str(c.count),
                                      c.latest.strftime("%Y-%m-%d") if c.latest else "本期未发布"], strict=True):
            cell.text = text
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def previous_month(today: date) -> str:
    first = today.replace(day=1)
    last = first - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def month_period(month: str) -> Period:
    y, m = (int(x) for x in month.split("-"))
    start = datetime(y, m, 1)
    end = datetime(y + (m == 12), m % 12 + 1, 1)
    return Period(start, end, f"{y}年{m}月")


def export_month(store: Store, config: Config, folder: Path, month: str) -> Path:
    """Write `folder/YYYY-MM.xlsx` for that month; running it again rewrites the same file."""
    return write_workbook(store, config, month_period(month), folder / f"{month}.xlsx")


# -- the annual report ---------------------------------------------------------------------------


def _change(now: int, before: int | None) -> str:
    if before is None:
        return "—"
    if before == 0:
        return "新增" if now else "持平"
    pct = (now - before) / before * 100
    return f"{'+' if pct >= 0 else ''}{pct:.1f}%"


def report_data(store: Store, config: Config, year: str) -> dict[str, Any]:
    period = academic_year(year)
    y = int(year[:4])
    prev = academic_year(f"{y - 1}-{y}")
    names = channel_names(config)

    def counts(p: Period, dims: list[str], channels: Sequence[str] | None = None) -> dict[Any, tuple[int, int]]:
        t = stats(store, dims, p, channels=channels)
        return {r[dims[0]]: (r["count"], r["reads"]) for r in t.rows}

    had_before = bool(count_by(store, [], None, period.start).get((), (0, 0))[0])
    groups_of = channel_groups(store)

    def with_prev(now: dict[Any, tuple[int, int]], before: dict[Any, tuple[int, int]], keys: Sequence[Any]
                  ) -> list[tuple[Any, int, int | None, str]]:
        return [(k, now.get(k, (0, 0))[0], before.get(k, (0, 0))[0] if had_before else None,
                 _change(now.get(k, (0, 0))[0], before.get(k, (0, 0))[0] if had_before else None)) for k in keys]

    g_now, g_prev = counts(period, ["group"]), counts(prev, ["group"])
    t_now, t_prev = counts(period, ["type"]), counts(prev, ["type"])
    wechat = [ch.id for ch in config.channels if ch.kind == "wechat"]
    w_now = counts(period, ["channel"], wechat) if wechat else {}
    w_prev = counts(prev, ["channel"], wechat) if wechat else {}
    admissions = sorted({g for g in groups_of.values() if "招生" in g})
    platforms = platform_figures(store, config, period)
    total_now = sum(v[0] for v in g_now.values())
    return {
        "year": year, "period": period, "had_before": had_before, "school": config.report.school,
        "total": (total_now, sum(v[0] for v in g_prev.values()) if had_before else None),
        "groups": with_prev(g_now, g_prev, sorted(set(groups_of.values()))),
        "types": with_prev(t_now, t_prev, PROCUREMENT_TYPES),
        "procurement_total": (sum(v[0] for k, v in t_now.items() if k), sum(v[0] for k, v in t_prev.items() if k)
                              if had_before else None),
        "wechat": [(names.get(c, c), w_now.get(c, (0, 0))[0], w_now.get(c, (0, 0))[1],
                    w_prev.get(c, (0, 0))[1] if had_before else None)
                   for c in wechat if c not in platforms.video_channels],
        "platforms": platforms, "wechat_channels": wechat,
        "admissions": with_prev(g_now, g_prev, admissions),
        "coverage": coverage(store, period, newest=3),
        "compliance": _compliance(store, config, year),
        "facts": office_facts(Path(config.report.facts), year) if config.report.facts else {},
    }


def _compliance(store: Store, config: Config, year: str) -> dict[str, Any]:
    """The year's disclosure-deadline check, as of the day after its annual report fell due (or today)."""
    from aggregator.services.compliance import run

    y2 = int(year[5:])
    as_of = min(local_now().date(), date(y2, 11, 1))
    found = run(config, store, year, as_of)
    return {"as_of": as_of, "counts": found.counts(),
            "problems": [f for f in found.findings if f.status in ("late", "short", "missing", "due")]}


class FactsError(ValueError):
    """The office's facts table could not be read (the message names the file, the row and what to fix)."""


def office_facts(path: Path, year: str) -> dict[int, list[str]]:
    """What only the office knows, by part (1–7), from its table: rows of 学年, 部分, 内容 (CSV in
    UTF-8 or GBK, or the first sheet of an XLSX). 部分 is the part's number (三, 3) or its title."""
    from aggregator.compliance.annual_report import part_named

    rows = _table_rows(path)
    if not rows:
        return {}
    header = [str(c or "").strip() for c in rows[0]]
    try:
        cols = [header.index(name) for name in ("学年", "部分", "内容")]
    except ValueError:
        raise FactsError(f"{path}：第一行应为列名 学年、部分、内容（收到 {'、'.join(header)}）") from None
    out: dict[int, list[str]] = {}
    for number, row in enumerate(rows[1:], start=2):
        cells = [str(row[i]).strip() if i < len(row) and row[i] is not None else "" for i in cols]
        if not any(cells) or cells[0].replace("—", "-").replace(" ", "") != year:
            continue
        part = part_named(cells[1])
        if part is None:
            raise FactsError(f"{path}：第 {number} 行的“部分”{cells[1]!r} 不是七个部分之一（写 一…七 或部分名称）")
        if cells[2]:
            out.setdefault(part, []).append(cells[2])
    return out


def _table_rows(path: Path) -> list[list[Any]]:
    if not path.exists():
        raise FactsError(f"{path}：找不到 [report] facts 指定的文件")
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        finally:
            wb.close()
    import csv
    import io

    raw = path.read_bytes()
    for codec in ("utf-8-sig", "gb18030"):
        try:
            return list(csv.reader(io.StringIO(raw.decode(codec))))
        except UnicodeDecodeError:
            continue
    raise FactsError(f"{path}：编码无法识别（请存为 UTF-8 或 GBK 的 CSV，或 XLSX）")


_TODO = {
    1: "学校信息公开工作的总体情况：组织机构与制度建设、主要举措与成效",
    3: "收到信息公开申请的件数、办理结果（予以公开、部分公开、不予公开及其理由）、收费情况",
    4: "师生员工和社会公众对学校信息公开工作的评议情况",
    5: "因信息公开工作受到举报、申请行政复议、提起行政诉讼的件数及处理结果；没有则写“本学年未发生”",
    6: "主要经验、存在的问题和改进措施",
    7: "其他需要报告的事项；没有则写“无”",
}


def _office(data: dict[str, Any], part: int) -> list[str]:
    """The office's own text for a part, else 「待填写」 with what the part must say — never invented."""
    said = data["facts"].get(part)
    return list(said) if said else [f"【待填写】{_TODO[part]}。"]


def versus(now: int, before: int | None, unit: str) -> str:
    """`（上学年 80 条，增长 12.5%）`, or nothing when there is no previous year to compare."""
    if before is None:
        return ""
    change = _change(now, before)
    word = {"新增": "上学年为 0", "持平": "持平"}.get(change) or (f"增长 {change[1:]}" if change.startswith("+")
                                                           else f"减少 {change[1:]}")
    return f"（上学年 {before} {unit}，{word}）"


def _table(header: list[str], rows: list[list[Any]], had_before: bool) -> list[str]:
    """A Markdown table; the 上学年 and 变化 columns only when there is a previous year."""
    keep = [i for i, h in enumerate(header) if had_before or h not in ("上学年", "变化", "上学年阅读量")]
    head = [header[i] for i in keep]
    rule = "|".join("---" if i == 0 else "---:" for i in range(len(head)))
    lines = ["| " + " | ".join(head) + " |", f"|{rule}|"]
    lines += ["| " + " | ".join(str(r[i]) for i in keep) + " |" for r in rows]
    return lines


def report_markdown(data: dict[str, Any]) -> str:
    """The draft in the Ministry's seven parts (教办厅函〔2018〕80号)."""
    year, period, had_before = data["year"], data["period"], data["had_before"]
    span = year.replace("-", "—")
    last = period.end - timedelta(days=1)
    total_now, total_prev = data["total"]
    lines = [f"# {data['school']}{span}学年信息公开工作年度报告（草稿）", "",
             f"报告期为{period.start:%Y年%-m月%-d日}至{last:%Y年%-m月%-d日}。本草稿的数字由 xxgk 按发布时间（北京时间）"
             "从各渠道汇总，请核对后使用；标「待填写」处为库中没有、须由学校填写的内容。", "",
             "## 一、概述", "", *_office(data, 1), "",
             f"本学年学校通过各渠道主动公开信息 {total_now} 条{versus(total_now, total_prev, '条')}。", "",
             "## 二、主动公开情况", "", "### （一）各渠道发布信息", ""]
    parts = [f"{g}发布信息 {n} 条" for g, n, _, _ in data["groups"] if n]
    lines += [f"本学年各渠道共主动公开信息 {total_now} 条，其中" + "，".join(parts) + "。" if parts
              else "本学年各渠道没有发布记录。", ""]
    lines += _table(["渠道分组", "本学年", "上学年", "变化"], [[g, n, "—" if p is None else p, c]
                                                          for g, n, p, c in data["groups"]], had_before)
    now_total, prev_total = data["procurement_total"]
    by_type = [f"{t} {n} 条" for t, n, _, _ in data["types"] if n]
    lines += ["", "### （二）政府采购信息公告", "",
              f"本学年共发布政府采购信息公告 {now_total} 条{versus(now_total, prev_total, '条')}"
              + (f"，其中{'，'.join(by_type)}。" if by_type else "。"), ""]
    lines += _table(["公告类型", "本学年", "上学年", "变化"], [[t, n, "—" if p is None else p, c]
                                                          for t, n, p, c in data["types"]], had_before)
    lines += ["", "### （三）微信公众号", ""]
    for name, count, reads, before in data["wechat"]:
        lines.append(f"{name}推送推文 {count} 篇，累计阅读量 {reads} 次"
                     + (f"（上学年阅读量 {before} 次）。" if before is not None else "。"))
    platforms = data["platforms"]
    if data["wechat"] or platforms.accounts or platforms.videos or data["wechat_channels"]:
        lines += _platform_lines(platforms)
    else:
        lines.append("（未配置微信公众号渠道）")
    lines += ["", "### （四）招生信息公开", ""]
    lines += [f"{g}发布招生信息 {n} 条{versus(n, p, '条')}。" for g, n, p, _ in data["admissions"]] or ["（无）"]
    lines += _compliance_lines(data["compliance"])
    missing = [c for c in data["coverage"] if c.count == 0]
    lines += ["", "### （六）《高等学校信息公开事项清单》公开情况", "",
              f"清单 50 项中本学年有公开记录的 {50 - len(missing)} 项，未见公开记录的 {len(missing)} 项"
              + (f"（第 {'、'.join(str(c.item) for c in missing)} 项，需逐项说明）。" if missing else "。"), "",
              "| 事项 | 类别 | 内容 | 条数 | 最新发布 | 栏目链接 |", "|---:|---|---|---:|---|---|"]
    items = qingdan_items()
    for c in data["coverage"]:
        newest = c.newest[0] if c.newest else None
        link = f"[{newest['title']}]({newest['url']})" if newest and newest.get("url") else "—"
        day = c.latest.date().isoformat() if c.latest else "—"
        lines.append(f"| {c.item} | {CATEGORY_NAMES[c.category]} | {items[c.item].text} | {c.count} | {day} | {link} |")
    from aggregator.compliance.annual_report import NUMERALS, PARTS

    for part, title, _ in PARTS[2:]:
        lines += ["", f"## {NUMERALS[part - 1]}、{title}", "", *_office(data, part)]
    return "\n".join(lines) + "\n"


def _platform_lines(p: Platforms) -> list[str]:
    """Followers and 视频号 figures from the platforms' own exports; what no export covers is asked for."""
    lines = [f"{account_sentence(a)}。" for a in p.accounts] + [f"{video_sentence(v)}。" for v in p.videos]
    asks = (("公众号关注人数（请把公众号后台「用户分析 → 用户增长」的导出放进公众号渠道的文件夹）", p.accounts),
            ("视频号作品数与播放量（请把视频号助手「数据中心 → 动态数据」的导出放进一个 wechat 渠道的文件夹）",
             p.videos))
    missing = [what for what, have in asks if not have]
    return ["", *lines, *[f"【待填写】{m}。" for m in missing]] if lines or missing else []


def _compliance_lines(c: dict[str, Any]) -> list[str]:
    from aggregator.compliance.check import STATUS_ZH

    counts = c["counts"]
    summary = "，".join(f"{STATUS_ZH[s]} {counts[s]} 项" for s in STATUS_ZH if counts[s]) or "没有适用规则的帖子"
    lines = ["", "### （五）公开时限", "",
             f"按信息公开时限规则检查（截至 {c['as_of']}，工作日按法定节假日与调休计）：{summary}。"]
    if c["problems"]:
        lines += ["", "| 状态 | 帖子 | 起算日 | 期限 | 说明 |", "|---|---|---|---|---|"]
        for f in c["problems"]:
            what = f.post.title if f.post else f"{f.year} 学年 清单第 {f.item} 项"
            lines.append(f"| {STATUS_ZH[f.status]} | {what} | {f.basis or '—'} | {f.due or '—'} | {f.reason} |")
    return lines


def write_report(store: Store, config: Config, year: str, path: Path) -> Path:
    data = report_data(store, config, year)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".docx":
        _write_docx(data, path)
    else:
        path.write_text(report_markdown(data), encoding="utf-8")
    return path


def _write_docx(data: dict[str, Any], path: Path) -> None:
    """The same content as the Markdown, as a Word document the office can edit."""
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "宋体"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    for block in report_markdown(data).split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        if not lines:
            continue
        if lines[0].startswith("|"):
            rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines if not set(ln) <= set("|-: ")]
            table = doc.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for i, row in enumerate(rows):
                for j, text in enumerate(row):
                    table.cell(i, j).text = _LINK.sub(r"\1（\2）", text)  # the link stays readable in Word
            continue
        for ln in lines:
            if ln.startswith("#"):
                # '#' the title, '##' the seven parts (Heading 1), '###' their sections: Word's navigation pane
                level = len(ln) - len(ln.lstrip("#"))
                doc.add_heading(ln.lstrip("# "), level=min(level - 1, 3))
            elif ln.startswith("- "):
                doc.add_paragraph(ln[2:], style="List Bullet")
            else:
                doc.add_paragraph(ln)
    doc.save(str(path))
