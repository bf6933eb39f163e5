"""Sync a set of channels from the config, and re-classify the store: the
operations `xxgk sync`, the web's "sync now" and the scheduler share."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aggregator.config import ChannelConfig, Config
from aggregator.pipeline.sync import (
    ProgressFn,
    RequestCounter,
    RunResult,
    make_http_client,
    progress_done,
    sync_channel,
)
from aggregator.qingdan.classify import source_of
from aggregator.services.channels import register
from aggregator.services.classify import classifier_of
from aggregator.services.leases import ChannelBusy, channel_lease, holder_name
from connectors import ChannelError, Connector, connector_for
from connectors.http import HostClock
from storage.records import TagUpdate
from storage.store import RunCounts, Store

log = logging.getLogger(__name__)


class UnknownChannel(KeyError):
    def __init__(self, unknown: Sequence[str], known: Sequence[str]) -> None:
        self.unknown = list(unknown)
        self.known = list(known)
        super().__init__(
            f"no channel with id {', '.join(self.unknown)} in the config "
            f"(configured: {', '.join(self.known) or 'none'})"
        )


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
    holder: str | None = None,
    stop: threading.Event | None = None,
    should_run: Callable[[ChannelConfig], bool] | None = None,
    clock: HostClock | None = None,
    on_extract: Callable[[int, int], None] | None = None,
) -> list[RunResult]:
    """Sync the selected channels one after another; every channel gets a result.

    Each channel is synced under its lease (one writer per channel, whoever asks: a cron
    `xxgk sync`, the service, the web's "sync now"); a channel another process holds is
    not synced and its result names the holder. When `stop` is set the running channel
    ends as interrupted and the rest are not started. `should_run` is asked again once the
    lease is held (the scheduler: is the channel still due, or did another worker just sync it?);
    a channel it declines gets no result. After each run, a change of health is alerted.

    A channel's attachments are kept once its posts are stored (a `--full` sync re-checks
    the kept ones); their text is read after every channel is done (`on_extract(n, of)`)."""
    channels = select_channels(config, ids)
    register(config, store, channels)  # those it syncs: the scheduler syncs one at a time, of thousands
    holder = holder or holder_name("xxgk sync")
    counter = RequestCounter()
    classifier = classifier_of(config, store)
    results: list[RunResult] = []
    with make_http_client(config.http, counter, clock) as http:
        for ch in channels:
            if stop is not None and stop.is_set():
                break
            try:
                connector = connector_for(ch.kind, connectors)
            except ChannelError as exc:
                results.append(_unsyncable(store, ch, str(exc), full, on_progress))
                continue
            try:
                with channel_lease(store, ch.id, holder, config.service.lease):
                    if should_run is not None and not should_run(ch):
                        continue
                    result = sync_channel(store, ch, http, connector, full=full, requests=counter,
                                          on_progress=on_progress, http_config=config.http,
                                          classifier=classifier, stop=stop,
                                          after_posts=_keeper(config, store, ch, http, full))
            except ChannelBusy as busy:
                result = RunResult(id=ch.id, status="failed", error=str(busy))
                progress_done(on_progress, ch, result)
                results.append(result)
                continue
            results.append(result)
            _alert(config, store, ch)
    _after_all(config, store, channels, results, stopped=stop is not None and stop.is_set(), on_extract=on_extract)
    return results


def _after_all(config: Config, store: Store, channels: Sequence[ChannelConfig], results: Sequence[RunResult], *,
               stopped: bool, on_extract: Callable[[int, int], None] | None) -> None:
    """Once every channel is done: the search index tidied after many writes, and the kept
    attachments' text read (not when the sync was stopped)."""
    written = sum(r.new + r.updated for r in results)
    if written:
        store.posts.tidy_search(written)
    if any(c.attachments == "index" for c in channels) and not stopped:
        from aggregator.services.attachments import extract_pending

        report = extract_pending(store, config.attachments, on_file=on_extract)
        for problem in report.failed:
            log.warning("attachment text not read: %s", problem)


def _unsyncable(store: Store, ch: ChannelConfig, why: str, full: bool, on_progress: ProgressFn | None) -> RunResult:
    """A channel no connector can read (an unknown kind): recorded as a failed run, saying why."""
    run_id = store.runs.start(ch.id, full=full)
    finished = store.runs.finish(run_id, "failed", RunCounts(), why)
    result = RunResult(id=ch.id, status="failed", error=why, finished_at=finished)
    progress_done(on_progress, ch, result)
    return result


def _keeper(config: Config, store: Store, ch: ChannelConfig, http: Any,
            full: bool) -> Callable[[], list[str]] | None:
    """What keeps the channel's attachments after its posts (None: the channel keeps none)."""
    if ch.attachments == "off" or not ch.url:
        return None
    from aggregator.services.attachments import keep

    return lambda: keep(store, ch, http, config.attachments, recheck=full).problems


def _alert(config: Config, store: Store, ch: ChannelConfig) -> None:
    if not config.notify.urls:
        return
    from aggregator.services.notify import after_run

    try:
        after_run(config, store, ch)
    except Exception:  # an alert that cannot be sent never fails the sync that caused it
        log.exception("channel %s: health alert not sent", ch.id)


@dataclass(slots=True)
class ReclassifyResult:
    checked: int = 0
    changed: int = 0


def reclassify(config: Config, store: Store) -> ReclassifyResult:
    """Re-run the rules, the model (and channel items) on every post not tagged by hand."""
    classifier = classifier_of(config, store)
    channel_items = {ch.id: ch.item for ch in config.channels}
    result = ReclassifyResult()
    for rows in store.posts.iter_unreviewed():
        updates = []
        for row in rows:
            found = classifier.classify(row.title, row.source_column, row.body, channel_items.get(row.channel_id),
                                        explain=False)
            source = source_of(found)
            if found.item != row.item or row.item_source != source:
                updates.append(TagUpdate(row.id, found.item, found.category, source))
            result.changed += found.item != row.item
        result.checked += len(rows)
        store.posts.update_tags(updates)
    return result
