"""The WeChat figures the annual report states beside the post counts: each official account's
followers (at the period's start and end, gained and lost within it — from its「用户增长」export)
and each 视频号's videos and views (from its「动态数据」export). Both come from files the office
already downloads; a figure no export covers is None, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from aggregator.config import Config
from aggregator.services.stats import Period
from storage.stats import video_totals
from storage.store import Store


@dataclass(frozen=True, slots=True)
class AccountFigures:
    channel: str
    name: str
    at_start: int | None  # followers on the last stated day before the period
    at_end: int | None  # … before its end
    net: int | None
    gained: int | None
    lost: int | None
    last_day: date | None  # the latest day an export states within the period


@dataclass(frozen=True, slots=True)
class VideoFigures:
    channel: str
    name: str
    videos: int
    views: int
    likes: int


@dataclass(frozen=True, slots=True)
class Platforms:
    accounts: list[AccountFigures]
    videos: list[VideoFigures]

    @property
    def video_channels(self) -> set[str]:
        return {v.channel for v in self.videos}


def platform_figures(store: Store, config: Config, period: Period) -> Platforms:
    names = {ch.id: ch.display_name for ch in config.channels}
    accounts = [AccountFigures(f.channel_id, names.get(f.channel_id, f.channel_id), f.at_start, f.at_end, f.net,
                               f.gained, f.lost, f.last_day)
                for f in store.accounts.followers(period.start, period.end)]
    wechat = [ch.id for ch in config.channels if ch.kind == "wechat"]
    found = video_totals(store, wechat, None, None) if wechat else {}
    within = video_totals(store, list(found), period.start, period.end) if found else {}
    videos = [VideoFigures(c, names.get(c, c), *within.get(c, (0, 0, 0))) for c in wechat if c in found]
    return Platforms(accounts, videos)


def follower_months(store: Store, channel: str, period: Period) -> list[tuple[str, int | None, int, int]]:
    """(month, followers at the month's last stated day, gained, lost) for the workbook's series."""
    months: dict[str, tuple[int | None, int, int]] = {}
    for d in store.accounts.series(channel, period.start, period.end):
        key = f"{d.day:%Y-%m}"
        last, gained, lost = months.get(key, (None, 0, 0))
        months[key] = (d.followers if d.followers is not None else last, gained + (d.gained or 0),
                       lost + (d.lost or 0))
    return [(m, *v) for m, v in sorted(months.items())]


def account_sentence(a: AccountFigures) -> str:
    """`官方微信公众号关注人数 189,335（期初 152,250，净增 +37,085；新关注 …，取消关注 …）`."""
    if a.at_end is None:
        return f"{a.name}：本期没有关注人数的导出数据"
    parts = [f"期初 {a.at_start:,}" if a.at_start is not None else "期初无数据"]
    if a.net is not None:
        parts[-1] += f"，净增 {a.net:+,}"
    if a.gained is not None and a.lost is not None:
        parts.append(f"新关注 {a.gained:,}，取消关注 {a.lost:,}")
    until = f"；数据至 {a.last_day:%Y-%m-%d}" if a.last_day else ""
    return f"{a.name}关注人数 {a.at_end:,}（{'；'.join(parts)}{until}）"


def video_sentence(v: VideoFigures) -> str:
    return f"{v.name}发布视频 {v.videos} 条，播放量 {v.views:,} 次，喜欢 {v.likes:,} 次"


def platforms_json(p: Platforms) -> dict[str, object]:
    return {
        "accounts": [{"channel": a.channel, "followers": a.at_end, "followers_at_start": a.at_start, "net": a.net,
                      "gained": a.gained, "lost": a.lost,
                      "last_day": a.last_day.isoformat() if a.last_day else None} for a in p.accounts],
        "videos": [{"channel": v.channel, "videos": v.videos, "views": v.views, "likes": v.likes} for v in p.videos],
    }
