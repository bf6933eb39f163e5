"""`xxgk sync` and `xxgk channels`: keeping channels current and seeing how they are."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aggregator.cli._common import consoles, escape, fail, load, missing_sqlite_file, open_store

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

    from aggregator.config import Config
    from aggregator.pipeline.sync import Progress, RunResult
    from storage.store import Store


class PlainProgress:
    """One line per channel start/finish, and a line every few seconds on long syncs."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def __call__(self, p: Progress) -> None:
        ch, c = p.channel, p.counts
        if p.event == "start":
            self._last[ch.id] = time.monotonic()
            consoles.err.print(f"\\[{ch.id}] 开始同步 {escape(ch.display_name)}…")
        elif p.event == "progress":
            if time.monotonic() - self._last.get(ch.id, 0) >= 2:
                self._last[ch.id] = time.monotonic()
                consoles.err.print(f"\\[{ch.id}] 已获取 {c.fetched}，新增 {c.new}，更新 {c.updated}")
        elif p.result is not None:
            consoles.err.print(f"\\[{ch.id}] {result_line(p.result)}")


class BarProgress:
    """A live bar per channel on a terminal."""

    def __init__(self, bar: RichProgress) -> None:
        self.bar = bar
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, p: Progress) -> None:
        ch, c = p.channel, p.counts
        fields: dict[str, Any] = {"fetched": c.fetched, "new": c.new, "updated": c.updated}
        if ch.id not in self.tasks:
            self.tasks[ch.id] = self.bar.add_task(escape(f"{ch.id} {ch.display_name}"), total=None, **fields)
        task = self.tasks[ch.id]
        if p.event == "done" and p.result is not None:
            mark = {"ok": "[green]✓[/]", "partial": "[yellow]![/]"}.get(p.result.status, "[red]✗[/]")
            self.bar.update(
                task, description=f"{mark} {escape(ch.id)} {escape(ch.display_name)}", total=1, completed=1, **fields
            )
        else:
            self.bar.update(task, **fields)


def result_line(r: RunResult) -> str:
    from aggregator.services.channels import STATUS_ZH

    line = (
        f"{STATUS_ZH.get(r.status, r.status)}：获取 {r.fetched}，新增 {r.new}，更新 {r.updated}，"
        f"请求 {r.requests} 次（{r.seconds:.1f} 秒）"
    )
    for extra in (r.error, r.note):
        if extra:
            line += f"\n    {escape(extra)}"
    return line


def run_with_progress(
    cfg: Config, store: Store, ids: Sequence[str] = (), *, full: bool = False, quiet: bool = False
) -> list[RunResult]:
    """Sync with a live bar on a terminal, plain lines otherwise (cron mail, logs)."""
    from aggregator.services.sync import sync as run_sync

    if sys.stderr.isatty() and not quiet:
        from rich.progress import Progress as RichProgress
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("获取 {task.fields[fetched]} · 新增 {task.fields[new]} · 更新 {task.fields[updated]}"),
            TimeElapsedColumn(),
        )
        with RichProgress(*columns, console=consoles.err) as bar:
            return run_sync(cfg, store, ids, full=full, on_progress=BarProgress(bar), on_extract=_extracting)
    return run_sync(cfg, store, ids, full=full, on_progress=PlainProgress(),
                    on_extract=None if quiet else _extracting)


def _extracting(n: int, of: int) -> None:
    if n == 1 or n == of or n % 50 == 0:
        consoles.err.print(f"读取附件文字：{n}/{of}")


def sync(
    ctx: typer.Context,
    ids: Annotated[
        list[str] | None, typer.Argument(help="要同步的渠道 id（默认：全部启用的渠道）", show_default=False)
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="完整回溯：遍历所有列表页，而不是遇到已知帖子就停")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果")] = False,
) -> None:
    """同步渠道：抓取新帖子并入库。任一渠道失败或部分成功时退出码为 1（其余渠道照常入库）。

    例：xxgk sync；xxgk sync portal-notices --full；xxgk sync --json
    """
    from aggregator.services.channels import STATUS_ZH
    from aggregator.services.sync import UnknownChannel

    cfg = load(ctx)
    with open_store(cfg) as store:
        try:
            results = run_with_progress(cfg, store, ids or (), full=full, quiet=as_json)
        except UnknownChannel as exc:
            fail(str(exc.args[0]))
    if as_json:
        print(json.dumps({"channels": [r.to_json() for r in results]}, ensure_ascii=False))
    else:
        from rich.table import Table

        table = Table("渠道", "状态", "获取", "新增", "更新", "请求", "错误", title="同步结果")
        for r in results:
            colour = {"ok": "green", "partial": "yellow"}.get(r.status, "red")
            table.add_row(
                r.id,
                f"[{colour}]{STATUS_ZH[r.status]}[/]",
                str(r.fetched),
                str(r.new),
                str(r.updated),
                str(r.requests),
                escape("\n".join(x for x in (r.error, r.note) if x)),
            )
        consoles.out.print(table)
    if any(r.status != "ok" for r in results):
        raise typer.Exit(1)


def channels(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """列出所有渠道：健康状态（正常/久未更新/不完整/无法解析/被拦截/无法访问）及原因、帖子数（及网站自报总数）、
    待核（无日期、缺正文）、上次同步、下次运行时间（失败的渠道按退避时间重试）。

    例：xxgk channels；xxgk --config /etc/xxgk/config.toml channels --json
    """
    from aggregator.services.channels import overview

    cfg = load(ctx)
    missing = missing_sqlite_file(cfg.store.url)
    if missing is not None:  # the channels of the config, none synced yet: read from an empty store, make none
        from storage.store import Store

        consoles.err.print(f"数据库 {missing} 还不存在：各渠道都还没有同步过（运行 xxgk sync 开始同步）。")
        with Store.open("sqlite://") as empty:
            rows = overview(cfg, empty)
    else:
        with open_store(cfg, create=False) as store:
            rows = overview(cfg, store)
    if as_json:
        print(json.dumps({"channels": [r.to_json() for r in rows]}, ensure_ascii=False))
        return
    from rich.table import Table

    table = Table("id", "名称", "类型", "分组", "健康", "帖子数", "待核", "上次同步", "下次运行", "原因",
                  title=f"渠道（{cfg.source}）")
    colours = {"ok": "green", "stale": "yellow", "incomplete": "yellow"}
    for r in rows:
        state = f"[{colours.get(r.state, 'red')}]{r.state_text}[/]" + ("" if r.enabled else "（已停用）")
        table.add_row(
            r.id,
            escape(r.name),
            r.kind,
            escape(r.group),
            state + ("\n[cyan]同步中[/]" if r.syncing else ""),
            f"[red]{r.posts_text}[/]" if r.gap else r.posts_text,
            f"[yellow]{r.pending_text}[/]" if r.pending_text else "",
            f"{(r.last_sync or '—')[:16].replace('T', ' ')}\n{r.status_text}",
            (r.next_run or "—")[:16].replace("T", " "),
            escape(r.reason if r.state != "ok" else ""),
        )
    consoles.out.print(table)


COMMANDS: tuple[Callable[..., None], ...] = (sync, channels)


def register(app: typer.Typer) -> None:
    for command in COMMANDS:
        app.command()(command)
