"""What the store's repositories take and give: plain, typed records (no SQL, no HTML). A leaf: it
imports nothing of ours, so any layer may read these records (the compliance rules read `PostText`).

Single rows a repository reads whole come back as the SQLModel rows of `storage.models` (`Post`,
`PostRevision`, `PostMetric`); rows read many at a time (runs, attachments) and partial rows as the
small dataclasses here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class ChannelRecord:
    id: str
    name: str
    kind: str
    group_name: str
    source: str | None
    enabled: bool


@dataclass(slots=True)
class PostRecord:
    """A normalised post, ready to store (built by the pipeline)."""

    key: str
    title: str
    content_hash: str
    url: str | None = None
    body: str = ""
    body_html: str | None = None
    published_at: datetime | None = None
    department: str | None = None
    attachments: list[dict[str, str]] = field(default_factory=list)
    source_column: str | None = None
    type: str | None = None
    reads: int | None = None
    likes: int | None = None
    counts_at: datetime | None = None
    complete: bool = True  # False: a counts-only record (an export without the text); never overwrites content
    item: int | None = None
    category: int | None = None
    item_source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class WriteResult:
    new: int = 0
    updated: int = 0


@dataclass(slots=True)
class RunCounts:
    fetched: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0
    requests: int = 0


@dataclass(slots=True)
class StoredState:
    cursor: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    seen: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProcessId:
    """Which process on which machine (and boot) holds something: enough to tell, on the
    same machine, that the holder is gone — or that its pid is another process's now."""

    host: str
    boot_id: str | None
    pid: int
    pid_start: str | None  # the process's start (clock ticks since boot), None where unknown


@dataclass(frozen=True, slots=True)
class Lease:
    """A channel's lease as the store holds it: `won` when the asker now holds it."""

    channel_id: str
    won: bool
    holder: str
    acquired_at: datetime
    expires_at: datetime
    process: ProcessId | None = None  # None for a lease written before migration 0010
    renewed_at: datetime | None = None  # when the holder was last seen alive


@dataclass(slots=True)
class ChannelOverview:
    id: str
    name: str
    kind: str
    group_name: str
    enabled: bool
    posts: int
    last_run_status: str | None
    last_run_started: datetime | None
    last_run_finished: datetime | None
    last_error: str | None
    last_ok: datetime | None


@dataclass(frozen=True, slots=True)
class RunRow:
    """One sync run as stored (`sync_runs`). A dataclass, not the SQLModel row: the scheduler
    reads every channel's last runs on each tick, and a table model costs 40 µs to build."""

    id: int
    channel_id: str
    started_at: datetime
    finished_at: datetime | None
    status: str  # running | ok | partial | failed | interrupted
    full: bool
    fetched: int
    new: int
    updated: int
    skipped: int
    requests: int
    error: str | None
    failure: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class LastRun:
    """What a channel's next due time is read from: its last finished run (ok, partial or failed)
    and how many runs failed since its last success (runs cut short do not count)."""

    run: RunRow
    failures: int


@dataclass(frozen=True, slots=True)
class PostRef:
    """A post as lists name it: review queues, a procurement project's announcements."""

    id: int
    channel_id: str
    title: str
    url: str | None
    published_at: datetime | None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class SearchMark:
    """Where the store stands for a search: its highest post id and how many times a stored post
    changed in a way a search sees (`search_changes`, migration 0016). While `changes` stands,
    a search counted at this mark is still right for the posts up to `last_id`."""

    last_id: int
    changes: int


@dataclass(frozen=True, slots=True)
class PostText:
    """What a compliance check reads of a post (`aggregator.compliance` calls it a Subject)."""

    id: int
    channel_id: str
    title: str
    body: str
    item: int | None
    type: str | None
    published_at: datetime | None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class TagSubject:
    """What the classifier reads of a post it may re-tag, and the tag it has."""

    id: int
    channel_id: str
    title: str
    source_column: str | None
    body: str
    item: int | None
    item_source: str | None


@dataclass(frozen=True, slots=True)
class TagUpdate:
    """A new 清单 tag for a post (`reclassify`); a manual tag is never overwritten."""

    id: int
    item: int | None
    category: int | None
    item_source: str | None


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    """One attachment link of a post and, when it was kept, what its file is."""

    id: int
    post_id: int
    url: str
    name: str
    status: str
    sha256: str | None
    error: str | None
    etag: str | None
    last_modified: str | None
    fetched_at: datetime | None
    checked_at: datetime | None
    size: int | None
    mime: str | None
    kind: str | None
    text_status: str | None
    pages: int | None
    note: str | None


@dataclass(frozen=True, slots=True)
class PendingFile:
    """A kept file whose text is still to be read."""

    sha256: str
    kind: str
    size: int


@dataclass(frozen=True, slots=True)
class AttachmentUsage:
    """Files kept, their bytes, and the attachment rows that point at them."""

    files: int
    bytes: int
    links: int
