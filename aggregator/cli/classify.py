"""`xxgk classify`, `tag` and `reclassify`: which 清单 item a post discloses, and why;
`xxgk classify train | retrain | suggest`: the learned model and the office's corrections."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from aggregator.cli._common import consoles, escape, fail, load, missing_sqlite_file, open_store, writable

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
    from aggregator.services.tags import rule_text

    return f"{item}\n  {decided}：{rule_text(c.rule)}\n  依据：{where}；{label}：{words}\n  得分：{c.score:.2f}"


class _ClassifyGroup(TyperGroup):
    """`xxgk classify 1234 --explain` (the spelling before the subcommands) is `classify explain 1234`."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:  # click's types, as typer re-exports them
        if args and args[0].isdigit():
            args = ["explain", *args]
        return super().resolve_command(ctx, args)


classify_app = typer.Typer(
    cls=_ClassifyGroup, invoke_without_command=True, no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="以 JSON 输出")]
# The explanation is always printed now; `--explain` stays accepted for the spellings before the subcommands.
ExplainFlag = Annotated[bool, typer.Option("--explain", hidden=True, help="旧写法，可省略")]
ChannelOption = Annotated[
    str | None, typer.Option("--channel", help="按该渠道的设置判断（渠道 item、渠道名作栏目）", show_default=False)]
TitlesOption = Annotated[
    Path | None, typer.Option("--titles", help="每行一个标题的文件（- 为标准输入）", show_default=False)]


def _json(ctx: typer.Context, as_json: bool) -> bool:
    """`--json` given to the subcommand, or to `classify` before it."""
    parent = ctx.parent.params if ctx.parent is not None else {}
    return as_json or bool(parent.get("as_json"))


@classify_app.callback()
def classify(
    ctx: typer.Context,
    title: Annotated[str | None, typer.Option("--title", help="同 classify title TEXT", show_default=False)] = None,
    titles: TitlesOption = None,
    channel: ChannelOption = None,
    as_json: JsonFlag = False,
    _explain: ExplainFlag = False,
) -> None:
    """判断帖子或标题属于清单第几项，并说明依据（规则，或学习模型；都没有把握时为“待复核”）。

    子命令：explain（已入库的帖子）、title（标题）、train、retrain、suggest。
    旧写法仍可用：xxgk classify 1234 --explain 即 classify explain 1234；
    xxgk classify --title 文本 / --titles 文件 即 classify title。

    例：xxgk classify explain 1234；xxgk classify title "某某大学2024年部门预算" --json；
    xxgk classify title --titles titles.txt --json；xxgk classify retrain
    """
    if ctx.invoked_subcommand is not None:
        return
    if title is None and titles is None:
        fail("请给出子命令：explain 帖子编号、title 标题、train、retrain 或 suggest（xxgk classify --help）")
    _titles(load(ctx), [title] if title is not None else [], titles, channel, as_json)


@classify_app.command("explain")
def explain_command(
    ctx: typer.Context,
    post_id: Annotated[int, typer.Argument(help="已入库帖子的编号")],
    as_json: JsonFlag = False,
    _explain: ExplainFlag = False,
) -> None:
    """已入库的帖子属于清单第几项，依据（规则、匹配词、得分）是什么。

    例：xxgk classify explain 1234；xxgk classify explain 1234 --json
    """
    from aggregator.services.tags import explain_post

    as_json = _json(ctx, as_json)
    cfg = load(ctx)
    with open_store(cfg, create=False) as store:
        post = store.posts.by_id(post_id)
        if post is None:
            fail(f"没有编号为 {post_id} 的帖子")
        found = explain_post(cfg, store, post)
    if as_json:
        print(json.dumps(found.to_json(), ensure_ascii=False))
        return
    if found.item != post.item and found.where != "manual":
        consoles.err.print(f"注意：库中记为 {post.item or '不属于清单'}；规则变化后请运行 xxgk reclassify")
    consoles.out.print(escape(explain_line(found)))


@classify_app.command("title")
def title_command(
    ctx: typer.Context,
    text: Annotated[list[str] | None, typer.Argument(help="一个或多个标题", show_default=False)] = None,
    titles: TitlesOption = None,
    channel: ChannelOption = None,
    as_json: JsonFlag = False,
    _explain: ExplainFlag = False,
) -> None:
    """不入库，判断标题属于清单第几项（多个标题时每行输出一个 JSON）。

    例：xxgk classify title "某某大学2024年部门预算"；xxgk classify title --titles titles.txt --channel xxgk
    """
    if not text and titles is None:
        fail("请给出标题，或用 --titles 指定每行一个标题的文件")
    _titles(load(ctx), list(text or []), titles, channel, _json(ctx, as_json))


def _titles(cfg: Config, texts: list[str], titles: Path | None, channel: str | None, as_json: bool) -> None:
    """Classify the titles given and those of the file (one JSON line each when there are several)."""
    ch = None
    if channel is not None:
        try:
            ch = cfg.channel(channel)
        except KeyError:
            fail(f"没有 id 为 {channel} 的渠道（已配置：{', '.join(c.id for c in cfg.channels)}）")
    if titles is not None:
        try:
            stream = sys.stdin if str(titles) == "-" else open(titles, encoding="utf-8-sig")
        except OSError as exc:
            fail(f"无法读取标题文件 {titles}（{exc.strerror}）：请检查路径，或用 - 从标准输入读取")
        with stream:
            texts += [line.strip() for line in stream if line.strip()]
    classifier = _classifier(cfg)
    column, channel_item = (ch.display_name, ch.item) if ch else (None, None)
    for text in texts:
        found = classifier.classify(text, column, None, channel_item)
        if titles is not None or len(texts) > 1:
            print(json.dumps({"title": text, **found.to_json()}, ensure_ascii=False))
        elif as_json:
            print(json.dumps(found.to_json(), ensure_ascii=False))
        else:
            consoles.out.print(escape(explain_line(found)))


def _classifier(cfg: Config) -> Classifier:
    """The rules with the store's model; a store not made yet is not made to classify a title
    (it has no refitted model: the shipped one answers)."""
    from aggregator.config import classifier_for
    from aggregator.qingdan.model import shipped_model
    from aggregator.services.classify import classifier_of

    if missing_sqlite_file(cfg.store.url) is not None:
        return classifier_for(cfg, shipped_model())
    with open_store(cfg) as store:
        return classifier_of(cfg, store)


@classify_app.command("train")
def train_command(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="模型写到此文件（默认随包保存）",
                                                show_default=False)] = None,
    as_json: JsonFlag = False,
) -> None:
    """用随包的标注标题重新训练学习模型（可复现，不需要配置文件）。

    例：xxgk classify train；xxgk classify train -o model.npz --json
    """
    _train(output, _json(ctx, as_json))


@classify_app.command("retrain")
def retrain_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """用随包标注加上本库的人工标注重新训练学习模型，之后同步与 reclassify 都用它。

    例：xxgk classify retrain
    """
    _action(load(ctx), "retrain", _json(ctx, as_json))


@classify_app.command("suggest")
def suggest_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """根据人工更正，列出可加入规则文件的规则（标题形式与事项）。

    例：xxgk classify suggest；xxgk classify suggest --json
    """
    _action(load(ctx), "suggest", _json(ctx, as_json))


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
        with open_store(cfg, create=False) as store:
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
    app.add_typer(classify_app, name="classify")
    app.command()(tag)
    app.command()(reclassify)
