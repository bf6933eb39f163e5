"""`xxgk demo`: the main job on a fresh machine with no network."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aggregator.cli._common import consoles, escape, open_store

if TYPE_CHECKING:
    from aggregator.config import Config
    from aggregator.services.channels import ChannelRow


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="示例数据目录（每次运行都会重建其中的数据库）")] = Path(
        "demo-data"
    ),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="同步后不启动网页（脚本用）")] = False,
    port: Annotated[int, typer.Option("--port", help="网页端口")] = 8000,
) -> None:
    """主任务演示：在本机回环地址上启动内置示例站点（VSB 门户、本科招生网、研究生院、信息公开网、教务处、
    GBK 采购中心、中国政府采购网、RSS），生成微信公众号与 OA 导出文件，
    同步进一个全新的库，并列出各渠道的帖子数。不需要外网。

    例：xxgk demo；xxgk demo --dir /tmp/xxgk-demo --no-serve
    """
    from aggregator.cli.sync import run_with_progress
    from aggregator.demo import demo_config
    from aggregator.demo.server import Resource, SampleServer
    from aggregator.demo.sites import DEMO_MISSING_DETAIL, sample_pages
    from aggregator.services.channels import overview

    pages = sample_pages()
    missing = pages[DEMO_MISSING_DETAIL]
    pages[DEMO_MISSING_DETAIL] = Resource("服务暂不可用".encode(), "text/plain; charset=utf-8", status=503)
    with SampleServer(pages) as server:
        cfg = demo_config(directory, server.url)
        consoles.err.print(f"示例站点：{server.url}（配置：{cfg.source}）")
        with open_store(cfg) as store:
            consoles.err.print(f"[bold]第一轮[/]：本科招生网的一个详情页（{DEMO_MISSING_DETAIL}）暂时无法访问")
            first = {r.id: r for r in run_with_progress(cfg, store)}
            held = store.posts.count()
            server.pages[DEMO_MISSING_DETAIL] = missing
            consoles.err.print("[bold]第二轮[/]：该页面恢复；按列表保存的帖子应被补全，而不是重复")
            results = run_with_progress(cfg, store)
            rows = {r.id: r for r in overview(cfg, store)}
            completed = store.posts.count() == held
        if not _summary(cfg, first, results, rows, completed):
            raise typer.Exit(1)
        if not no_serve:  # the sample sites stay up: 原文 links answer, probe and audit work, the scheduler syncs
            _serve(cfg, port, server.url)


def _summary(cfg: Config, first: dict[str, Any], results: list[Any], rows: dict[str, Any], completed: bool) -> bool:
    """Both rounds printed, and the store they went to (as the config names it); False on any problem."""
    from aggregator.cli._common import safe_url

    _print_rounds(first, results, rows)
    consoles.out.print(
        f"共 {sum(o.posts for o in rows.values())} 条帖子，已存入 {safe_url(cfg.store.url)}"
        f"（第二轮补全 {sum(r.updated for r in results)} 条，{'无重复' if completed else '[red]出现重复[/]'}）。"
        f"查看：xxgk --config {cfg.source} channels"
    )
    gaps = [o.id for o in rows.values() if o.gap]
    if gaps:
        consoles.err.print(f"[red]库中帖子少于网站自报总数：{', '.join(gaps)}[/]")
    return not (any(r.status != "ok" for r in results) or gaps or not completed)


def _serve(cfg: Config, port: int, sites: str) -> None:
    """The demo store's pages and its scheduler, with the sample sites serving, until Ctrl-C."""
    import socket

    from aggregator.cli.service import run_service

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:  # the port is taken (another service, an earlier demo): any free one will do
            probe.bind(("127.0.0.1", 0))
            consoles.err.print(f"端口 {port} 已被占用，改用 {probe.getsockname()[1]}")
            port = probe.getsockname()[1]
    with open_store(cfg) as store:
        consoles.out.print(f"[bold]打开浏览器查看：http://127.0.0.1:{port}/[/]（Ctrl-C 退出）")
        run_service(cfg, store, "127.0.0.1", port, "xxgk demo",
                    f"示例站点仍在 {sites} 运行，调度器按各渠道的 schedule 继续同步；试试："
                    f"xxgk --config {cfg.source} probe {sites}/…，或 xxgk --config {cfg.source} audit",
                    log_level="warning")


def _print_rounds(first: dict[str, Any], results: list[Any], rows: dict[str, Any]) -> None:
    """Each channel's two rounds: the first round's outcome, the second's, posts and the site's count."""
    from rich.table import Table

    from aggregator.services.channels import STATUS_ZH

    table = Table("渠道", "名称", "分组", "第一轮", "状态", "帖子数", "网站自报", "请求",
                  title="示例同步结果（第二轮）")
    for r in results:
        o = rows[r.id]
        colour = {"ok": "green", "partial": "yellow"}.get(r.status, "red")
        before = first[r.id]
        table.add_row(r.id, escape(o.name), escape(o.group), f"{STATUS_ZH[before.status]}，新增 {before.new}",
                      f"[{colour}]{STATUS_ZH[r.status]}[/]", str(o.posts), _site_count(o), str(r.requests))
    consoles.out.print(table)


def _site_count(o: ChannelRow) -> str:
    if o.site_total is not None:
        return str(o.site_total) if not o.gap else f"[red]{o.site_total}[/]"
    return f"{o.site_pages} 页" if o.site_pages else "—"


def register(app: typer.Typer) -> None:
    app.command()(demo)
