"""The `xxgk` command (DESIGN.md's CLI contract). Thin: every command calls the
same functions the web pages and the scheduler use.

Output goes to standard output; progress and messages to standard error, so
`--json` output is always pure JSON.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import sqlalchemy as sa
import typer
from apscheduler.triggers.cron import CronTrigger
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress as RichProgress
from rich.progress import SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from aggregator import __version__
from aggregator.classify import Classification
from aggregator.config import (
    TIMEZONE,
    ChannelConfig,
    Config,
    ConfigError,
    classifier_for,
    load_config,
)
from aggregator.export import export as export_posts
from aggregator.pipeline import Progress, RunResult, UnknownChannel, channel_record
from aggregator.pipeline import reclassify as run_reclassify
from aggregator.pipeline import sync as run_sync
from aggregator.qingdan import category_of
from aggregator.qingdan import items as _qingdan_items
from aggregator.report import channel_names, write_coverage_xlsx, write_report, write_workbook
from aggregator.report import coverage as item_coverage
from aggregator.search import SearchError
from aggregator.search import search as run_search
from aggregator.stats import StatsError, academic_year, csv_text, markdown_table, parse_dims, period_of
from aggregator.stats import stats as compute_stats
from aggregator.stats import to_csv as stats_csv
from aggregator.stats import to_markdown as stats_md
from storage.engine import StoreError
from storage.store import Store
from storage.times import SHANGHAI, iso_local

app = typer.Typer(
    help="xxgk — 高校信息公开聚合：同步各渠道发布、按清单归类、检索与统计。",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _Consoles:
    """Rich consoles made on first use, so they write to whatever stdout/stderr
    are then; when output is not a terminal (a pipe, a log file, cron mail)
    tables are laid out wide instead of being cut at 80 columns."""

    @staticmethod
    def make(stderr: bool) -> Console:
        stream = sys.stderr if stderr else sys.stdout
        width = None if stream.isatty() else 250
        return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)

    @property
    def err(self) -> Console:
        return self.make(True)

    @property
    def out(self) -> Console:
        return self.make(False)


_c = _Consoles()

STATUS_ZH = {"ok": "成功", "partial": "部分成功", "failed": "失败", "interrupted": "中断", "running": "进行中"}


def _fail(message: str, code: int = 2) -> NoReturn:
    _c.err.print(f"[red]错误：[/red]{escape(message)}")
    raise typer.Exit(code)


def _config(ctx: typer.Context) -> Config:
    try:
        return load_config(ctx.obj.get("config"))
    except ConfigError as exc:
        _c.err.print(f"[red]配置文件有误，xxgk 未启动（{len(exc.problems)} 处）：[/red]")
        for line in exc.problems:
            _c.err.print(f"  - {escape(line)}")
        raise typer.Exit(2) from None


def _safe_url(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _store(cfg: Config) -> Store:
    try:
        return Store.open(cfg.store.url)
    except (sa.exc.SQLAlchemyError, StoreError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        _fail(
            f"无法打开数据库 {_safe_url(cfg.store.url)}（{reason}）。"
            f"请检查 {cfg.source} 中 [store] url，或数据库服务是否在运行。"
        )


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="配置文件（默认 $XXGK_CONFIG，否则 ./config.toml）", show_default=False),
    ] = None,
    version: Annotated[bool, typer.Option("--version", help="显示版本号")] = False,
) -> None:
    """xxgk — 高校信息公开聚合。"""
    if version:
        _c.out.print(f"xxgk-aggregator {__version__}")
        raise typer.Exit(0)
    ctx.obj = {"config": config}


# -- sync ------------------------------------------------------------------------


class _PlainProgress:
    """One line per channel start/finish, and a line every few seconds on long syncs."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def __call__(self, p: Progress) -> None:
        ch, c = p.channel, p.counts
        if p.event == "start":
            self._last[ch.id] = time.monotonic()
            _c.err.print(f"\\[{ch.id}] 开始同步 {escape(ch.display_name)}…")
        elif p.event == "progress":
            if time.monotonic() - self._last.get(ch.id, 0) >= 2:
                self._last[ch.id] = time.monotonic()
                _c.err.print(f"\\[{ch.id}] 已获取 {c.fetched}，新增 {c.new}，更新 {c.updated}")
        elif p.result is not None:
            _c.err.print(f"\\[{ch.id}] {_result_line(p.result)}")


class _RichProgress:
    def __init__(self, bar: RichProgress) -> None:
        self.bar = bar
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, p: Progress) -> None:
        ch, c = p.channel, p.counts
        fields = {"fetched": c.fetched, "new": c.new, "updated": c.updated}
        if ch.id not in self.tasks:
            self.tasks[ch.id] = self.bar.add_task(escape(f"{ch.id} {ch.display_name}"), total=None, **fields)
        task = self.tasks[ch.id]
        if p.event == "done" and p.result is not None:
            mark = {"ok": "[green]✓[/]", "partial": "[yellow]![/]"}.get(p.result.status, "[red]✗[/]")
            self.bar.update(task, description=f"{mark} {escape(ch.id)} {escape(ch.display_name)}", total=1, completed=1, **fields)
        else:
            self.bar.update(task, **fields)


def _result_line(r: RunResult) -> str:
    line = (
        f"{STATUS_ZH.get(r.status, r.status)}：获取 {r.fetched}，新增 {r.new}，更新 {r.updated}，"
        f"请求 {r.requests} 次（{r.seconds:.1f} 秒）"
    )
    return f"{line}\n    {escape(r.error)}" if r.error else line


@app.command()
def sync(
    ctx: typer.Context,
    ids: Annotated[list[str] | None, typer.Argument(help="要同步的渠道 id（默认：全部启用的渠道）", show_default=False)] = None,
    full: Annotated[bool, typer.Option("--full", help="完整回溯：遍历所有列表页，而不是遇到已知帖子就停")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果")] = False,
) -> None:
    """同步渠道：抓取新帖子并入库。任一渠道失败或部分成功时退出码为 1（其余渠道照常入库）。

    例：xxgk sync；xxgk sync portal-notices --full；xxgk sync --json
    """
    cfg = _config(ctx)
    store = _store(cfg)
    try:
        if sys.stderr.isatty() and not as_json:
            columns = (
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("获取 {task.fields[fetched]} · 新增 {task.fields[new]} · 更新 {task.fields[updated]}"),
                TimeElapsedColumn(),
            )
            with RichProgress(*columns, console=_c.err) as bar:
                results = run_sync(cfg, store, ids or (), full=full, on_progress=_RichProgress(bar))
        else:
            results = run_sync(cfg, store, ids or (), full=full, on_progress=_PlainProgress())
    except UnknownChannel as exc:
        _fail(str(exc.args[0]))
    finally:
        store.close()
    if as_json:
        print(json.dumps({"channels": [r.to_json() for r in results]}, ensure_ascii=False))
    else:
        table = Table("渠道", "状态", "获取", "新增", "更新", "请求", "错误", title="同步结果")
        for r in results:
            colour = {"ok": "green", "partial": "yellow"}.get(r.status, "red")
            table.add_row(
                r.id, f"[{colour}]{STATUS_ZH[r.status]}[/]", str(r.fetched), str(r.new), str(r.updated),
                str(r.requests), escape(r.error or ""),
            )
        _c.out.print(table)
    if any(r.status != "ok" for r in results):
        raise typer.Exit(1)


# -- channels --------------------------------------------------------------------


def next_run(ch: ChannelConfig, now: datetime | None = None) -> datetime | None:
    """When the scheduler will next sync the channel (None when disabled)."""
    if not ch.enabled:
        return None
    trigger = CronTrigger.from_crontab(ch.schedule, timezone=TIMEZONE)
    now = now or datetime.now(SHANGHAI)
    nxt = trigger.get_next_fire_time(None, now)
    return None if nxt is None else nxt.astimezone(SHANGHAI)


@app.command()
def channels(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """列出所有渠道：上次同步、状态、错误、帖子数、下次运行时间。

    例：xxgk channels；xxgk --config /etc/xxgk/config.toml channels --json
    """
    cfg = _config(ctx)
    store = _store(cfg)
    try:
        store.register_channels(channel_record(ch) for ch in cfg.channels)
        overview = {o.id: o for o in store.channel_overview()}
    finally:
        store.close()
    rows: list[dict[str, Any]] = []
    for ch in cfg.channels:
        o = overview[ch.id]
        nxt = next_run(ch)
        rows.append(
            {
                "id": ch.id,
                "name": ch.display_name,
                "kind": ch.kind,
                "group": ch.group_name,
                "source": ch.url or ch.path,
                "enabled": ch.enabled,
                "schedule": ch.schedule,
                "posts": o.posts,
                "last_sync": iso_local(o.last_run_finished or o.last_run_started),
                "last_success": iso_local(o.last_ok),
                "status": o.last_run_status,
                "error": o.last_error,
                "next_run": nxt.isoformat(timespec="seconds") if nxt else None,
            }
        )
    if as_json:
        print(json.dumps({"channels": rows}, ensure_ascii=False))
        return
    table = Table("id", "名称", "类型", "分组", "帖子数", "上次同步", "状态", "下次运行", "错误", title=f"渠道（{cfg.source}）")
    for r in rows:
        status = STATUS_ZH.get(r["status"], "从未同步") if r["status"] else "从未同步"
        if not r["enabled"]:
            status += "（已停用）"
        table.add_row(
            r["id"], escape(r["name"]), r["kind"], escape(r["group"]), str(r["posts"]),
            (r["last_sync"] or "—")[:16].replace("T", " "), status,
            (r["next_run"] or "—")[:16].replace("T", " "), escape(r["error"] or ""),
        )
    _c.out.print(table)


# -- export ----------------------------------------------------------------------


class ExportFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"
    xlsx = "xlsx"


@app.command()
def export(
    ctx: typer.Context,
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="jsonl（默认）、csv（带 BOM，Excel/WPS 可直接打开）或 xlsx")] = ExportFormat.jsonl,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="输出文件（默认标准输出；xlsx 必须指定）", show_default=False)] = None,
) -> None:
    """导出全部帖子及其字段，供其他工具使用。

    例：xxgk export > posts.jsonl；xxgk export --format xlsx -o 全部帖子.xlsx
    """
    cfg = _config(ctx)
    if fmt is ExportFormat.xlsx and output is None:
        _fail("xlsx 是二进制文件，请用 -o 指定输出文件，例如 -o 全部帖子.xlsx")
    store = _store(cfg)
    try:
        if output is None:
            n = export_posts(store, fmt.value, sys.stdout, None)
        elif fmt is ExportFormat.xlsx:
            n = export_posts(store, "xlsx", None, str(output))
        else:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                n = export_posts(store, fmt.value, fh, None)
    finally:
        store.close()
    _c.err.print(f"已导出 {n} 条帖子" + (f" → {output}" if output else ""))


# -- search ------------------------------------------------------------------------------


@app.command("search")
def search_cmd(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help='检索词：空格=并且，"…"=短语，-词=排除，OR=或；可含 channel:/item:/from: 等')],
    channel: Annotated[list[str] | None, typer.Option("--channel", help="只看这些渠道（可重复）", show_default=False)] = None,
    group: Annotated[list[str] | None, typer.Option("--group", help="只看这些分组（可重复）", show_default=False)] = None,
    category: Annotated[list[int] | None, typer.Option("--category", help="清单类别 1–10（可重复）", show_default=False)] = None,
    item: Annotated[list[int] | None, typer.Option("--item", help="清单事项 1–50（可重复）", show_default=False)] = None,
    type_: Annotated[list[str] | None, typer.Option("--type", help="采购公告类型，如 中标成交公告", show_default=False)] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="起始日期（含），如 2024-09-01", show_default=False)] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="截止日期（含当天全天）", show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", help="最多显示多少条")] = 20,
    order: Annotated[str, typer.Option("--order", help="newest（最新在前）或 relevance（标题命中在前）")] = "newest",
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """在所有渠道中检索标题、正文、发布部门与附件名（精确包含，一两个字也能查）。

    例：xxgk search 招生；xxgk search "拟录取 名单" --from 2024-09-01 --json；xxgk search 预算 OR 决算 --item 19
    """
    cfg = _config(ctx)
    store = _store(cfg)
    try:
        try:
            found = run_search(store, query, channels=channel or (), groups=group or (), items=item or (),
                               categories=category or (), types=type_ or (), date_from=date_from, date_to=date_to,
                               limit=limit, order=order)
        except SearchError as exc:
            _fail(str(exc))
        if as_json:
            print(json.dumps(found.to_json(), ensure_ascii=False))
            return
        snippets = found.snippets(store)
    finally:
        store.close()
    table = Table("编号", "渠道", "发布时间", "清单", "标题 / 摘要", title=f"“{escape(query)}”共 {found.result.total} 条")
    for r in found.result.rows:
        when = iso_local(r["published_at"])
        text = escape(r["title"]) + (f"\n[dim]{escape(snippets[r['id']])}[/]" if snippets.get(r["id"]) else "")
        table.add_row(str(r["id"]), r["channel_id"], when[:16].replace("T", " ") if when else "—",
                      str(r["item"] or ""), text)
    _c.out.print(table)


@app.command()
def reindex(ctx: typer.Context) -> None:
    """从帖子重建检索索引（检索的规范化方式改变后使用）。

    例：xxgk reindex
    """
    cfg = _config(ctx)
    store = _store(cfg)
    try:
        n = store.reindex()
    finally:
        store.close()
    _c.out.print(f"已重建检索索引：{n} 条帖子。")


# -- stats / coverage / report ------------------------------------------------------------


class StatsFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"
    md = "md"


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        _c.err.print(f"已写入 {output}")


@app.command("stats")
def stats_cmd(
    ctx: typer.Context,
    year: Annotated[str | None, typer.Option("--year", help="学年，如 2022-2023（9 月 1 日至次年 8 月 31 日）", show_default=False)] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="起始日期（含）", show_default=False)] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="截止日期（含当天全天）", show_default=False)] = None,
    by: Annotated[str, typer.Option("--by", help="按哪些维度分组：month,channel,group,category,item,type 的组合")] = "channel",
    fmt: Annotated[StatsFormat, typer.Option("--format", help="table / csv（带 BOM）/ json / xlsx / md")] = StatsFormat.table,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="输出文件（xlsx 必须指定）", show_default=False)] = None,
) -> None:
    """统计帖子数与微信阅读数：按月份、渠道、分组、清单类别/事项、采购公告类型。

    例：xxgk stats --year 2022-2023 --by channel,month；xxgk stats --by type --format json；
    xxgk stats --year 2022-2023 --format xlsx -o 2022-2023统计.xlsx
    """
    cfg = _config(ctx)
    try:
        period = period_of(year, date_from, date_to)
        dims = parse_dims(by)
    except StatsError as exc:
        _fail(str(exc))
    if fmt is StatsFormat.xlsx and output is None:
        _fail("xlsx 是二进制文件，请用 -o 指定输出文件")
    store = _store(cfg)
    try:
        store.register_channels(channel_record(ch) for ch in cfg.channels)
        table = compute_stats(store, dims, period, channel_names=channel_names(cfg))
        if fmt is StatsFormat.xlsx:
            assert output is not None
            write_workbook(store, cfg, period, output, extra=table)
            _c.err.print(f"已写入 {output}")
            return
    finally:
        store.close()
    if fmt is StatsFormat.json:
        _emit(json.dumps(table.to_json(), ensure_ascii=False) + "\n", output)
    elif fmt is StatsFormat.csv:
        _emit(stats_csv(table), output)
    elif fmt is StatsFormat.md:
        _emit(stats_md(table), output)
    else:
        header, rows = table.human_rows()
        t = Table(*header, title=f"统计（{table.period.label}）")
        for r in rows:
            t.add_row(*[escape(str(c)) for c in r])
        _c.out.print(t)


@app.command("coverage")
def coverage_cmd(
    ctx: typer.Context,
    year: Annotated[str | None, typer.Option("--year", help="学年，如 2022-2023", show_default=False)] = None,
    fmt: Annotated[StatsFormat, typer.Option("--format", help="table / json / csv / md")] = StatsFormat.table,
    output: Annotated[Path | None, typer.Option("-o", "--output", show_default=False)] = None,
) -> None:
    """清单 50 项的公开情况：每项的帖子数与最新发布日期；为 0 的即年报附录中需说明的空缺。

    例：xxgk coverage --year 2022-2023；xxgk coverage --format json
    """
    cfg = _config(ctx)
    try:
        period = period_of(year, None, None)
    except StatsError as exc:
        _fail(str(exc))
    store = _store(cfg)
    try:
        found = item_coverage(store, period)
    finally:
        store.close()
    if fmt is StatsFormat.json:
        _emit(json.dumps({"items": [c.to_json() for c in found]}, ensure_ascii=False) + "\n", output)
        return
    header = ["事项", "类别", "内容", "条数", "最新发布"]
    rows = [[c.item, c.category, qingdan_text(c.item), c.count, c.latest.date().isoformat() if c.latest else "—"]
            for c in found]
    if fmt is StatsFormat.xlsx:
        if output is None:
            _fail("xlsx 是二进制文件，请用 -o 指定输出文件")
        write_coverage_xlsx(found, period, output)
        _c.err.print(f"已写入 {output}")
        return
    if fmt in (StatsFormat.csv, StatsFormat.md):
        _emit(markdown_table(header, rows, 3) if fmt is StatsFormat.md else csv_text(header, rows), output)
        return
    missing = [c.item for c in found if c.count == 0]
    t = Table(*header, title=f"清单公开情况（{period.label}）：{50 - len(missing)} 项有公开，{len(missing)} 项空缺")
    for r in rows:
        t.add_row(*[escape(str(x)) for x in r], style="red" if r[3] == 0 else None)
    _c.out.print(t)


@app.command("report")
def report_cmd(
    ctx: typer.Context,
    year: Annotated[str, typer.Option("--year", help="学年，如 2022-2023")],
    output: Annotated[Path, typer.Option("-o", "--output", help="报告文件：.md 或 .docx")],
) -> None:
    """生成信息公开年度报告的数据草稿：各渠道、采购公告类型、微信推文与阅读、招生信息及与上学年对比，附清单 50 项公开情况表。

    例：xxgk report --year 2022-2023 -o 2022-2023年报数据.docx
    """
    cfg = _config(ctx)
    if output.suffix.lower() not in (".md", ".docx"):
        _fail("报告文件名应以 .md 或 .docx 结尾")
    try:
        academic_year(year)
    except StatsError as exc:
        _fail(str(exc))
    store = _store(cfg)
    try:
        store.register_channels(channel_record(ch) for ch in cfg.channels)
        write_report(store, cfg, year, output)
    finally:
        store.close()
    _c.err.print(f"已写入 {output}")


def qingdan_text(item: int) -> str:
    return _qingdan_items()[item].text


# -- classify / tag / reclassify ----------------------------------------------------


def _explain_line(c: Classification) -> str:
    where = {"title": "标题", "column": "栏目", "body": "正文开头", "channel": "渠道设置", "manual": "人工标注",
             "none": "—"}[c.where]
    item = f"第 {c.item} 项（第 {c.category} 类）" if c.item else "不属于清单"
    words = "、".join(c.matched) if c.matched else "—"
    return f"{item}\n  规则：{c.rule}\n  依据：{where}；匹配词：{words}\n  得分：{c.score:.2f}"


@app.command()
def classify(
    ctx: typer.Context,
    post_id: Annotated[int | None, typer.Argument(help="已入库帖子的编号", show_default=False)] = None,
    explain: Annotated[bool, typer.Option("--explain", help="说明依据：规则、匹配词、得分")] = False,
    title: Annotated[str | None, typer.Option("--title", help="不入库，直接判断一个标题", show_default=False)] = None,
    titles: Annotated[Path | None, typer.Option("--titles", help="每行一个标题的文件（- 为标准输入）", show_default=False)] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="按该渠道的设置判断（渠道 item、渠道名作栏目）", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """判断帖子或标题属于清单第几项，并说明依据。

    例：xxgk classify 1234 --explain；xxgk classify --title "东湖科技大学2024年部门预算" --json；
    xxgk classify --titles titles.txt --json
    """
    cfg = _config(ctx)
    classifier = classifier_for(cfg)
    ch = None
    if channel is not None:
        try:
            ch = cfg.channel(channel)
        except KeyError:
            _fail(f"没有 id 为 {channel} 的渠道（已配置：{', '.join(c.id for c in cfg.channels)}）")
    column = ch.display_name if ch else None
    channel_item = ch.item if ch else None
    if titles is not None:
        stream = sys.stdin if str(titles) == "-" else open(titles, encoding="utf-8-sig")
        with stream:
            for line in stream:
                text = line.strip()
                if not text:
                    continue
                found = classifier.classify(text, column, None, channel_item)
                print(json.dumps({"title": text, **found.to_json()}, ensure_ascii=False))
        return
    if title is not None:
        found = classifier.classify(title, column, None, channel_item)
    elif post_id is not None:
        store = _store(cfg)
        try:
            post = store.post_by_id(post_id)
        finally:
            store.close()
        if post is None:
            _fail(f"没有编号为 {post_id} 的帖子")
        post_channel = next((c for c in cfg.channels if c.id == post["channel_id"]), None)
        if post["item_source"] == "manual":
            found = Classification(post["item"], post["category"], "manual tag", 100.0, (), "manual")
        else:
            found = classifier.classify(post["title"], post["source_column"], post["body"],
                                        post_channel.item if post_channel else None)
        if not as_json and found.item != post["item"] and found.where != "manual":
            _c.err.print(f"注意：库中记为 {post['item'] or '不属于清单'}；规则变化后请运行 xxgk reclassify")
    else:
        _fail("请给出帖子编号、--title 或 --titles")
    if as_json:
        print(json.dumps(found.to_json(), ensure_ascii=False))
    elif explain or post_id is not None or title is not None:
        _c.out.print(escape(_explain_line(found)))


@app.command()
def tag(
    ctx: typer.Context,
    post_id: Annotated[int, typer.Argument(help="帖子编号")],
    item: Annotated[str, typer.Argument(help="清单事项 1–50，或 none（不属于清单）")],
) -> None:
    """人工标注帖子的清单事项；重新同步或 reclassify 都不会覆盖人工标注。

    例：xxgk tag 1234 19；xxgk tag 1234 none
    """
    cfg = _config(ctx)
    if item.lower() in ("none", "null", "0", "无"):
        value = None
    elif item.isdigit() and 1 <= int(item) <= 50:
        value = int(item)
    else:
        _fail(f"清单事项应为 1–50 或 none，收到 {item!r}")
    store = _store(cfg)
    try:
        ok = store.set_manual_tag(post_id, value, category_of(value))
    finally:
        store.close()
    if not ok:
        _fail(f"没有编号为 {post_id} 的帖子")
    _c.err.print(f"已标注：帖子 {post_id} → " + (f"清单第 {value} 项" if value else "不属于清单") + "（人工）")


@app.command()
def reclassify(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """规则修改后，对所有非人工标注的帖子重新归类，并报告变化了多少条。

    例：xxgk reclassify
    """
    cfg = _config(ctx)
    store = _store(cfg)
    try:
        result = run_reclassify(cfg, store)
    finally:
        store.close()
    if as_json:
        print(json.dumps({"checked": result.checked, "changed": result.changed}))
    else:
        _c.out.print(f"已重新归类 {result.checked} 条帖子，其中 {result.changed} 条的清单事项发生变化（人工标注的未改动）。")


# -- demo ----------------------------------------------------------------------------


DEMO_HEADER = """# xxgk demo：示例站点运行在本机回环地址上（每次运行端口不同），这份配置仅供查看。
[store]
url = "sqlite:///xxgk.db"

[http]
per_host_interval = 0.0   # 示例站点就在本机，无需限速；真实站点请保持默认 1 秒
"""


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="示例数据目录（每次运行都会重建其中的数据库）")] = Path("demo-data"),
) -> None:
    """主任务演示：在本机回环地址上启动内置示例站点（VSB 门户、本科招生网、研究生院、信息公开网、教务处、
    GBK 采购中心、中国政府采购网、RSS），生成微信公众号与 OA 导出文件，同步进一个全新的库，并列出各渠道的帖子数。不需要外网。

    例：xxgk demo；xxgk demo --dir /tmp/xxgk-demo
    """
    from aggregator.config import parse_config
    from aggregator.samples.server import SampleServer
    from aggregator.samples.sites import sample_channels, sample_pages, write_sample_files

    directory.mkdir(parents=True, exist_ok=True)
    exports = directory / "exports"
    if exports.exists():
        import shutil

        shutil.rmtree(exports)
    write_sample_files(exports)
    for stale in ("xxgk.db", "xxgk.db-wal", "xxgk.db-shm"):
        (directory / stale).unlink(missing_ok=True)
    with SampleServer(sample_pages()) as server:
        text = DEMO_HEADER + sample_channels(server.url, exports.resolve())
        cfg_file = directory / "config.toml"
        cfg_file.write_text(text, encoding="utf-8")
        cfg = parse_config(text, cfg_file)
        _c.err.print(f"示例站点：{server.url}（配置：{cfg_file}）")
        store = _store(cfg)
        try:
            if sys.stderr.isatty():
                with RichProgress(SpinnerColumn(), TextColumn("{task.description}"),
                                  TextColumn("获取 {task.fields[fetched]} · 新增 {task.fields[new]}"),
                                  TimeElapsedColumn(), console=_c.err) as bar:
                    results = run_sync(cfg, store, on_progress=_RichProgress(bar))
            else:
                results = run_sync(cfg, store, on_progress=_PlainProgress())
            overview = {o.id: o for o in store.channel_overview()}
        finally:
            store.close()
    table = Table("渠道", "名称", "分组", "状态", "新增", "帖子数", "请求", title="示例同步结果")
    for r in results:
        o = overview[r.id]
        colour = {"ok": "green", "partial": "yellow"}.get(r.status, "red")
        table.add_row(r.id, escape(o.name), escape(o.group_name), f"[{colour}]{STATUS_ZH[r.status]}[/]",
                      str(r.new), str(o.posts), str(r.requests))
    _c.out.print(table)
    _c.out.print(f"共 {sum(o.posts for o in overview.values())} 条帖子，已存入 {directory / 'xxgk.db'}。"
                 f"查看：xxgk --config {cfg_file} export | head")
    if any(r.status != "ok" for r in results):
        raise typer.Exit(1)


def main() -> None:
    app()
