"""The channel overview every face shows: each configured channel with its
last run, last success, post count and next scheduled run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aggregator.clock import SHANGHAI, iso_local
from aggregator.config import TIMEZONE, ChannelConfig, Config
from connectors.listwalk import WalkState
from storage.store import ChannelRecord, Store

# How a run ended, in the office's words.
STATUS_ZH = {"ok": "成功", "partial": "部分成功", "failed": "失败", "interrupted": "中断", "running": "进行中"}


def channel_record(ch: ChannelConfig) -> ChannelRecord:
    return ChannelRecord(id=ch.id, name=ch.display_name, kind=ch.kind, group_name=ch.group_name,
                         source=ch.source, enabled=ch.enabled)


def register(config: Config, store: Store, channels: Sequence[ChannelConfig] | None = None) -> None:
    """Make the store know every configured channel, or those given (names and groups as the
    config now says)."""
    store.channels.register(channel_record(ch) for ch in (config.channels if channels is None else channels))


def next_run(ch: ChannelConfig, now: datetime | None = None) -> datetime | None:
    """When the scheduler will next sync the channel (None when disabled), in Asia/Shanghai.

    >>> from connectors.settings import ChannelSettings
    >>> ch = ChannelSettings(id="x", kind="html", schedule="*/30 * * * *")
    >>> next_run(ch, datetime(2024, 9, 1, 10, 7, tzinfo=SHANGHAI)).isoformat()
    '2024-09-01T10:30:00+08:00'
    """
    if not ch.enabled:
        return None
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(ch.schedule, timezone=TIMEZONE)
    now = now or datetime.now(SHANGHAI)
    nxt = trigger.get_next_fire_time(None, now)
    return None if nxt is None else nxt.astimezone(SHANGHAI)


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """One channel as `xxgk channels --json` and `/api/channels` give it."""

    id: str
    name: str
    kind: str
    group: str
    source: str | None
    enabled: bool
    schedule: str
    posts: int
    last_sync: str | None
    last_success: str | None
    status: str | None
    error: str | None
    next_run: str | None
    state: str = "ok"  # ok | stale | incomplete | broken | blocked | unreachable (services/health.py)
    reason: str = ""  # the state in plain words
    last_error: str | None = None  # the newest error of the runs since the last ok one
    site_total: int | None = None  # what the channel's list says it holds (共N条)
    site_pages: int | None = None  # how many list pages it says it has (1/N)
    undated: int = 0  # stored without a publication date: outside every monthly count
    details_missing: int = 0  # stored from the list while the detail page could not be read
    syncing: str | None = None  # who holds the channel's lease now, if anyone
    # List selectors found by shape where the configured ones matched nothing — or, for a bare-URL
    # channel (`"auto": true`), what its discovery recorded: preset or selectors, and page 1's entries.
    detected: dict[str, Any] | None = None
    accepted: dict[str, Any] | None = None  # detected selectors the office took as the channel's own

    @property
    def gap(self) -> int | None:
        """How many posts the store trails the site's own count by (None when the site states none)."""
        return None if self.site_total is None else max(0, self.site_total - self.posts)

    def to_json(self) -> dict[str, Any]:
        return {**{name: getattr(self, name) for name in self.__slots__}, "gap": self.gap}

    @property
    def status_text(self) -> str:
        text = STATUS_ZH.get(self.status, "从未同步") if self.status else "从未同步"
        return text if self.enabled else f"{text}（已停用）"

    @property
    def state_text(self) -> str:
        from aggregator.services.health import STATE_ZH

        return STATE_ZH.get(self.state, self.state)

    @property
    def posts_text(self) -> str:
        """`40`, or `40 / 网站 62（差 22）` when the site states its count."""
        if self.site_total is None:
            return str(self.posts)
        gap = self.gap
        return f"{self.posts} / 网站 {self.site_total}" + (f"（差 {gap}）" if gap else "")

    @property
    def pending_text(self) -> str:
        """What is stored but not whole: undated posts and posts whose detail page is missing."""
        parts = [f"无日期 {self.undated}" if self.undated else "",
                 f"缺正文 {self.details_missing}" if self.details_missing else ""]
        return " · ".join(p for p in parts if p)


def overview(config: Config, store: Store, now: datetime | None = None,
             ids: tuple[str, ...] | None = None) -> list[ChannelRow]:
    """Every configured channel (or those named), in config order, with its health."""
    from aggregator.services.health import due_at, health

    register(config, store)
    store.leases.close_orphan_runs()  # a run whose process died is closed as interrupted by whoever looks
    now = now or datetime.now(SHANGHAI)
    local = now.astimezone(SHANGHAI).replace(tzinfo=None)
    one = ids[0] if ids and len(ids) == 1 else None
    known = {o.id: o for o in store.channels.overview(one)}
    gaps = store.channels.gaps(one)
    states = store.channels.states()
    history = store.runs.history(channel_id=one)
    newest = store.posts.newest_seen(one)
    leases = store.leases.live()
    rows = []
    for ch in config.channels:
        if ids is not None and ch.id not in ids:
            continue
        o = known[ch.id]
        runs = history.get(ch.id, [])
        undated, missing = gaps.get(ch.id, (0, 0))
        walk = WalkState.of(states.get(ch.id, {}))
        site_total = walk.site_total
        gap = None if site_total is None else max(0, site_total - o.posts)
        h = health(ch, runs, newest_seen=newest.get(ch.id), undated=undated, details_missing=missing, gap=gap,
                   now=local)
        due = due_at(ch, runs, local, config.service.jitter, timedelta(seconds=config.service.backoff))
        nxt = next_run(ch, now) if due is None or not runs else max(due, local).replace(tzinfo=SHANGHAI)
        # The newest error since the channel last synced cleanly: a recovered channel shows none.
        since_ok = runs[:next((i for i, r in enumerate(runs) if r.status == "ok"), len(runs))]
        last_error = next((r.error for r in since_ok if r.error), None)
        # A channel given by its URL alone is named by its column, as its page states it.
        name = ch.name or str((walk.auto or {}).get("name") or ch.id)
        rows.append(ChannelRow(
            id=ch.id, name=name, kind=ch.kind, group=ch.group or name, source=ch.source,
            enabled=ch.enabled, schedule=ch.schedule, posts=o.posts,
            last_sync=iso_local(o.last_run_finished or o.last_run_started), last_success=iso_local(o.last_ok),
            status=o.last_run_status, error=o.last_error,
            next_run=nxt.isoformat(timespec="seconds") if nxt else None,
            state=h.state, reason=h.reason, last_error=last_error,
            site_total=site_total, site_pages=walk.site_pages,
            undated=undated, details_missing=missing,
            syncing=leases[ch.id].holder if ch.id in leases else None,
            detected=walk.detected or ({**walk.auto, "auto": True} if walk.auto else None),
            accepted=_accepted(states.get(ch.id, {})),
        ))
    return rows


def _accepted(data: dict[str, Any]) -> dict[str, Any] | None:
    accepted = data.get("accepted")
    return {k: v for k, v in accepted.items() if k != "for"} if isinstance(accepted, dict) else None


class AcceptError(ValueError):
    """Nothing to accept, or the channel is syncing (the message says which and what to do)."""


def accept_detected(config: Config, store: Store, channel_id: str, actor: str,
                    address: str | None = None) -> dict[str, Any]:
    """Take the list selectors the last sync found by shape as the channel's own, while its config
    stays as it is (a config edit supersedes them). Done under the channel's lease, recorded in the
    audit log with what the config said before; the next sync reads the list afresh with them."""
    from dataclasses import replace

    from aggregator.services.accounts import record
    from aggregator.services.leases import ChannelBusy, channel_lease, holder_name
    from connectors.html import DETECTED_FIELDS, HtmlSettings, effective_selectors

    ch = config.channel(channel_id)
    if not isinstance(ch, HtmlSettings):
        raise AcceptError(f"渠道 {channel_id} 不是网页列表渠道，没有可接受的选择器")
    register(config, store)
    try:
        with channel_lease(store, channel_id, holder_name(f"接受选择器（{actor}）"), config.service.lease):
            state = store.channels.load_state(channel_id)
            detected = WalkState.of(state.data).detected
            if detected is None:
                raise AcceptError(f"渠道 {channel_id} 没有自动识别出的选择器可接受：配置的选择器在上次同步时可用，"
                                  "或尚未同步；先运行 xxgk sync")
            configured, fingerprint = effective_selectors(ch, {})
            accepted = {**{k: detected.get(k) for k in DETECTED_FIELDS}, "for": fingerprint}
            store.channels.save_state(channel_id, replace(state, data={**state.data, "accepted": accepted}))
    except ChannelBusy as busy:
        raise AcceptError(f"{busy}（正在同步时不能接受选择器）") from None
    before = {k: getattr(configured, k) for k in DETECTED_FIELDS}
    record(store, actor, "accept", f"channel:{channel_id}", _selectors_text(before), _selectors_text(detected),
           address)
    return accepted


def _selectors_text(sel: dict[str, Any]) -> str:
    return "；".join(f"{k} = {v}" for k, v in sel.items() if v and k != "for")
