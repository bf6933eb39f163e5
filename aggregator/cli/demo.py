"""`xxgk demo`: the main job on a fresh machine with no network."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aggregator.cli._common import consoles, escape, open_store


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="示例数据目录（每次运行都会重建其中的数据库）")] = Path(
        "demo-data"
    ),
) -> None:
    """主任务演示：在本机回环地址上启动内置示例站点（VSB 门户、本科招生网、研究生院、信息公开网、教务处、
    GBK 采购中心、中国政府采购网、RSS），生成微信公众号与 OA 导出文件，
    同步进一个全新的库，并列出各渠道的帖子数。不需要外网。

    例：xxgk demo；xxgk demo --dir /tmp/xxgk-demo
    """
    from rich.table import Table

    from aggregator.cli.sync import run_with_progress
    from aggregator.demo import demo_config
    from aggregator.demo.server import SampleServer
    from aggregator.demo.sites import sample_pages
    from aggregator.services.channels import STATUS_ZH

    with SampleServer(sample_pages()) as server:
        cfg = demo_config(directory, server.url)
        consoles.err.print(f"示例站点：{server.url}（配置：{cfg.source}）")
        with open_store(cfg) as store:
            results = run_with_progress(cfg, store)
            overview = {o.id: o for o in store.channel_overview()}
    table = Table("渠道", "名称", "分组", "状态", "新增", "帖子数", "请求", title="示例同步结果")
    for r in results:
        o = overview[r.id]
        colour = {"ok": "green", "partial": "yellow"}.get(r.status, "red")
        table.add_row(
            r.id,
            escape(o.name),
            escape(o.group_name),
            f"[{colour}]{STATUS_ZH[r.status]}[/]",
            str(r.new),
            str(o.posts),
            str(r.requests),
        )
    consoles.out.print(table)
    consoles.out.print(
        f"共 {sum(o.posts for o in overview.values())} 条帖子，已存入 {directory / 'xxgk.db'}。"
        f"查看：xxgk --config {cfg.source} export | head"
    )
    if any(r.status != "ok" for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(demo)
