"""`xxgk audit`: the store's count of each channel against the count its site states.

Reads only each channel's first list page (one request per channel) and
compares the site's own total (共N条) with the posts stored; a channel whose
store trails its site is named with the gap. The site total is saved in the
channel's state, where `xxgk channels` shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from aggregator.config import Config
from aggregator.pipeline.sync import RequestCounter, make_http_client
from aggregator.services.channels import register
from aggregator.services.sync import select_channels
from connectors import ChannelError, connector_for
from connectors.base import ChannelState, FetchContext
from storage.store import Store


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One channel's audit (the contract's `audit --json` entry, plus what was read)."""

    id: str
    name: str
    site_total: int | None
    site_pages: int | None
    stored: int
    error: str | None = None
    unread: bool = False  # the channel's list could not be read: nothing was checked

    @property
    def gap(self) -> int | None:
        """Posts the store lacks by the site's count (negative: the store holds posts the site
        no longer lists); None when the site states no count."""
        return None if self.site_total is None else self.site_total - self.stored

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "site_total": self.site_total, "stored": self.stored, "gap": self.gap,
                "site_pages": self.site_pages, "error": self.error}


def audit(config: Config, store: Store, ids: Sequence[str] = ()) -> list[AuditRow]:
    """Audit the named channels (default: every enabled one) that have a list page to count."""
    register(config, store)
    rows: list[AuditRow] = []
    with make_http_client(config.http, RequestCounter()) as http:
        for ch in select_channels(config, ids):
            connector = connector_for(ch.kind)
            counter = getattr(connector, "count", None)
            stored = store.posts.count(ch.id)
            if counter is None:
                rows.append(AuditRow(ch.id, ch.display_name, None, None, stored,
                                     f"{ch.kind} 渠道没有自报总数的列表页"))
                continue
            state = store.channels.load_state(ch.id)
            ctx = FetchContext(channel=ch, http=http, state=ChannelState(), max_bytes=config.http.max_bytes)
            try:
                count = counter(ctx)
            except ChannelError as exc:
                rows.append(AuditRow(ch.id, ch.display_name, None, None, stored, str(exc), unread=True))
                continue
            if count.total is not None:
                store.channels.save_state(ch.id, replace(state, data={**state.data, "site_total": count.total}))
            rows.append(AuditRow(ch.id, ch.display_name, count.total, count.pages, stored))
    return rows
