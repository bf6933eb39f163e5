"""`xxgk search` and `xxgk reindex`: one search over every channel."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from aggregator.cli._common import consoles, escape, fail, load, open_store


def search(
    ctx: typer.Context,
    query: Annotated[
        str, typer.Argument(help='检索词：空格=并且，"…"=短语，-词=排除，OR=或；可含 channel:/item:/from: 等')
    ],
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="只看这些渠道（可重复）", show_default=False)
    ] = None,
    group: Annotated[
        list[str] | None, typer.Option("--group", help="只看这些分组（可重复）", show_default=False)
    ] = None,
    category: Annotated[
        list[int] | None, typer.Option("--category", help="清单类别 1–10（可重复）", show_default=False)
    ] = None,
    item: Annotated[
        list[int] | None, typer.Option("--item", help="清单事项 1–50（可重复）", show_default=False)
    ] = None,
    type_: Annotated[
        list[str] | None, typer.Option("--type", help="采购公告类型，如 中标成交公告", show_default=False)
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="起始日期（含），如 2024-09-01", show_default=False)
    ] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="截止日期（含当天全天）", show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", help="最多显示多少条")] = 20,
    order: Annotated[str, typer.Option("--order", help="newest（最新在前）或 relevance（标题命中在前）")] = "newest",
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
    with_also: Annotated[
        bool, typer.Option("--also", help="JSON 中为每条结果列出其他渠道发布的同一通知（另见）")
    ] = False,
) -> None:
    """在所有渠道中检索标题、正文、发布部门与附件名（精确包含，一两个字也能查）。

    例：xxgk search 招生；xxgk search "拟录取名单" --from 2024-09-01 --json；xxgk search 预算 OR 决算 --item 19
    """
    from aggregator.services.search import SearchError, twins
    from aggregator.services.search import search as run_search

    cfg = load(ctx)
    with open_store(cfg, create=False) as store:
        try:
            found = run_search(store, query, channels=channel or (), groups=group or (), items=item or (),
                               categories=category or (), types=type_ or (), date_from=date_from, date_to=date_to,
                               limit=limit, order=order)
        except SearchError as exc:
            fail(str(exc))
        also = twins(store, found.result.rows)
        if as_json:
            print(json.dumps(found.to_json(also if with_also else None), ensure_ascii=False))
            return
        snippets = found.snippets(store)
    _print_hits(query, found, snippets, also)


def _print_hits(query: str, found: Any, snippets: dict[int, str], also: dict[int, Any]) -> None:
    """The hits as a table: id, channel, time, item, title with its snippet and 「另见」 (the same notice
    on other channels, folded under its first result)."""
    from rich.table import Table

    from aggregator.clock import iso_local
    from aggregator.services.search import fold_twins

    table = Table(
        "编号", "渠道", "发布时间", "清单", "标题 / 摘要", title=f"“{escape(query)}”共 {found.result.total} 条"
    )
    for r in fold_twins(found.result.rows, also):
        when = iso_local(r["published_at"])
        text = escape(r["title"]) + (f"\n[dim]{escape(snippets[r['id']])}[/]" if snippets.get(r["id"]) else "")
        if also.get(r["id"]):
            text += "\n另见：" + "、".join(f"#{c.id} {escape(c.channel_id)}" for c in also[r["id"]])
        table.add_row(
            str(r["id"]), r["channel_id"], when[:16].replace("T", " ") if when else "—", str(r["item"] or ""), text
        )
    consoles.out.print(table)


def reindex(ctx: typer.Context) -> None:
    """从帖子重建检索索引（检索的规范化方式改变后使用）。

    例：xxgk reindex
    """
    cfg = load(ctx)
    with open_store(cfg) as store:
        n = store.posts.reindex()
    consoles.out.print(f"已重建检索索引：{n} 条帖子。")


def register(app: typer.Typer) -> None:
    app.command("search")(search)
    app.command()(reindex)
