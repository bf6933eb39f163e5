"""`xxgk classify`, `tag` and `reclassify`: which 清单 item a post discloses, and why;
`xxgk classify train | retrain | suggest`: the learned model and the office's corrections."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from aggregator.cli._common import consoles, escape, fail, load, open_store, writable

if TYPE_CHECKING:
    from aggregator.config import Config
    from aggregator.qingdan.classify import Classification, Classifier


def explain_line(c: Classification) -> str:
    where = {
        "title": "标题",
        "column": "栏目",
        "body": "正文开头",
        "channel": "渠道设置",
        "manual": "人工标注",
        "model": "学习模型（标题的字）",
        "review": "待复核（规则与模型都没有把握）",
        "none": "—",
    }[c.where]
    item = f"第 {c.item} 项（第 {c.category} 类）" if c.item else "不属于清单"
    if c.where == "review":
        item = "未归类，待人工复核"
    words = "、".join(c.matched) if c.matched else "—"
    label = "模型依据的字" if c.where in ("model", "review") else "匹配词"
    decided = "学习模型" if c.where in ("model", "review") else "规则"
    return f"{item}\n  {decided}：{c.rule}\n  依据：{where}；{label}：{words}\n  得分：{c.score:.2f}"


ACTIONS = ("train", "retrain", "suggest")


def classify(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(help="已入库帖子的编号；或 train / retrain / suggest（见下）", show_default=False),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="train：模型写到此文件（默认随包保存）", show_default=False)
    ] = None,
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
    """判断帖子或标题属于清单第几项，并说明依据（规则，或学习模型；都没有把握时为“待复核”）。

    xxgk classify train：用随包的标注标题重新训练学习模型（可复现）；
    xxgk classify retrain：用随包标注加上本库的人工标注重新训练，之后同步与 reclassify 都用它；
    xxgk classify suggest：根据人工更正，列出可加入规则文件的规则（标题形式与事项）。

    例：xxgk classify 1234 --explain；xxgk classify --title "某某大学2024年部门预算" --json；
    xxgk classify --titles titles.txt --json；xxgk classify retrain
    """

    if target == "train":  # needs no config: the shipped sets only
        _train(output, as_json)
        return
    cfg = load(ctx)
    post_id: int | None = None
    if target in ACTIONS:
        _action(cfg, target, as_json)
        return
    if target is not None:
        if not target.isdigit():
            fail(f"不认识的参数 {target!r}：应为帖子编号，或 {' / '.join(ACTIONS)}")
        post_id = int(target)
    classifier = _classifier(cfg)
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
        from aggregator.services.tags import explain_post

        with open_store(cfg) as store:
            post = store.post_by_id(post_id)
            if post is None:
                fail(f"没有编号为 {post_id} 的帖子")
            found = explain_post(cfg, store, post)
        if not as_json and found.item != post["item"] and found.where != "manual":
            consoles.err.print(f"注意：库中记为 {post['item'] or '不属于清单'}；规则变化后请运行 xxgk reclassify")
    else:
        fail("请给出帖子编号、--title 或 --titles")
    if as_json:
        print(json.dumps(found.to_json(), ensure_ascii=False))
    elif explain or post_id is not None or title is not None:
        consoles.out.print(escape(explain_line(found)))


def _classifier(cfg: Config) -> Classifier:
    """The rules with the store's model; a store not made yet is not made to classify a title
    (it has no refitted model: the shipped one answers)."""
    from sqlalchemy.engine import make_url

    from aggregator.config import classifier_for
    from aggregator.qingdan.model import shipped_model
    from aggregator.services.classify import classifier_of

    url = make_url(cfg.store.url)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
        return classifier_for(cfg, shipped_model())
    with open_store(cfg) as store:
        return classifier_of(cfg, store)


def _train(output: Path | None, as_json: bool) -> None:
    from aggregator.qingdan.model import save_shipped, train_shipped

    if output is not None:
        writable(output)
    consoles.err.print("正在用随包的标注标题训练学习模型……")
    model = train_shipped()
    path: Path | None = output
    if output is not None:
        output.write_bytes(model.to_bytes())
    else:
        path = save_shipped(model)
    info = {"examples": model.meta["examples"], "digest": model.meta["digest"], "path": str(path) if path else None}
    if as_json:
        print(json.dumps(info, ensure_ascii=False))
    else:
        consoles.out.print(f"已训练：{info['examples']} 条标注标题，摘要 {info['digest']}，"
                           f"保存于 {path or '（未能保存）'}")


def _action(cfg: Config, action: str, as_json: bool) -> None:
    from aggregator.services.classify import retrain, suggest

    with open_store(cfg) as store:
        if action == "retrain":
            consoles.err.print("正在用随包标注与本库的人工标注重新训练学习模型……")
            done = retrain(store)
            if as_json:
                print(json.dumps({"model": done.model_id, "examples": done.examples,
                                  "office_examples": done.office_examples, "digest": done.digest}))
            else:
                consoles.out.print(
                    f"已重新训练（第 {done.model_id} 版）：{done.examples} 条标注，"
                    f"其中本库人工标注 {done.office_examples} 条。"
                    "运行 xxgk reclassify 让已入库的帖子按新模型重新归类。")
            return
        found = suggest(cfg, store)
    if as_json:
        print(json.dumps([{"item": s.item, "ending": s.ending, "titles": s.titles} for s in found],
                         ensure_ascii=False))
        return
    if not found:
        consoles.out.print("人工更正中没有至少两条共用同一结尾形式的标题，暂无规则建议。")
        return
    consoles.out.print("# 以下规则由人工更正归纳而来；核对后可加入 config.toml 中 [rules] file 指向的规则文件。\n")
    for s in found:
        note = f"# 依据 {len(s.titles)} 条人工更正（没有别的事项的标题以此结尾），例：{s.titles[0]}"
        consoles.out.print(escape(note + "\n" + s.toml()))


def tag(
    ctx: typer.Context,
    post_id: Annotated[int, typer.Argument(help="帖子编号")],
    item: Annotated[str, typer.Argument(help="清单事项 1–50，或 none（不属于清单）")],
) -> None:
    """人工标注帖子的清单事项；重新同步或 reclassify 都不会覆盖人工标注。操作人（系统用户@主机）记入修改记录。

    例：xxgk tag 1234 19；xxgk tag 1234 none
    """
    from aggregator.services.accounts import cli_actor
    from aggregator.services.tags import TagError, parse_item, tag_text
    from aggregator.services.tags import tag as set_tag

    cfg = load(ctx)
    try:
        value = parse_item(item)
        with open_store(cfg) as store:
            set_tag(store, post_id, value, cli_actor())
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
