"""The list walk's bookkeeping: what a list entry is, what a walk keeps between syncs (`WalkState`,
the named fields of the channel state's `data`), the detail pages waiting for a retry
(`RetryQueue`), and the rules that decide where an incremental walk stops. No fetching and no
HTML here: `connectors.html` walks the pages, this module keeps the score.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import connectors.messages as msg
from aggregator.clock import local_now
from connectors.base import ChannelState, FetchContext
from connectors.dates import MonthDay


@dataclass(slots=True)
class Entry:
    url: str
    title: str
    date: datetime | date | MonthDay | None
    key: str


@dataclass(frozen=True, slots=True)
class ListCount:
    """A list's own statement of its size: records, pages, or both (None when silent)."""

    total: int | None = None
    pages: int | None = None


@dataclass(slots=True)
class WalkState:
    """What a channel's list walk keeps between syncs, under these names in `ChannelState.data`
    (the keys every earlier version wrote, so a stored state reads back unchanged).

    - `walked`: one walk has reached the end of the list; until then every sync walks to the end.
    - `backfill_next` / `backfill_page`: where an interrupted complete walk resumes.
    - `walk_to`: the page an interrupted incremental walk must reach before it may stop.
    - `site_total` / `site_pages`: what the list's first page says of its own size.
    - `findings` / `detected` / `parsed_with`: what the last parse of page 1 found wrong with the
      selectors, the selectors it detected instead, and the fingerprint of the selectors it used.
    - `auto`: a bare-URL channel's list as discovery found it (preset or selectors, and how many
      entries page 1 had); re-checked on every read of page 1.
    """

    walked: bool = False
    backfill_next: str | None = None
    backfill_page: int = 1
    walk_to: int = 0
    site_total: int | None = None
    site_pages: int | None = None
    findings: list[str] = field(default_factory=list)
    detected: dict[str, str | None] | None = None
    parsed_with: str | None = None
    auto: dict[str, Any] | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> WalkState:
        def number(name: str) -> int | None:
            value = data.get(name)
            return int(value) if isinstance(value, (int, float, str)) and str(value).isdigit() else None

        detected, auto = data.get("detected"), data.get("auto")
        return cls(walked=bool(data.get("walked")),
                   backfill_next=data.get("backfill_next") or None,
                   backfill_page=number("backfill_page") or 1,
                   walk_to=number("walk_to") or 0,
                   site_total=number("site_total"),
                   site_pages=number("site_pages"),
                   findings=[str(f) for f in data.get("findings") or []],
                   detected=dict(detected) if isinstance(detected, dict) else None,
                   parsed_with=data.get("parsed_with") or None,
                   auto=dict(auto) if isinstance(auto, dict) else None)

    def into(self, data: dict[str, Any]) -> dict[str, Any]:
        """`data` with this walk's fields written over it (an unset field leaves no key)."""
        out = {k: v for k, v in data.items() if k not in _WALK_KEYS}
        values: dict[str, Any] = {"walked": self.walked or None, "backfill_next": self.backfill_next,
                                  "backfill_page": self.backfill_page if self.backfill_next else None,
                                  "walk_to": self.walk_to or None, "site_total": self.site_total,
                                  "site_pages": self.site_pages, "findings": self.findings or None,
                                  "detected": self.detected, "parsed_with": self.parsed_with, "auto": self.auto}
        out.update({k: v for k, v in values.items() if v is not None})
        return out


_WALK_KEYS = frozenset(WalkState.__dataclass_fields__)


@dataclass(slots=True)
class Retry:
    """A detail page that could not be read: its list entry, and when to try again."""

    url: str
    title: str
    date: str | None  # ISO, from the list
    tries: int
    first_failed: str  # ISO, Shanghai
    next_at: str
    reason: str


class RetryQueue:
    """Detail pages to read again, kept in the channel state (`data["retry"]`) between syncs.

    The first retry is on the next sync; after that the wait doubles from an hour,
    capped at a day. After `give_up_days` a page is given up with its reason recorded
    (the post stays stored from its list entry).
    """

    def __init__(self, saved: object, *, give_up_days: int) -> None:
        self.items: dict[str, Retry] = {}
        if isinstance(saved, dict):
            for key, value in saved.items():
                try:
                    self.items[key] = Retry(**value)
                except TypeError:
                    continue  # a queue written by another version: the posts are stored, drop the entry
        self.give_up_days = give_up_days
        self.now = local_now()

    def due(self) -> list[Entry]:
        return [Entry(r.url, r.title, _iso_date(r.date), key) for key, r in self.items.items()
                if r.next_at <= self.now.isoformat()]

    def waiting(self) -> list[Retry]:
        return [r for r in self.items.values() if r.next_at > self.now.isoformat()]

    def done(self, key: str) -> None:
        self.items.pop(key, None)

    def failed(self, entry: Entry, reason: str) -> tuple[str, bool]:
        """Record a failure: the note the run reports for it, and whether it stays queued."""
        old = self.items.get(entry.key)
        tries = (old.tries if old else 0) + 1
        first = old.first_failed if old else self.now.isoformat()
        if datetime.fromisoformat(first) < self.now - timedelta(days=self.give_up_days):
            self.items.pop(entry.key, None)
            return msg.detail_given_up(reason, tries, first[:10], self.give_up_days), False
        wait = timedelta(0) if tries == 1 else min(timedelta(hours=2 ** (tries - 2)), timedelta(days=1))
        listed = entry.date.isoformat() if isinstance(entry.date, (datetime, date)) else None
        self.items[entry.key] = Retry(entry.url, entry.title, listed, tries, first,
                                      (self.now + wait).isoformat(), reason)
        return msg.detail_retried(reason, tries), True

    def into(self, state: ChannelState) -> ChannelState:
        data = {k: v for k, v in state.data.items() if k != "retry"}
        if self.items:
            data["retry"] = {k: asdict(r) for k, r in self.items.items()}
        return replace(state, data=data)


def _iso_date(value: str | None) -> datetime | date | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.date() if len(value) == 10 else parsed


def count_gap(count: ListCount, rows: int, walked: int) -> str | None:
    """What a complete walk missed by the list's own count (None when nothing)."""
    if count.total is not None and rows < count.total:
        return msg.count_gap_total(count.total, rows, walked)
    if count.pages is not None and walked < count.pages:
        return msg.count_gap_pages(count.pages, walked)
    return None


def before(value: object, since: date) -> bool:
    if isinstance(value, datetime):
        return value.date() < since
    if isinstance(value, date):
        return value < since
    return False


def walk_page(entries: list[Entry], seen: set[str], ctx: FetchContext,
              complete_walk: bool = False) -> tuple[list[Entry], bool]:
    """One list page against the walk so far: the entries to read, and whether an
    incremental walk has reached what the store already held.

    The walk rules (docs/sites.md): an entry seen earlier in this run (a pinned 置顶 notice
    recurring at its own date, a repeated or re-dated entry) is neither read again nor
    taken for the store's edge — it never stops a walk. An incremental walk stops on a
    page where an entry the store held before this run follows a new one (known
    entries *above* the new ones are pinned items), or where nothing is new and some
    entry was already held. `--full` reads every entry and never stops here; a walk that
    must reach the end (`complete_walk`: no walk has yet) reads the new ones and never stops.
    """
    fresh: list[Entry] = []
    reached = met_new = held = False
    for e in entries:
        if e.key in seen:
            continue
        seen.add(e.key)
        if ctx.full or not ctx.is_known(e.key):
            fresh.append(e)
            met_new = True
        else:
            held = True
            reached = reached or met_new
    return fresh, not complete_walk and (reached or (held and not fresh))
