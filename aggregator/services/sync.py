"""Sync a set of channels from the config, and re-classify the store: the
operations `xxgk sync`, the web's "sync now" and the scheduler share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aggregator.config import ChannelConfig, Config, classifier_for
from aggregator.pipeline.sync import (
    ProgressFn,
    RequestCounter,
    RunResult,
    make_http_client,
    progress_done,
    sync_channel,
)
from aggregator.services.channels import register
from connectors import ChannelError, Connector, connector_for
from storage.store import RunCounts, Store


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
) -> list[RunResult]:
    """Sync the selected channels one after another; every channel gets a result."""
    channels = select_channels(config, ids)
    register(config, store)
    counter = RequestCounter()
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
                progress_done(on_progress, ch, result)
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
