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
from aggregator.services.stats import Period, Table, academic_year, stats
from connectors.procurement import PROCUREMENT_TYPES
from storage.stats import channel_groups, count_by, item_counts, newest_of_item
from storage.store import Store

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
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
    posts: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "posts": [
            {"id": p["id"], "channel": p["channel_id"], "title": p["title"], "url": p["url"],
             "published_at": p["published_at"].date().isoformat() if p["published_at"] else None}
            for p in self.posts]}


def needs_review(store: Store, period: Period, *, limit: int = 50) -> Review:
    count, posts = store.review_posts(period.start, period.end, limit=limit)
    return Review(count, posts)


# -- workbook -----------------------------------------------------------------------------------


def _sheet(wb: Any, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float],
           chart: tuple[str, int, int] | None = None, totals: bool = True) -> Any:
    """A sheet with a bold frozen header, widths, a bold totals row (the last), and optionally a bar chart
    (title, value column, number of data rows)."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font, PatternFill

    ws = wb.create_sheet(title)
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
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

    # 采购公告类型
    typ = {r["type"]: r["count"] for r in stats(store, ["type"], period).rows if r["type"]}
    rows = [[t, typ.get(t, 0)] for t in PROCUREMENT_TYPES]
    rows.append(["合计", sum(r[1] for r in rows)])
    _sheet(wb, "采购公告类型", ["公告类型", "条数"], rows, [18, 10],
           chart=("政府采购信息公告", 2, len(PROCUREMENT_TYPES)))

    # 微信阅读
    wechat = [ch.id for ch in config.channels if ch.kind == "wechat"]
    wr = stats(store, ["channel"], period, channels=wechat, channel_names=names) if wechat else None
    rows = [[names.get(r["channel"], r["channel"]), r["count"], r["reads"]] for r in (wr.rows if wr else [])]
    rows.append(["合计", sum(r[1] for r in rows), sum(r[2] for r in rows)])
    _sheet(wb, "微信阅读", ["公众号", "推文数", "阅读数"], rows, [28, 10, 12])

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
    return {
        "year": year, "period": period,
        "groups": with_prev(g_now, g_prev, sorted(set(groups_of.values()))),
        "types": with_prev(t_now, t_prev, PROCUREMENT_TYPES),
        "procurement_total": (sum(v[0] for k, v in t_now.items() if k), sum(v[0] for k, v in t_prev.items() if k)
                              if had_before else None),
        "wechat": [(names.get(c, c), w_now.get(c, (0, 0))[0], w_now.get(c, (0, 0))[1],
                    w_prev.get(c, (0, 0))[1] if had_before else None) for c in wechat],
        "admissions": with_prev(g_now, g_prev, admissions),
        "coverage": coverage(store, period, newest=3),
        "compliance": _compliance(store, config, year),
    }


def _compliance(store: Store, config: Config, year: str) -> dict[str, Any]:
    """The year's disclosure-deadline check, as of the day after its annual report fell due (or today)."""
    from aggregator.clock import local_now
    from aggregator.services.compliance import run

    y2 = int(year[5:])
    as_of = min(local_now().date(), date(y2, 11, 1))
    found = run(config, store, year, as_of)
    return {"as_of": as_of, "counts": found.counts(),
            "problems": [f for f in found.findings if f.status in ("late", "short", "missing", "due")]}


def report_markdown(data: dict[str, Any]) -> str:
    year = data["year"]
    lines = [f"# 信息公开年度报告（{year}学年）数据草稿", "",
             f"统计期间：{data['period'].start:%Y年%m月%d日}至{data['period'].end - timedelta(days=1):%Y年%m月%d日}，"
             "按发布时间（北京时间）计。以下数字由 xxgk 自动汇总，请核对后使用。", "",
             "## 一、主动公开情况", "", "### （一）各渠道发布信息", "",
             "| 渠道分组 | 本学年 | 上学年 | 变化 |", "|---|---:|---:|---:|"]
    lines += [f"| {g} | {n} | {'—' if p is None else p} | {c} |" for g, n, p, c in data["groups"]]
    now_total, prev_total = data["procurement_total"]
    lines += ["", "### （二）政府采购信息公告", "",
              f"本学年共发布政府采购信息公告 {now_total} 条"
              + (f"（上学年 {prev_total} 条）。" if prev_total is not None else "。"),
              "", "| 公告类型 | 本学年 | 上学年 | 变化 |", "|---|---:|---:|---:|"]
    lines += [f"| {t} | {n} | {'—' if p is None else p} | {c} |" for t, n, p, c in data["types"]]
    lines += ["", "### （三）微信公众号", ""]
    if data["wechat"]:
        lines += ["| 公众号 | 推文 | 累计阅读量 | 上学年阅读量 |", "|---|---:|---:|---:|"]
        lines += [f"| {n} | {c} | {r} | {'—' if p is None else p} |" for n, c, r, p in data["wechat"]]
        posts, reads = sum(w[1] for w in data["wechat"]), sum(w[2] for w in data["wechat"])
        lines += ["", f"合计推文 {posts} 条，累计阅读量 {reads} 次。"]
    else:
        lines.append("（未配置微信公众号渠道）")
    lines += ["", "### （四）招生信息公开", ""]
    lines += [f"- {g}：{n} 篇（上学年 {'—' if p is None else p}，{c}）"
              for g, n, p, c in data["admissions"]] or ["（无）"]
    lines += _compliance_lines(data["compliance"])
    missing = [c for c in data["coverage"] if c.count == 0]
    lines += ["", "## 附录：《高等学校信息公开事项清单》公开情况", "",
              f"50 项中本学年有公开记录的 {50 - len(missing)} 项，未见公开记录的 {len(missing)} 项"
              + (f"（第 {'、'.join(str(c.item) for c in missing)} 项，需说明）。" if missing else "。"), "",
              "| 事项 | 类别 | 内容 | 条数 | 最新发布 |", "|---:|---|---|---:|---|"]
    items = qingdan_items()
    for c in data["coverage"]:
        links = "；".join(f"[{p['title']}]({p['url']})" if p["url"] else p["title"] for p in c.newest) or "—"
        lines.append(f"| {c.item} | {CATEGORY_NAMES[c.category]} | {items[c.item].text} | {c.count} | {links} |")
    return "\n".join(lines) + "\n"


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
                    table.cell(i, j).text = _LINK.sub(r"\1", text)
            continue
        for ln in lines:
            if ln.startswith("#"):
                level = len(ln) - len(ln.lstrip("#"))
                doc.add_heading(ln.lstrip("# "), level=min(level, 3))
            elif ln.startswith("- "):
                doc.add_paragraph(ln[2:], style="List Bullet")
            else:
                doc.add_paragraph(ln)
    doc.save(str(path))
