"""`xxgk stats`, `coverage`, `report` and `export`: the numbers the office signs, and the posts behind them."""

from __future__ import annotations

import json
import sys
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated

import typer

from aggregator.cli._common import consoles, emit, escape, fail, load, open_store, writable


class StatsFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"
    md = "md"


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    xlsx = "xlsx"


def _needs_file(fmt: Enum, output: Path | None) -> None:
    if output is not None:
        writable(output)  # before any work: a bad path is said at once, with no traceback
    if fmt.value == "xlsx" and output is None:
        fail("xlsx 是二进制文件，请用 -o 指定输出文件，例如 -o 统计.xlsx")


def stats(
    ctx: typer.Context,
    year: Annotated[
        str | None, typer.Option("--year", help="学年，如 2022-2023（9 月 1 日至次年 8 月 31 日）", show_default=False)
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="起始日期（含）", show_default=False)] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="截止日期（含当天全天）", show_default=False)] = None,
    by: Annotated[
        str, typer.Option("--by", help="按哪些维度分组：month,channel,group,category,item,type 的组合")
    ] = "channel",
    fmt: Annotated[
        StatsFormat, typer.Option("--format", help="table / csv（带 BOM）/ json / xlsx / md")
    ] = StatsFormat.table,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="输出文件（xlsx 必须指定）", show_default=False)
    ] = None,
) -> None:
    """统计帖子数与微信阅读数：按月份、渠道、分组、清单类别/事项、采购公告类型。

    例：xxgk stats --year 2022-2023 --by channel,month；xxgk stats --by type --format json；
    xxgk stats --year 2022-2023 --format xlsx -o 2022-2023统计.xlsx
    """
    from aggregator.services.channels import register
    from aggregator.services.platforms import account_sentence, platform_figures, platforms_json, video_sentence
    from aggregator.services.report import channel_names, write_workbook
    from aggregator.services.stats import StatsError, parse_dims, period_of, to_csv, to_markdown
    from aggregator.services.stats import stats as compute_stats

    cfg = load(ctx)
    try:
        period = period_of(year, date_from, date_to)
        dims = parse_dims(by)
    except StatsError as exc:
        fail(str(exc))
    _needs_file(fmt, output)
    with open_store(cfg, create=False) as store:
        register(cfg, store)
        table = compute_stats(store, dims, period, channel_names=channel_names(cfg))
        figures = platform_figures(store, cfg, period)
        if fmt is StatsFormat.xlsx:
            assert output is not None
            write_workbook(store, cfg, period, output, extra=table)
            consoles.err.print(f"已写入 {output}")
            return
    if fmt is StatsFormat.json:
        emit(json.dumps(table.to_json() | platforms_json(figures), ensure_ascii=False) + "\n", output)
    elif fmt is StatsFormat.csv:
        emit(to_csv(table), output)
    elif fmt is StatsFormat.md:
        emit(to_markdown(table), output)
    else:
        from rich.table import Table

        header, rows = table.grid() or table.human_rows()  # by channel and month: the web's grid
        t = Table(*header, title=f"统计（{table.period.label}）")
        for r in rows:  # amounts in 元 with thousands separators, as the office writes them
            t.add_row(*[escape(f"{c:,.2f}" if isinstance(c, float) else str(c)) for c in r])
        consoles.out.print(t)
        for line in [*map(account_sentence, figures.accounts), *map(video_sentence, figures.videos)]:
            consoles.out.print(escape(line))


def coverage(
    ctx: typer.Context,
    year: Annotated[str | None, typer.Option("--year", help="学年，如 2022-2023", show_default=False)] = None,
    fmt: Annotated[StatsFormat, typer.Option("--format", help="table / json / csv / md / xlsx")] = StatsFormat.table,
    output: Annotated[Path | None, typer.Option("-o", "--output", show_default=False)] = None,
) -> None:
    """清单 50 项的公开情况：每项的帖子数与最新发布日期；为 0 的即年报附录中需说明的空缺。

    例：xxgk coverage --year 2022-2023；xxgk coverage --format json
    """
    from aggregator.qingdan import items
    from aggregator.services.report import coverage as item_coverage
    from aggregator.services.report import needs_review, write_coverage_xlsx
    from aggregator.services.stats import StatsError, csv_text, markdown_table, period_of

    cfg = load(ctx)
    try:
        period = period_of(year, None, None)
    except StatsError as exc:
        fail(str(exc))
    _needs_file(fmt, output)
    with open_store(cfg, create=False) as store:
        found = item_coverage(store, period)
        review = needs_review(store, period)
    if fmt is StatsFormat.json:
        emit(json.dumps({"items": [c.to_json() for c in found], "review": review.to_json()}, ensure_ascii=False)
             + "\n", output)
        return
    if fmt is StatsFormat.xlsx:
        assert output is not None
        write_coverage_xlsx(found, period, output)
        consoles.err.print(f"已写入 {output}")
        return
    header = ["事项", "类别", "内容", "条数", "最新发布"]
    rows = [
        [c.item, c.category, items()[c.item].text, c.count, c.latest.date().isoformat() if c.latest else "—"]
        for c in found
    ]
    if fmt in (StatsFormat.csv, StatsFormat.md):
        emit(markdown_table(header, rows, 3) if fmt is StatsFormat.md else csv_text(header, rows), output)
        return
    from rich.table import Table

    missing = [c.item for c in found if c.count == 0]
    t = Table(
        *header, title=f"清单公开情况（{period.label}）：{len(found) - len(missing)} 项有公开，{len(missing)} 项空缺"
    )
    for r in rows:
        t.add_row(*[escape(str(x)) for x in r], style="red" if r[3] == 0 else None)
    consoles.out.print(t)
    if review.count:
        consoles.out.print(f"\n待复核 {review.count} 条（规则与学习模型都没有把握归类；用 xxgk tag 编号 事项 标注）：")
        for p in review.posts[:20]:
            day = p.published_at.date().isoformat() if p.published_at else "日期不明"
            consoles.out.print(escape(f"  {p.id:>6}  {day}  {p.title}"))
        if review.count > 20:
            consoles.out.print(f"  ……另有 {review.count - 20} 条，见 xxgk coverage --format json 或网页的清单覆盖页")


def report(
    ctx: typer.Context,
    year: Annotated[str | None, typer.Option("--year", help="学年，如 2022-2023", show_default=False)] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="报告文件：.md 或 .docx", show_default=False)]
    = None,
    check: Annotated[str | None, typer.Option("--check", help="检查已完成的年度报告：文件（DOCX/PDF/HTML/文本）或网址",
                                              show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="（--check）以 JSON 输出")] = False,
    no_links: Annotated[bool, typer.Option("--no-links", help="（--check）不逐个访问报告中的链接")] = False,
) -> None:
    """生成信息公开年度报告草稿（教育部要求的七个部分：概述、主动公开、依申请公开、评议、举报复议诉讼、
    经验问题与改进、其他；数字来自库中，库中没有的内容读自 [report] facts 表或标“待填写”），
    或用 --check 检查一份已完成的报告：报告期、七个部分是否齐全、所列数字与链接。

    例：xxgk report --year 2022-2023 -o 2022-2023年度报告草稿.docx；xxgk report --check 年度报告.pdf --json
    """
    if check is not None:
        _check_report(ctx, check, as_json, not no_links)
        return
    from aggregator.services.channels import register
    from aggregator.services.report import FactsError, write_report
    from aggregator.services.stats import StatsError, academic_year

    if year is None or output is None:
        fail("生成草稿需要 --year 学年 和 -o 输出文件（.md 或 .docx）；检查已完成的报告用 --check 文件或网址")
    cfg = load(ctx)
    writable(output)
    if output.suffix.lower() not in (".md", ".docx"):
        fail("报告文件名应以 .md 或 .docx 结尾")
    try:
        academic_year(year)
    except StatsError as exc:
        fail(str(exc))
    with open_store(cfg, create=False) as store:
        register(cfg, store)
        try:
            write_report(store, cfg, year, output)
        except FactsError as exc:
            fail(f"{exc}（[report] facts）")
    consoles.err.print(f"已写入 {output}")


def _check_report(ctx: typer.Context, source: str, as_json: bool, links: bool) -> None:
    """`report --check`: exit 0 when all seven parts and the period are there, 1 when any is missing,
    2 when the report could not be read."""
    from aggregator.compliance.annual_report import NUMERALS, PARTS
    from aggregator.config import Config, config_path
    from aggregator.services.reportcheck import ReportUnreadable, check

    named = ctx.obj.get("config") if ctx.obj else None
    cfg = load(ctx) if named or config_path(None).exists() else Config()
    try:
        found = check(cfg, source, links=links)
    except ReportUnreadable as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(found.to_json(), ensure_ascii=False))
    else:
        period = f"{found.period[0]} 至 {found.period[1]}" if found.period else "未找到"
        consoles.out.print(f"报告期：{period}")
        for n, title, _ in PARTS:
            head = found.sections.get(n)
            name = f"{NUMERALS[n - 1]}、{title}"
            shown = f"（{escape(head)}）" if head and head.strip() != name else ""
            consoles.out.print(f"  {'✓' if head else '✗'} {name}{shown}")
        consoles.out.print(f"数字 {len(found.figures)} 个：")
        for f in found.figures:
            value = int(f.value) if f.value == int(f.value) else f.value
            consoles.out.print(escape(f"  [{NUMERALS[f.section - 1] if f.section else '—'}] {f.label}："
                                      f"{f.qualifier or ''}{value} {f.unit}"))
        answering = "未检查" if found.answering is None else f"{found.answering} 个可访问"
        consoles.out.print(f"链接 {len(found.links)} 个（{answering}）")
        for note in found.notes:
            consoles.out.print(escape(note))
        if found.missing:
            consoles.err.print(f"缺少：{'；'.join(found.missing)}")
    if found.missing:
        raise typer.Exit(1)


def export(
    ctx: typer.Context,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="jsonl（默认）、csv（带 BOM，Excel/WPS 可直接打开）或 xlsx")
    ] = ExportFormat.jsonl,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="输出文件（默认标准输出；xlsx 必须指定）", show_default=False)
    ] = None,
    attachments: Annotated[
        bool, typer.Option("--attachments", help="同时列出每条帖子的附件（名称、状态、sha256、大小、类型）")
    ] = False,
) -> None:
    """导出全部帖子及其字段，供其他工具使用。

    例：xxgk export > posts.jsonl；xxgk export --format xlsx -o 全部帖子.xlsx；xxgk export --attachments
    """
    from aggregator.services.export import export as export_posts

    cfg = load(ctx)
    _needs_file(fmt, output)
    with open_store(cfg, create=False) as store:
        if output is None:
            n = export_posts(store, fmt.value, sys.stdout, None, attachments=attachments)
        elif fmt is ExportFormat.xlsx:
            n = export_posts(store, "xlsx", None, str(output), attachments=attachments)
        else:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                n = export_posts(store, fmt.value, fh, None, attachments=attachments)  # type: ignore[arg-type]
    consoles.err.print(f"已导出 {n} 条帖子" + (f" → {output}" if output else ""))


def compliance(
    ctx: typer.Context,
    year: Annotated[str | None, typer.Option("--year", help="学年，如 2023-2024（默认：全部帖子）", show_default=False)]
    = None,
    on: Annotated[str | None, typer.Option("--on", help="按哪一天检查，YYYY-MM-DD（默认今天，北京时间）",
                                           show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """信息公开时限检查：是否按时公开、公示期是否足够、年度报告是否按期；工作日按法定节假日与调休计算。

    规则随包发布，可用 config.toml 的 [compliance] rules 文件覆盖或增补。无论结果如何退出码均为 0。

    例：xxgk compliance --year 2024-2025；xxgk compliance --on 2025-11-01 --json
    """
    from datetime import date

    from aggregator.compliance.check import STATUS_ZH
    from aggregator.services.compliance import academic_year_range, run

    cfg = load(ctx)
    try:
        as_of = date.fromisoformat(on) if on else None
        if year:
            academic_year_range(year)
    except ValueError as exc:
        fail(f"--on 应为 YYYY-MM-DD（收到 {on!r}）" if on and "学年" not in str(exc) else str(exc))
    with open_store(cfg, create=False) as store:
        found = run(cfg, store, year, as_of)
    if as_json:
        print(json.dumps(found.to_json(), ensure_ascii=False))
        return
    from rich.table import Table

    counts = found.counts()
    summary = "，".join(f"{STATUS_ZH[s]} {counts[s]}" for s in STATUS_ZH if counts[s])
    scope = f"截至 {found.as_of}" + (f"，{year} 学年" if year else "")
    table = Table("状态", "规则", "事项", "帖子", "起算日", "期限", "说明",
                  title=f"信息公开时限检查（{scope}）：{summary or '没有适用的帖子'}")
    shown = [f for f in found.findings if f.status not in ("ok", "unknown")]
    for f in shown:
        what = f"{f.post.id} {f.post.title}" if f.post else f"{f.year} 学年"
        table.add_row(STATUS_ZH[f.status], f.rule.id, str(f.item or "—"), escape(what),
                      str(f.basis or "—"), str(f.due or "—"), escape(f.reason))
    consoles.out.print(table)
    if counts["unknown"]:
        consoles.out.print(f"另有 {counts['unknown']} 条无法判断（正文未写明起算日期或公示期等），"
                           "见 xxgk compliance --json 或网页 /compliance")


def register(app: typer.Typer) -> None:
    app.command()(export)
    app.command("stats")(stats)
    app.command("coverage")(coverage)
    app.command("report")(report)
    app.command("compliance")(compliance)
