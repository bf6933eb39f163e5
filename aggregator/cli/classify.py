"""`xxgk classify`, `tag` and `reclassify`: which 清单 item a post discloses, and why."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from aggregator.cli._common import consoles, escape, fail, load, open_store

if TYPE_CHECKING:
    from aggregator.qingdan.classify import Classification


def explain_line(c: Classification) -> str:
    where = {
        "title": "标题",
        "column": "栏目",
        "body": "正文开头",
        "channel": "渠道设置",
        "manual": "人工标注",
        "none": "—",
    }[c.where]
    item = f"第 {c.item} 项（第 {c.category} 类）" if c.item else "不属于清单"
    words = "、".join(c.matched) if c.matched else "—"
    return f"{item}\n  规则：{c.rule}\n  依据：{where}；匹配词：{words}\n  得分：{c.score:.2f}"


def classify(
    ctx: typer.Context,
    post_id: Annotated[int | None, typer.Argument(help="已入库帖子的编号", show_default=False)] = None,
    explain: Annotated[bool, typer.Option("--explain", help="说明依据：规则、匹配词、得分")] = False,
    title: Annotated[str | None, typer.Option("--title", help="不入库，直接判断一个标题", show_default=False)] = None,
    titles: Annotated[
        Path | None, typer.Option("--titles", help="每行一个标题的文件（- 为标准输入）", show_default=False)
    ] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help="按该渠道的设置判断（渠道 item、渠道名作栏目）", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """判断帖子或标题属于清单第几项，并说明依据。

    例：xxgk classify 1234 --explain；xxgk classify --title "东湖科技大学2024年部门预算" --json；
    xxgk classify --titles titles.txt --json
    """
    from aggregator.config import classifier_for
    from aggregator.qingdan.classify import Classification

    cfg = load(ctx)
    classifier = classifier_for(cfg)
    ch = None
    if channel is not None:
        try:
            ch = cfg.channel(channel)
        except KeyError:
            fail(f"没有 id 为 {channel} 的渠道（已配置：{', '.join(c.id for c in cfg.channels)}）")
    column = ch.display_name if ch else None
    channel_item = ch.item if ch else None
    if titles is not None:
        try:
            stream = sys.stdin if str(titles) == "-" else open(titles, encoding="utf-8-sig")
        except OSError as exc:
            fail(f"无法读取标题文件 {titles}（{exc.strerror}）：请检查路径，或用 - 从标准输入读取")
        with stream:
            for line in stream:
                text = line.strip()
                if text:
                    found = classifier.classify(text, column, None, channel_item)
                    print(json.dumps({"title": text, **found.to_json()}, ensure_ascii=False))
        return
    if title is not None:
        found = classifier.classify(title, column, None, channel_item)
    elif post_id is not None:
        with open_store(cfg) as store:
            post = store.post_by_id(post_id)
        if post is None:
            fail(f"没有编号为 {post_id} 的帖子")
        post_channel = next((c for c in cfg.channels if c.id == post["channel_id"]), None)
        if post["item_source"] == "manual":
            found = Classification(post["item"], post["category"], "manual tag", 100.0, (), "manual")
        else:
            found = classifier.classify(
                post["title"], post["source_column"], post["body"], post_channel.item if post_channel else None
            )
        if not as_json and found.item != post["item"] and found.where != "manual":
            consoles.err.print(f"注意：库中记为 {post['item'] or '不属于清单'}；规则变化后请运行 xxgk reclassify")
    else:
        fail("请给出帖子编号、--title 或 --titles")
    if as_json:
        print(json.dumps(found.to_json(), ensure_ascii=False))
    elif explain or post_id is not None or title is not None:
        consoles.out.print(escape(explain_line(found)))


def tag(
    ctx: typer.Context,
    post_id: Annotated[int, typer.Argument(help="帖子编号")],
    item: Annotated[str, typer.Argument(help="清单事项 1–50，或 none（不属于清单）")],
) -> None:
    """人工标注帖子的清单事项；重新同步或 reclassify 都不会覆盖人工标注。

    例：xxgk tag 1234 19；xxgk tag 1234 none
    """
    from aggregator.services.tags import TagError, parse_item, tag_text
    from aggregator.services.tags import tag as set_tag

    cfg = load(ctx)
    try:
        value = parse_item(item)
        with open_store(cfg) as store:
            set_tag(store, post_id, value)
    except TagError as exc:
        fail(str(exc))
    consoles.err.print(f"已标注：帖子 {post_id} → {tag_text(value)}（人工）")


def reclassify(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """规则修改后，对所有非人工标注的帖子重新归类，并报告变化了多少条。

    例：xxgk reclassify
    """
    from aggregator.services.sync import reclassify as run_reclassify

    cfg = load(ctx)
    with open_store(cfg) as store:
        result = run_reclassify(cfg, store)
    if as_json:
        print(json.dumps({"checked": result.checked, "changed": result.changed}))
    else:
        consoles.out.print(
            f"已重新归类 {result.checked} 条帖子，其中 {result.changed} 条的清单事项发生变化（人工标注的未改动）。"
        )


def register(app: typer.Typer) -> None:
    app.command()(classify)
    app.command()(tag)
    app.command()(reclassify)
