"""The sync pipeline: connector → normalise → classify → store, one channel at a time.

Rules it keeps (DESIGN.md, issue #2):
- posts are committed in batches, and a connector's `Checkpoint` state is
  saved only after every post yielded before it is committed — a crash makes
  the next sync re-fetch, never skip;
- a (channel, key) is stored once; a changed post keeps its old version;
- a failing channel is recorded as failed with its error, keeps what it
  stored before failing, and never stops the other channels.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import httpx

from aggregator.classify import Classifier, default_classifier
from aggregator.config import ChannelConfig, Config, HttpConfig, classifier_for
from aggregator.normalize import InvalidPost, normalise
from connectors import ChannelError, Connector, connector_for
from connectors.base import ChannelState, Checkpoint, FetchContext, RawPost, Skipped
from connectors.http import PoliteTransport
from connectors.urls import canonical_url
from storage.store import ChannelRecord, PostRecord, RunCounts, Store, StoredState

log = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_REPORTED_SKIPS = 20

Status = Literal["ok", "partial", "failed"]


@dataclass(slots=True)
class RunResult:
    """How one channel's sync ended (the contract's `sync --json` entry)."""

    id: str
    status: Status
    fetched: int = 0
    new: int = 0
    updated: int = 0
    requests: int = 0
    skipped: int = 0
    error: str | None = None
    seconds: float = 0.0
    finished_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "fetched": self.fetched,
            "new": self.new,
            "updated": self.updated,
            "requests": self.requests,
            "error": self.error,
        }


@dataclass(slots=True)
class Progress:
    """What a progress display is told while a channel syncs."""

    channel: ChannelConfig
    event: Literal["start", "progress", "done"]
    counts: RunCounts = field(default_factory=RunCounts)
    result: RunResult | None = None


ProgressFn = Callable[[Progress], None]


class UnknownChannel(KeyError):
    def __init__(self, unknown: Sequence[str], known: Sequence[str]) -> None:
        self.unknown = list(unknown)
        self.known = list(known)
        super().__init__(
            f"no channel with id {', '.join(self.unknown)} in the config "
            f"(configured: {', '.join(self.known) or 'none'})"
        )


class _RequestCounter:
    """Counts the requests the current channel's connector sends (httpx event hook)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()  # detail pages are fetched from worker threads

    def __call__(self, _request: httpx.Request) -> None:
        with self._lock:
            self.count += 1


def make_http_client(cfg: HttpConfig, counter: Callable[[httpx.Request], None]) -> httpx.Client:
    """The one HTTP client a sync shares between its channels; politeness lives in its transport."""
    transport = PoliteTransport(
        user_agent=cfg.user_agent,
        concurrency=cfg.concurrency,
        per_host_interval=cfg.per_host_interval,
        retries=cfg.retries,
        obey_robots=cfg.obey_robots,
        on_request=counter,
    )
    return httpx.Client(
        headers={"User-Agent": cfg.user_agent},
        timeout=cfg.timeout,
        follow_redirects=False,  # fetch_page follows redirects itself, within the channel's hosts
        transport=transport,
    )


def channel_record(ch: ChannelConfig) -> ChannelRecord:
    return ChannelRecord(
        id=ch.id,
        name=ch.display_name,
        kind=ch.kind,
        group_name=ch.group_name,
        source=ch.url or ch.path,
        enabled=ch.enabled,
    )


def classify(classifier: Classifier, channel: ChannelConfig, record: PostRecord) -> None:
    """Set the post's 清单 item: the channel's `item = N`, else the rules."""
    found = classifier.classify(record.title, record.source_column, record.body, channel.item)
    record.item, record.category = found.item, found.category
    record.item_source = "channel" if found.where == "channel" else "rule"


def _to_connector_state(s: StoredState) -> ChannelState:
    return ChannelState(
        cursor=s.cursor, etag=s.etag, last_modified=s.last_modified, seen=tuple(s.seen), data=dict(s.data)
    )


def _to_stored_state(s: ChannelState) -> StoredState:
    return StoredState(
        cursor=s.cursor, etag=s.etag, last_modified=s.last_modified, seen=list(s.seen), data=dict(s.data)
    )


def _skips_message(skips: list[str]) -> str:
    shown = "; ".join(skips[:MAX_REPORTED_SKIPS])
    more = len(skips) - MAX_REPORTED_SKIPS
    tail = f"; … and {more} more" if more > 0 else ""
    return f"skipped {len(skips)}: {shown}{tail}"


def sync_channel(
    store: Store,
    channel: ChannelConfig,
    http: httpx.Client,
    connector: Connector,
    *,
    full: bool = False,
    requests: _RequestCounter | None = None,
    on_progress: ProgressFn | None = None,
    http_config: HttpConfig | None = None,
    classifier: Classifier | None = None,
) -> RunResult:
    """Run one channel's connector into the store and record the run."""
    started = time.monotonic()
    http_config = http_config or HttpConfig()
    classifier = classifier or default_classifier()
    counts = RunCounts()
    requests = requests or _RequestCounter()
    requests.count = 0
    skips: list[str] = []
    batch: list[PostRecord] = []
    run_id = store.start_run(channel.id, full=full)
    if on_progress:
        on_progress(Progress(channel, "start", counts))

    def flush() -> None:
        if batch:
            written = store.write_posts(channel.id, batch)
            counts.new += written.new
            counts.updated += written.updated
            batch.clear()
        counts.requests = requests.count
        if on_progress:
            on_progress(Progress(channel, "progress", counts))

    def is_known(key_or_url: str) -> bool:
        key = canonical_url(key_or_url) if "://" in key_or_url else key_or_url
        return store.has_post(channel.id, key)

    ctx = FetchContext(
        channel=channel,
        http=http,
        state=_to_connector_state(store.load_state(channel.id)),
        full=full,
        is_known=is_known,
        max_bytes=http_config.max_bytes,
        concurrency=http_config.concurrency,
    )
    status: Status = "ok"
    error: str | None = None
    try:
        for item in connector.fetch(ctx):
            if isinstance(item, RawPost):
                counts.fetched += 1
                try:
                    record = normalise(item)
                except InvalidPost as exc:
                    skips.append(str(exc))
                    continue
                classify(classifier, channel, record)
                batch.append(record)
                if len(batch) >= BATCH_SIZE:
                    flush()
            elif isinstance(item, Skipped):
                skips.append(str(item))
            elif isinstance(item, Checkpoint):
                flush()  # the posts first, then the state that says they are in
                store.save_state(channel.id, _to_stored_state(item.state))
            else:
                raise TypeError(f"connector yielded {type(item).__name__}, not a post, skip or checkpoint")
        flush()
    except ChannelError as exc:
        status, error = "failed", str(exc)
    except Exception as exc:  # a bug or an outage in one channel must not stop the others
        log.exception("channel %s: unexpected error", channel.id)
        status, error = "failed", f"unexpected error ({type(exc).__name__}): {exc}"
    if status == "failed":
        try:
            flush()  # keep every post read before the failure
        except Exception as exc:
            log.exception("channel %s: could not store the posts read before the failure", channel.id)
            error = f"{error}; and storing the posts read before it failed: {exc}"
    counts.skipped = len(skips)
    counts.requests = requests.count
    if skips:
        skip_text = _skips_message(skips)
        error = f"{error}; {skip_text}" if error else skip_text
        if status == "ok":
            status = "partial"
    finished_at = store.finish_run(run_id, status, counts, error)
    result = RunResult(
        id=channel.id,
        status=status,
        fetched=counts.fetched,
        new=counts.new,
        updated=counts.updated,
        requests=counts.requests,
        skipped=counts.skipped,
        error=error,
        seconds=time.monotonic() - started,
        finished_at=finished_at,
    )
    if on_progress:
        on_progress(Progress(channel, "done", counts, result))
    return result


def select_channels(config: Config, ids: Sequence[str] = ()) -> list[ChannelConfig]:
    """The channels named (even if disabled), or every enabled channel."""
    if not ids:
        return [ch for ch in config.channels if ch.enabled]
    known = [ch.id for ch in config.channels]
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise UnknownChannel(unknown, known)
    wanted = set(ids)
    return [ch for ch in config.channels if ch.id in wanted]


def sync(
    config: Config,
    store: Store,
    ids: Sequence[str] = (),
    *,
    full: bool = False,
    connectors: Mapping[str, type[Connector]] | None = None,
    on_progress: ProgressFn | None = None,
) -> list[RunResult]:
    """Sync the selected channels one after another; every channel gets a result."""
    channels = select_channels(config, ids)
    store.register_channels(channel_record(ch) for ch in config.channels)
    counter = _RequestCounter()
    classifier = classifier_for(config)
    results: list[RunResult] = []
    with make_http_client(config.http, counter) as http:
        for ch in channels:
            try:
                connector = connector_for(ch.kind, connectors)
            except ChannelError as exc:
                run_id = store.start_run(ch.id, full=full)
                finished = store.finish_run(run_id, "failed", RunCounts(), str(exc))
                result = RunResult(id=ch.id, status="failed", error=str(exc), finished_at=finished)
                if on_progress:
                    on_progress(Progress(ch, "done", RunCounts(), result))
                results.append(result)
                continue
            results.append(
                sync_channel(store, ch, http, connector, full=full, requests=counter, on_progress=on_progress,
                             http_config=config.http, classifier=classifier)
            )
    written = sum(r.new + r.updated for r in results)
    if written:
        store.tidy_search(written)
    return results


@dataclass(slots=True)
class ReclassifyResult:
    checked: int = 0
    changed: int = 0


def reclassify(config: Config, store: Store) -> ReclassifyResult:
    """Re-run the rules (and channel items) on every post not tagged by hand."""
    classifier = classifier_for(config)
    channel_items = {ch.id: ch.item for ch in config.channels}
    result = ReclassifyResult()
    for rows in store.iter_unreviewed():
        updates = []
        for row in rows:
            found = classifier.classify(row["title"], row["source_column"], row["body"],
                                        channel_items.get(row["channel_id"]))
            source = "channel" if found.where == "channel" else "rule"
            if found.item != row["item"] or row["item_source"] != source:
                updates.append({"_id": row["id"], "item": found.item, "category": found.category,
                                "item_source": source})
            result.changed += found.item != row["item"]
        result.checked += len(rows)
        store.update_items(updates)
    return result
