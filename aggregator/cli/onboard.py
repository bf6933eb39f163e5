"""`xxgk probe` and `xxgk audit`: onboarding a column, and checking the store against the sites' own counts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from aggregator.cli._common import consoles, escape, fail, load, open_store

if TYPE_CHECKING:
    from aggregator.config import HttpConfig


def probe(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="栏目列表页地址，如 https://www.example.edu.cn/xwzx/tzgg.htm")],
    kind: Annotated[str, typer.Option("--kind", help="渠道类型：html 或 procurement")] = "html",
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """识别列表页的 CMS、条目/日期/翻页选择器，预览前几条，并给出可直接粘贴进 config.toml 的 [[channel]] 配置。

    例：xxgk probe https://www.example.edu.cn/xwzx/tzgg.htm；xxgk probe URL --kind procurement --json
    """
    from aggregator.config import HttpConfig
    from aggregator.services.probe import probe as run_probe
    from connectors.base import ChannelError

    if kind not in ("html", "procurement"):
        fail(f"--kind 只能是 html 或 procurement（收到 {kind!r}）")
    if not url.startswith(("http://", "https://")):
        fail(f"请给出 http:// 或 https:// 开头的列表页地址（收到 {url!r}）")
    http = _http_config(ctx) or HttpConfig()
    try:
        result = run_probe(url, kind=kind, http=http)
    except ChannelError as exc:
        fail(f"无法识别该页面：{exc}", code=1)
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    from rich.table import Table

    table = Table("标题", "发布时间", "来源", "地址", title=f"{url} · CMS：{result.cms or '未识别'}"
                  + (f" · 网站自报 共{result.site_total}条" if result.site_total is not None else ""))
    for e in result.entries[:10]:
        table.add_row(escape(e["title"]), (e["published_at"] or "—")[:16].replace("T", " "),
                      "详情页" if e["read_from"] == "detail" else "列表", escape(e["url"]))
    consoles.err.print(table)
    for note in result.notes:
        consoles.err.print(f"· {escape(note)}")
    consoles.err.print("[bold]复制到 config.toml：[/]")
    print(result.toml(), end="")


def _http_config(ctx: typer.Context) -> HttpConfig | None:
    """The config's [http] settings (user agent, politeness) when a config file exists;
    probe needs none."""
    from aggregator.config import ConfigError, config_path, load_config

    path = config_path((ctx.obj or {}).get("config"))
    if not path.exists():
        return None
    try:
        return load_config(path).http
    except ConfigError:
        return None


def audit(
    ctx: typer.Context,
    ids: Annotated[list[str] | None, typer.Argument(help="渠道 id（默认：全部启用的渠道）", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """核对完整性：只读取各渠道列表首页，比较网站自报总数（共N条）与库中帖子数。
    退出码：0 全部完整，1 有缺口，2 有渠道无法读取。

    例：xxgk audit；xxgk audit portal-news --json
    """
    from aggregator.services.audit import audit as run_audit
    from aggregator.services.sync import UnknownChannel

    cfg = load(ctx)
    with open_store(cfg) as store:
        try:
            rows = run_audit(cfg, store, ids or ())
        except UnknownChannel as exc:
            fail(f"配置中没有渠道 {', '.join(exc.unknown)}（已配置：{', '.join(exc.known) or '无'}）")
    trailing = [r for r in rows if r.gap is not None and r.gap > 0]
    unread = [r for r in rows if r.unread]
    if as_json:
        print(json.dumps({"channels": [r.to_json() for r in rows]}, ensure_ascii=False))
    else:
        from rich.table import Table

        table = Table("id", "名称", "网站自报", "库中", "缺口", "说明", title="完整性核对")
        for r in rows:
            gap = "—" if r.gap is None else (f"[red]{r.gap}[/]" if r.gap > 0 else str(r.gap))
            note = r.error or ("网站未给出总数" if r.site_total is None else
                               "库中多于网站（可能已从网站删除）" if (r.gap or 0) < 0 else "")
            table.add_row(r.id, escape(r.name), "—" if r.site_total is None else str(r.site_total), str(r.stored),
                          gap, escape(note))
        consoles.out.print(table)
        if trailing:
            consoles.err.print(f"[red]{len(trailing)} 个渠道少于网站自报总数[/]：{', '.join(r.id for r in trailing)}"
                               " — 用 xxgk sync --full 补全")
    if unread:  # a cron job must not read success from a check that could not be made
        consoles.err.print(f"{len(unread)} 个渠道无法读取，未能核对：{', '.join(r.id for r in unread)}"
                           " — 检查网址与网络后重试（xxgk channels 查看原因）")
        raise typer.Exit(2)
    if trailing:
        raise typer.Exit(1)


def accept(
    ctx: typer.Context,
    channel_id: Annotated[str, typer.Argument(help="渠道 id（配置的列表选择器已不匹配，上次同步按结构识别了列表）")],
) -> None:
    """接受上次同步自动识别出的列表选择器，作为该渠道的选择器（直到修改 config.toml 中该渠道的配置为止）；
    之后的同步重新读取列表页核对，恢复正常后发送一次“已恢复”提醒。操作记入修改记录。

    例：xxgk accept portal-news
    """
    from aggregator.services.accounts import cli_actor
    from aggregator.services.channels import AcceptError, accept_detected

    cfg = load(ctx)
    if channel_id not in {ch.id for ch in cfg.channels}:
        fail(f"配置中没有渠道 {channel_id}（已配置：{', '.join(ch.id for ch in cfg.channels) or '无'}）")
    with open_store(cfg) as store:
        try:
            accepted = accept_detected(cfg, store, channel_id, cli_actor())
        except AcceptError as exc:
            fail(str(exc))
    shown = "；".join(f"{k} = {v}" for k, v in accepted.items() if v and k != "for")
    consoles.err.print(f"已接受渠道 {channel_id} 的列表选择器：{escape(shown)}\n"
                       "下次同步将按此读取；要长期保留，请把它们写进 config.toml 的 [channel.list]。")


COMMANDS = (probe, audit, accept)


def register(app: typer.Typer) -> None:
    for command in COMMANDS:
        app.command()(command)
