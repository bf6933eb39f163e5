"""Each channel's health, derived from its run history and what the store holds, and
when the scheduler should next sync it.

States (README.md, "The service"): `ok`; `stale` (nothing new for longer than the channel's
`expect_new_within`); `incomplete` (details missing, undated posts, fewer stored
than the site's own count, or a partial last run); `broken` (the page no longer
reads); `blocked` (WAF, 403/412, captcha, robots.txt); `unreachable` (connection,
DNS, timeout, 5xx, 404 on the list). A failing channel is retried with capped
exponential backoff — five minutes, doubling, at most a day apart — and never
disabled.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aggregator.clock import SHANGHAI
from aggregator.config import TIMEZONE, ChannelConfig
from connectors.messages import SKIPPED
from storage.records import LastRun

if TYPE_CHECKING:
    from storage.records import RunRow

BAD = frozenset({"broken", "blocked", "unreachable", "incomplete"})
STATE_ZH = {"ok": "正常", "stale": "久未更新", "incomplete": "不完整", "broken": "无法解析", "blocked": "被拦截",
            "unreachable": "无法访问"}
# Days without a new post before a channel is stale, by kind (a WeChat account posts weekly;
# an OA export arrives when someone brings it).
STALE_DAYS = {"html": 30, "procurement": 30, "feed": 30, "wechat": 14, "table": 90}
BACKOFF_FIRST = timedelta(minutes=5)
BACKOFF_CAP = timedelta(days=1)
_FAILURE_ZH = {"blocked": "被网站防火墙或访问限制拦截", "unreachable": "无法访问", "broken": "页面无法按配置读取"}


@dataclass(frozen=True, slots=True)
class Health:
    state: str
    reason: str  # in plain words, for the office

    @property
    def bad(self) -> bool:
        return self.state in BAD


def failures_in_a_row(runs: list[RunRow]) -> int:
    """Failed runs since the last one that was not (runs newest first; interruptions skipped)."""
    n = 0
    for r in runs:
        if r.status in ("interrupted", "running"):
            continue
        if r.status != "failed":
            break
        n += 1
    return n


def _last_finished(runs: list[RunRow]) -> RunRow | None:
    return next((r for r in runs if r.status in ("ok", "partial", "failed")), None)


def health(ch: ChannelConfig, runs: list[RunRow], *, newest_seen: datetime | None, undated: int,
           details_missing: int, gap: int | None, now: datetime) -> Health:
    """The channel's state and why, from its runs (newest first) and its posts."""
    last = _last_finished(runs)
    if last is None:
        cut = next((r for r in runs if r.status == "interrupted"), None)
        if cut is not None:  # posts may be stored: say what happened, not 「尚未同步」
            return Health("stale", f"尚未完成一次同步：{cut.error or '上次同步中途停止'}")
        return Health("stale", "尚未同步")
    if last.status == "failed":
        kind = last.failure or "broken"
        error = (last.error or "").split("；" + SKIPPED.split("{")[0])[0]  # the failure, not the skips after it
        tries = failures_in_a_row(runs)
        return Health(kind, f"{_FAILURE_ZH.get(kind, '同步失败')}（连续 {tries} 次）：{error}")
    problems = []
    if details_missing:
        problems.append(f"{details_missing} 条详情页未能读取（已按列表保存，会自动重试）")
    if undated:
        problems.append(f"{undated} 条没有发布日期（不计入月度统计）")
    if gap:
        problems.append(f"比网站自报总数少 {gap} 条")
    if problems:
        return Health("incomplete", "；".join(problems))
    if last.status == "partial":
        return Health("incomplete", f"上次同步部分成功：{(last.error or '')[:300]}")
    days = ch.expect_new_within or STALE_DAYS.get(ch.kind, 30)
    if newest_seen is not None and now - newest_seen > timedelta(days=days):
        return Health("stale", f"已 {(now - newest_seen).days} 天没有新帖（预期 {days} 天内会有）")
    return Health("ok", "正常")


def backoff(failures: int, first: timedelta = BACKOFF_FIRST) -> timedelta:
    """How long after the last failed run the next try waits: 5 min, 10, 20, … capped at a day.

    >>> [str(backoff(n)) for n in (1, 2, 3, 20)]
    ['0:05:00', '0:10:00', '0:20:00', '1 day, 0:00:00']
    """
    if failures <= 0:
        return timedelta(0)
    return min(first * (2 ** min(failures - 1, 20)), BACKOFF_CAP)


def offset(channel_id: str, jitter: int) -> timedelta:
    """A channel's own fixed delay after its cron time, so channels due together do not start together."""
    return timedelta(seconds=zlib.crc32(channel_id.encode()) % (jitter + 1)) if jitter else timedelta(0)


@lru_cache(maxsize=512)
def _trigger(schedule: str) -> Any:
    """A cron expression's trigger, parsed once (a tick asks for every channel's)."""
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger.from_crontab(schedule, timezone=TIMEZONE)


def due_at(ch: ChannelConfig, runs: list[RunRow], now: datetime, jitter: int = 0,
           first_backoff: timedelta = BACKOFF_FIRST) -> datetime | None:
    """When the channel is next due (naive Shanghai time; may be in the past: it is due now).
    None when disabled. A channel never synced is due at once; a failing one waits out its backoff."""
    # A run cut short (killed, stopped) does not count: the channel is due again to finish it.
    started = [r for r in runs if r.status not in ("running", "interrupted")]
    last = LastRun(started[0], failures_in_a_row(runs)) if started else None
    return next_due(ch, last, now, jitter, first_backoff)


class FireTimes:
    """Each channel's next cron time after its last start, kept per channel: a tick asks for every
    channel's, and it changes only when the channel runs (a cron computation is ~60 µs; 2,000
    channels twice a second)."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[str, datetime, datetime | None]] = {}

    def after(self, ch: ChannelConfig, last_start: datetime) -> datetime | None:
        kept = self._kept.get(ch.id)
        if kept is not None and kept[0] == ch.schedule and kept[1] == last_start:
            return kept[2]
        nxt = _trigger(ch.schedule).get_next_fire_time(None, last_start.replace(tzinfo=SHANGHAI) + timedelta(seconds=1))
        fire = nxt.astimezone(SHANGHAI).replace(tzinfo=None) if nxt else None
        self._kept[ch.id] = (ch.schedule, last_start, fire)
        return fire


def next_due(ch: ChannelConfig, last: LastRun | None, now: datetime, jitter: int = 0,
             first_backoff: timedelta = BACKOFF_FIRST, fires: FireTimes | None = None) -> datetime | None:
    """`due_at` from the channel's last finished run and its failures since the last success
    (`Runs.last_runs`: what the scheduler reads on each tick)."""
    if not ch.enabled:
        return None
    if last is None:
        return now
    if last.failures:  # retried on its backoff, whatever the cron says (a daily channel is not left a day)
        return (last.run.finished_at or last.run.started_at) + backoff(last.failures, first_backoff)
    fire = (fires or FireTimes()).after(ch, last.run.started_at)
    return fire + offset(ch.id, jitter) if fire else None
