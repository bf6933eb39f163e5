"""The sync pipeline: connector → normalise → classify → store, for one channel.

Rules it keeps (README.md, "Web channels"):
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import httpx

import connectors.messages as msg
from aggregator.config import ChannelConfig, HttpConfig
from aggregator.pipeline.normalize import InvalidPost, key_of, normalise
from aggregator.qingdan.classify import Classifier, default_classifier, source_of
from connectors import ChannelError, Connector
from connectors.base import AccountDay, ChannelState, Checkpoint, FetchContext, Item, RawPost, Skipped
from connectors.http import HostClock, PoliteTransport
from connectors.urls import Identity
from storage.accounts import FollowerDay
from storage.store import UNAVAILABLE, PostRecord, RunCounts, Store, StoredState

log = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_REPORTED_SKIPS = 20

Status = Literal["ok", "partial", "failed", "interrupted"]


@dataclass(slots=True)
class RunResult:
    """How one channel's sync ended (the contract's `sync --json` entry)."""

    id: str
    status: Status
    counts: RunCounts = field(default_factory=RunCounts)
    error: str | None = None
    seconds: float = 0.0
    finished_at: datetime | None = None
    site_total: int | None = None  # the count the channel's list states of itself (共N条), when it does
    failure: str | None = None  # for a failed run: blocked | unreachable | broken (ChannelError.failure)
    note: str | None = None  # what the run noticed that is no failure (the site's address changed)

    @property
    def fetched(self) -> int:
        return self.counts.fetched

    @property
    def new(self) -> int:
        return self.counts.new

    @property
    def updated(self) -> int:
        return self.counts.updated

    @property
    def requests(self) -> int:
        return self.counts.requests

    @property
    def skipped(self) -> int:
        return self.counts.skipped

    def to_json(self) -> dict[str, Any]:
        """The contract's shape; `note` (an extension) only when the run has one."""
        out = {
            "id": self.id,
            "status": self.status,
            "fetched": self.fetched,
            "new": self.new,
            "updated": self.updated,
            "requests": self.requests,
            "error": self.error,
            "site_total": self.site_total,
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass(slots=True)
class Progress:
    """What a progress display is told while a channel syncs."""

    channel: ChannelConfig
    event: Literal["start", "progress", "done"]
    counts: RunCounts = field(default_factory=RunCounts)
    result: RunResult | None = None


ProgressFn = Callable[[Progress], None]


def progress_done(on_progress: ProgressFn | None, channel: ChannelConfig, result: RunResult) -> None:
    if on_progress:
        on_progress(Progress(channel, "done", result.counts, result))


class RequestCounter:
    """Counts the requests the current channel's connector sends (httpx event hook)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()  # detail pages are fetched from worker threads

    def __call__(self, _request: httpx.Request) -> None:
        with self._lock:
            self.count += 1


def make_http_client(cfg: HttpConfig, counter: Callable[[httpx.Request], None],
                     clock: HostClock | None = None) -> httpx.Client:
    """The one HTTP client a sync shares between its channels; politeness lives in its transport
    (`clock`: per-host turns shared with other clients of the process, e.g. the scheduler's)."""
    transport = PoliteTransport(
        clock=clock,
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


def classify(classifier: Classifier, channel: ChannelConfig, record: PostRecord) -> None:
    """Set the post's 清单 item: the channel's `item = N`, else the rules and the model
    (`item_source` says which: channel | rule | model | review)."""
    found = classifier.classify(record.title, record.source_column, record.body, channel.item, explain=False)
    record.item, record.category = found.item, found.category
    record.item_source = source_of(found)


def _to_connector_state(s: StoredState) -> ChannelState:
    return ChannelState(
        cursor=s.cursor, etag=s.etag, last_modified=s.last_modified, seen=tuple(s.seen), data=dict(s.data)
    )


def _to_stored_state(s: ChannelState) -> StoredState:
    return StoredState(
        cursor=s.cursor, etag=s.etag, last_modified=s.last_modified, seen=list(s.seen), data=dict(s.data)
    )


def _list_message(head: str, items: list[str]) -> str:
    return msg.listed(head, items, MAX_REPORTED_SKIPS)


def _skips_message(skips: list[str]) -> str:
    return _list_message(msg.SKIPPED.format(n=len(skips)), skips)


def sync_channel(
    store: Store,
    channel: ChannelConfig,
    http: httpx.Client,
    connector: Connector,
    *,
    full: bool = False,
    requests: RequestCounter | None = None,
    on_progress: ProgressFn | None = None,
    http_config: HttpConfig | None = None,
    classifier: Classifier | None = None,
    stop: threading.Event | None = None,
    after_posts: Callable[[], list[str]] | None = None,
) -> RunResult:
    """Run one channel's connector into the store and record the run.

    When `stop` is set (SIGTERM), fetching stops at the next item: what was fetched is
    stored, the run is recorded as interrupted, and the next sync resumes (a checkpoint
    is saved only after the posts it describes, so nothing is skipped). `after_posts`
    (keeping the posts' attachments) runs once the posts are stored; each problem it
    returns ("url: why") makes the run partial."""
    started = time.monotonic()
    http_config = http_config or HttpConfig()
    run = _Run(store, channel, classifier or default_classifier(), requests or RequestCounter(), on_progress)
    run_id = store.runs.start(channel.id, full=full)
    run.progress("start")
    rekeyed = rekey(store, channel.id, run.identity)
    ctx = FetchContext(channel=channel, http=http, state=_to_connector_state(store.channels.load_state(channel.id)),
                       full=full, is_known=run.is_known, max_bytes=http_config.max_bytes,
                       concurrency=http_config.concurrency)
    run.site_total = ctx.state.data.get("site_total")
    status, error, failure = run.consume(connector.fetch(ctx), stop)
    kept_problems = _keep_attachments(channel, after_posts) if after_posts is not None and status == "ok" else []
    run.counts.skipped = len(run.skips)
    run.counts.requests = run.requests.count
    notes = run.notes(kept_problems, rekeyed)
    moved = _moved(store, channel.id, run.origins)
    if notes:
        error = "；".join([error, *notes] if error else notes)
        if status == "ok":
            status = "partial"
    finished_at = store.runs.finish(run_id, status, run.counts, error, failure, moved)
    result = RunResult(id=channel.id, status=status, counts=run.counts, error=error,
                       seconds=time.monotonic() - started, finished_at=finished_at, site_total=run.site_total,
                       failure=failure, note=moved)
    progress_done(on_progress, channel, result)
    return result


class _Run:
    """One channel's sync as it goes: the posts waiting to be written, what was skipped or stored
    undated, the hosts the posts came from."""

    def __init__(self, store: Store, channel: ChannelConfig, classifier: Classifier, requests: RequestCounter,
                 on_progress: ProgressFn | None) -> None:
        self.store, self.channel, self.classifier = store, channel, classifier
        self.requests, self.on_progress = requests, on_progress
        requests.count = 0
        self.counts = RunCounts()
        self.identity = Identity.of(channel.allowed_hosts)
        self.skips: list[str] = []
        self.undated: list[str] = []
        self.batch: list[PostRecord] = []
        self.account_days: list[FollowerDay] = []
        self.origins: dict[str, int] = {}
        self.site_total: int | None = None

    def progress(self, phase: Literal["start", "progress"]) -> None:
        if self.on_progress:
            self.on_progress(Progress(self.channel, phase, self.counts))

    def flush(self) -> None:
        if self.batch:
            written = self.store.posts.write(self.channel.id, self.batch)
            self.counts.new += written.new
            self.counts.updated += written.updated
            self.batch.clear()
        if self.account_days:
            self.store.accounts.record(self.channel.id, self.account_days)
            self.account_days.clear()
        self.counts.requests = self.requests.count
        self.progress("progress")

    def is_known(self, key_or_url: str) -> bool:
        key = key_of(key_or_url, None, self.identity)
        return key is not None and self.store.posts.has(self.channel.id, key)

    def consume(self, items: Iterable[Item], stop: threading.Event | None) -> tuple[Status, str | None, str | None]:
        """Store what the connector yields: status, error and failure class of the fetch."""
        status: Status = "ok"
        error = failure = None
        try:
            for item in items:
                if stop is not None and stop.is_set():
                    status, error = "interrupted", "同步被停止（服务关闭）；已获取的帖子均已保存，下次同步会继续。"
                    break
                self.take(item)
            self.flush()
        except ChannelError as exc:
            status, error, failure = "failed", str(exc), exc.failure
        except Exception as exc:  # a bug or an outage in one channel must not stop the others
            log.exception("channel %s: unexpected error", self.channel.id)
            status, error, failure = "failed", msg.UNEXPECTED.format(kind=type(exc).__name__, detail=exc), "broken"
        if status in ("failed", "interrupted"):
            try:
                self.flush()  # keep every post read before the failure
            except Exception as exc:
                log.exception("channel %s: could not store the posts read before the failure", self.channel.id)
                error = msg.STORE_FAILED_AFTER.format(error=error or "", detail=exc)
        return status, error, failure

    def take(self, item: Item) -> None:
        if isinstance(item, RawPost):
            self.counts.fetched += 1
            try:
                record = normalise(item, self.identity)
            except InvalidPost as exc:
                self.skips.append(str(exc))
                return
            origin = _own_origin(record.url, self.identity) if record.url else None
            if origin:
                self.origins[origin] = self.origins.get(origin, 0) + 1
            if record.published_at is None and record.extra.get("status") not in UNAVAILABLE:
                self.undated.append(record.url or record.key)
            classify(self.classifier, self.channel, record)
            self.batch.append(record)
            if len(self.batch) >= BATCH_SIZE:
                self.flush()
        elif isinstance(item, Skipped):
            self.skips.append(str(item))
        elif isinstance(item, AccountDay):
            self.account_days.append(FollowerDay(item.day, item.followers, item.gained, item.lost))
        elif isinstance(item, Checkpoint):
            self.flush()  # the posts first, then the state that says they are in
            self.store.channels.save_state(self.channel.id, _to_stored_state(item.state))
            self.site_total = item.state.data.get("site_total", self.site_total)
        else:
            raise TypeError(f"connector yielded {type(item).__name__}, not a post, skip, account day or checkpoint")

    def notes(self, kept_problems: list[str], rekeyed: str | None) -> list[str]:
        """What the run must say beside its counts (each makes an ok run partial)."""
        notes = []
        if self.skips:
            notes.append(_skips_message(self.skips))
        if self.undated:
            # Stored, but outside every monthly count until someone dates it: never silently.
            notes.append(_list_message(msg.UNDATED.format(n=len(self.undated)), self.undated))
        if kept_problems:
            notes.append(_list_message(msg.ATTACHMENTS_NOT_KEPT.format(n=len(kept_problems)), kept_problems))
        if rekeyed:
            notes.append(rekeyed)
        return notes


def _keep_attachments(channel: ChannelConfig, after_posts: Callable[[], list[str]]) -> list[str]:
    try:
        return after_posts()
    except Exception as exc:  # the posts are stored; their attachments wait for the next sync
        log.exception("channel %s: attachments not kept", channel.id)
        return [msg.ATTACHMENTS_NOT_FETCHED.format(kind=type(exc).__name__, detail=exc)]


def rekey(store: Store, channel_id: str, identity: Identity) -> str | None:
    """Bring the channel's stored keys to `identity`'s spelling when it changed since they were made
    (an upgrade from keys with schemes, or `url`/`hosts` edited): the mark `keys:{id}` holds the
    identity the keys follow. Posts that would collide are left as they are and named (None: no problem)."""
    mark = f"keys:{channel_id}"
    if store.marks.get(mark) == identity.signature:
        return None
    moved, collisions = store.posts.rekey(channel_id, identity.key)
    store.marks.set(mark, identity.signature)
    if moved:
        log.info("channel %s: %d stored keys re-spelt for %s", channel_id, moved, identity.signature)
    if not collisions:
        return None
    return _list_message(
        f"{len(collisions)} 条已保存的帖子是同一地址的两种写法（http/https，或本渠道的两个域名），此前被保存了两次；"
        "两条都保留、未合并：请核对后手工删除多余的一条", [f"{old} = {new}" for old, new in collisions])


def _own_origin(url: str, identity: Identity) -> str | None:
    """`scheme://host` of a post's URL when the host is one of the channel's own."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}" if host in identity.aliases else None


def _moved(store: Store, channel_id: str, origins: dict[str, int]) -> str | None:
    """The note, once, when the site's posts now live at another scheme or host than on the last
    sync that saw any (the mark `origin:{id}`); their keys are the same, so nothing is counted twice."""
    if not origins:
        return None
    now = max(origins, key=lambda o: (origins[o], o))
    mark = f"origin:{channel_id}"
    before = store.marks.get(mark)
    if before == now:
        return None
    store.marks.set(mark, now)
    if before is None:
        return None
    return (f"网站地址已由 {before} 变为 {now}：帖子按同一地址识别，已有的帖子未重复计入"
            "（如网站迁到新域名，请把新旧域名都写进渠道的 hosts）")
