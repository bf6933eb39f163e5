"""The contract between a channel kind and the pipeline.

A connector turns one configured channel into a stream of `RawPost`s. It is
given the channel's config, an httpx client and the channel's saved state; it
yields posts, `Skipped` notes for the pieces it could not read, and
`Checkpoint`s carrying the state to save. It never touches the store: the
pipeline commits every post yielded before a checkpoint, then the checkpoint's
state (Singer's rule: after a crash a sync re-fetches, it never skips).

A connector that cannot read its channel at all raises `ChannelError` with a
message a person can act on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

import httpx

from connectors.settings import ChannelSettings


class ChannelError(Exception):
    """The channel could not be read; the message says where and what to try.

    `failure` says what kind of trouble it is, for the channel's health state:
    `blocked` (a WAF shell, 403/412, a captcha, robots.txt), `unreachable` (no
    connection, DNS, timeout, 5xx, a 404 on the list or a missing folder) or
    `broken` (the source answers but no longer reads: a selector that matches
    nothing, a file that is not what it was).

    >>> str(ChannelError("list selector `ul.news li` matched 0 entries on "
    ...                  "https://www.example.edu.cn/xxyw.htm — did the site change?"))
    'list selector `ul.news li` matched 0 entries on https://www.example.edu.cn/xxyw.htm — did the site change?'
    """

    def __init__(self, message: str, *, failure: str = "broken") -> None:
        super().__init__(message)
        self.failure = failure


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    url: str


@dataclass(slots=True)
class RawPost:
    """One post as a connector saw it, before normalisation.

    `key` identifies the post within its channel (a VSB news id, a WeChat
    `__biz:mid:idx`, an OA 文号); when empty, the canonical URL is the key.
    A naive `published_at` is read as Asia/Shanghai wall time; a `date`
    means midnight of that day.
    """

    title: str
    url: str | None = None
    key: str | None = None
    published_at: datetime | date | None = None
    body: str = ""
    body_html: str | None = None
    department: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    column: str | None = None  # the source's own column path, e.g. "信息公开>招生考试信息"
    type: str | None = None  # procurement announcement type (README.md, "Procurement fields")
    reads: int | None = None
    likes: int | None = None
    counts_at: datetime | None = None  # when reads/likes were observed (an export file's time)
    complete: bool = True  # False when the source lacks the text (an export of titles and counts)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file, row or page the connector could not read; everything else goes on.

    `where` names the place (a URL, `file.csv` line 17), `reason` what was
    wrong and, where it helps, what to do.
    """

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ChannelState:
    """What a connector remembers between syncs.

    `cursor` is the connector's own resume point (a page URL during a
    backfill, a file name); `etag`/`last_modified` serve conditional GETs;
    `seen` is a small set of markers (e.g. hashes of imported export files);
    `data` holds anything else a connector needs, as JSON.
    """

    cursor: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    seen: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Save this state once every post yielded before it is stored."""

    state: ChannelState


@dataclass(frozen=True, slots=True)
class AccountDay:
    """One day of an account's followers, as its platform's own export states them (公众号后台
    「用户分析」: 新关注人数, 取消关注人数, 累积关注人数). Not a post: kept beside the posts."""

    day: date
    followers: int | None  # 累积关注人数 at the end of the day
    gained: int | None = None  # 新关注人数
    lost: int | None = None  # 取消关注人数


Item = RawPost | Skipped | Checkpoint | AccountDay


@dataclass(slots=True)
class FetchContext:
    """Everything a connector is given for one run of one channel."""

    channel: ChannelSettings
    http: httpx.Client
    state: ChannelState
    full: bool = False
    max_bytes: int = 10_000_000  # [http] max_bytes: larger responses are refused
    concurrency: int = 1  # detail pages in flight at once ([http] concurrency)
    # True when the store already holds a post with this key (or canonical
    # URL) in this channel: incremental syncs stop on a page of known posts.
    is_known: Callable[[str], bool] = lambda _key: False


@runtime_checkable
class Connector(Protocol):
    """One channel kind (`html`, `procurement`, `feed`, `wechat`, `table`)."""

    kind: ClassVar[str]
    settings: ClassVar[type[ChannelSettings]]  # the model its `[[channel]]` tables are validated against

    def fetch(self, ctx: FetchContext) -> Iterator[Item]:
        """Yield the channel's posts (newest first where the source allows),
        `Skipped` notes and `Checkpoint`s; raise `ChannelError` when the
        channel cannot be read at all."""
        ...
