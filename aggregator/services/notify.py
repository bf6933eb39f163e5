"""Health alerts and the weekly digest, sent through Apprise to what `[notify] urls` names
(企业微信/WeCom, DingTalk and Feishu bots, e-mail, a generic JSON webhook …).

Alerts are deduplicated by the store: the state last alerted for a channel is a
service mark (`alert:{id}`), so a channel that stays broken for a week sends one
alert, not one per run, and its recovery sends one more. Whichever process
records the change (a cron `xxgk sync`, `serve`, a worker) sends it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from aggregator.clock import local_now
from aggregator.config import ChannelConfig, Config
from storage.store import Store

log = logging.getLogger(__name__)


def send(config: Config, title: str, body: str) -> bool:
    """Send one message to every configured target; False (logged) when none accepted it."""
    if not config.notify.urls:
        return False
    import apprise

    targets = apprise.Apprise()
    for url in config.notify.urls:
        if not targets.add(url):
            log.warning("notify: %s is not a notification URL Apprise knows; skipped", url)
    ok = bool(targets.notify(title=title, body=body))
    if not ok:
        log.warning("notify: no target accepted %r", title)
    return ok


def after_run(config: Config, store: Store, ch: ChannelConfig) -> str | None:
    """Alert when the channel's health changed to or from a bad state; the state alerted, or None."""
    from aggregator.services.channels import overview
    from aggregator.services.health import BAD, STATE_ZH

    if not config.notify.urls:
        return None
    [row] = overview(config, store, ids=(ch.id,))
    mark = f"alert:{ch.id}"
    last = store.marks.get(mark) or "ok"
    if row.state in BAD and row.state != last:
        title = f"【信息公开聚合】{ch.display_name}：{STATE_ZH[row.state]}"
        body = f"渠道 {ch.id}（{ch.display_name}）{STATE_ZH[row.state]}。\n原因：{row.reason}\n地址：{ch.source or ''}"
    elif row.state not in BAD and last in BAD:
        title = f"【信息公开聚合】{ch.display_name}：已恢复"
        body = f"渠道 {ch.id}（{ch.display_name}）已恢复正常（此前：{STATE_ZH.get(last, last)}）。"
    else:
        return None
    if send(config, title, body):
        store.marks.set(mark, row.state if row.state in BAD else "ok")
        return row.state
    return None


def digest_text(config: Config, store: Store, since: date, until: date) -> tuple[str, str]:
    """The weekly digest: new posts by 清单 category, and the channels needing attention."""
    from aggregator.qingdan import items
    from aggregator.services.channels import overview
    from aggregator.services.health import BAD, STATE_ZH
    from aggregator.services.stats import date_range, stats

    names = {i.category: i.category_name for i in items().values()}
    table = stats(store, ["category"], date_range(since.isoformat(), until.isoformat()))
    lines = [f"{since:%m月%d日}—{until:%m月%d日} 新发布："]
    total = 0
    for r in table.rows:
        if not r["count"]:
            continue
        lines.append(f"  {names.get(r['category'], '未归入清单')}：{r['count']} 条")
        total += r["count"]
    lines[0] += f"共 {total} 条"
    attention = [r for r in overview(config, store) if r.state in BAD]
    if attention:
        lines.append("需要关注的渠道：")
        lines.extend(f"  {r.name}（{r.id}）：{STATE_ZH[r.state]} — {r.reason[:120]}" for r in attention)
    else:
        lines.append("所有渠道正常。")
    return f"【信息公开聚合】周报 {since:%m.%d}—{until:%m.%d}", "\n".join(lines)


def send_digest(config: Config, store: Store, now: datetime | None = None) -> bool:
    """Send the week's digest once (the mark `digest:{date}` keeps a second worker from sending it too)."""
    now = now or local_now()
    until = now.date()
    if not config.notify.urls or not store.marks.claim(f"digest:{until.isoformat()}", now.isoformat()):
        return False
    title, body = digest_text(config, store, until - timedelta(days=7), until - timedelta(days=1))
    return send(config, title, body)
