"""The store's tables. Every change to them goes through a migration in
`storage/migrations/versions/` (a test checks the two agree).

Times are naive Asia/Shanghai wall time (see `aggregator.clock`).
"""

from __future__ import annotations

from datetime import date as date_
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

# JSON on SQLite, JSONB on PostgreSQL.
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
# Naive Asia/Shanghai wall time (aggregator.clock), not SQLModel's default aware-UTC type.
LocalTime = sa.DateTime(timezone=False)


class Channel(SQLModel, table=True):
    """A configured channel as the store last saw it in `config.toml`.

    Rows are never deleted when a channel leaves the config: its posts and
    runs stay countable for the years they cover.
    """

    __tablename__ = "channels"

    id: str = Field(primary_key=True, max_length=64)
    name: str
    kind: str = Field(max_length=16)
    group_name: str
    source: str | None = None  # the URL or path it reads
    enabled: bool = True
    registered_at: datetime = Field(sa_type=LocalTime)


class Post(SQLModel, table=True):
    """One published item: unique per (channel, key)."""

    __tablename__ = "posts"
    __table_args__ = (
        sa.UniqueConstraint("channel_id", "key", name="uq_posts_channel_key"),
        # Every statistic is a date range grouped by some of these: with them all in
        # one index the counts never touch the table (1M posts: ~5× faster).
        sa.Index("ix_posts_stats", "published_at", "channel_id", "category", "item", "type", "reads"),
        sa.Index("ix_posts_item_published", "item", "published_at"),
        # search and statistics filtered by channel: a channel's posts in date order, without
        # reading their rows (SQLite keeps the body inline, before published_at)
        sa.Index("ix_posts_channel_published", "channel_id", "published_at"),
        # 「另见」: a notice's copies on other channels within weeks of a result, one range a key
        sa.Index("ix_posts_notice", "notice_key", "published_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(foreign_key="channels.id", max_length=64)
    key: str
    url: str | None = None
    title: str
    body: str = ""
    body_html: str | None = None
    published_at: datetime | None = Field(default=None, sa_type=LocalTime)
    department: str | None = None
    attachments: list[dict[str, str]] = Field(default_factory=list, sa_type=JSONType)
    # The text of the post's kept attachments, in sections headed 【附件：name】, as searched.
    attachment_text: str | None = Field(default=None, sa_type=sa.Text)
    source_column: str | None = None
    type: str | None = Field(default=None, max_length=16)
    reads: int | None = None
    likes: int | None = None
    counts_at: datetime | None = Field(default=None, sa_type=LocalTime)  # when reads/likes were observed
    item: int | None = None
    category: int | None = None
    # Who set `item`: "channel" (config), "rule" (classifier) or "manual";
    # a manual tag is never overwritten.
    item_source: str | None = Field(default=None, max_length=16)
    extra: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    # The same notice on several channels shares this key (storage.search.notice_key; 「另见」).
    notice_key: str | None = Field(default=None, max_length=16)  # ix_posts_notice
    content_hash: str = Field(max_length=64)
    first_seen_at: datetime = Field(sa_type=LocalTime)
    updated_at: datetime = Field(sa_type=LocalTime)


class PostRevision(SQLModel, table=True):
    """An earlier version of a post, kept when its content changed: the office
    must be able to show what was published when."""

    __tablename__ = "post_revisions"

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="posts.id", index=True)
    title: str
    body: str = ""
    published_at: datetime | None = Field(default=None, sa_type=LocalTime)
    department: str | None = None
    attachments: list[dict[str, str]] = Field(default_factory=list, sa_type=JSONType)
    content_hash: str = Field(max_length=64)
    valid_from: datetime = Field(sa_type=LocalTime)  # when this version was first stored
    valid_to: datetime = Field(sa_type=LocalTime)  # when a newer version replaced it


class PostMetric(SQLModel, table=True):
    """A dated snapshot of a post's counts (WeChat reads and likes, per export file)."""

    __tablename__ = "post_metrics"
    __table_args__ = (sa.UniqueConstraint("post_id", "observed_at", name="uq_post_metrics_post_observed"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="posts.id", index=True)
    observed_at: datetime = Field(sa_type=LocalTime)
    reads: int | None = None
    likes: int | None = None


class SyncRun(SQLModel, table=True):
    """One sync of one channel: what it fetched and how it ended."""

    __tablename__ = "sync_runs"
    __table_args__ = (sa.Index("ix_sync_runs_channel_started", "channel_id", "started_at"),
                      sa.Index("ix_sync_runs_channel_id", "channel_id", "id"),
                      sa.Index("ix_sync_runs_running", "channel_id", sqlite_where=sa.text("status = 'running'"),
                               postgresql_where=sa.text("status = 'running'")))

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(foreign_key="channels.id", max_length=64)
    started_at: datetime = Field(sa_type=LocalTime)
    finished_at: datetime | None = Field(default=None, sa_type=LocalTime)
    # running | ok | partial | failed | interrupted
    status: str = Field(default="running", max_length=16)
    full: bool = False
    fetched: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0
    requests: int = 0
    error: str | None = None
    # Why a failed run failed: blocked (WAF, 403/412, captcha, robots.txt), unreachable
    # (connection, DNS, timeout, 404 on the list) or broken (the page no longer reads).
    failure: str | None = Field(default=None, max_length=16)
    # What the run noticed that is no failure: the site's address changed (https, www, a new
    # domain among the channel's hosts), a finding carried over from the last parse.
    note: str | None = None


class ChannelStateRow(SQLModel, table=True):
    """A connector's memory between syncs, saved after the posts it describes."""

    __tablename__ = "channel_state"

    channel_id: str = Field(primary_key=True, foreign_key="channels.id", max_length=64)
    cursor: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    seen: list[str] = Field(default_factory=list, sa_type=JSONType)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    updated_at: datetime = Field(sa_type=LocalTime)


class ChannelLease(SQLModel, table=True):
    """One writer per channel: who syncs it now, until when (renewed while syncing, so a
    killed process's lease simply expires)."""

    __tablename__ = "channel_leases"

    channel_id: str = Field(primary_key=True, foreign_key="channels.id", max_length=64)
    holder: str = Field(max_length=200)  # "xxgk serve on host (pid 123)"
    acquired_at: datetime = Field(sa_type=LocalTime)
    expires_at: datetime = Field(sa_type=LocalTime)
    # Which process holds it: on the same host (and boot) a holder whose pid is gone, or is
    # another process now (its start differs), is dead and loses the lease at once.
    host: str | None = Field(default=None, max_length=200)
    boot_id: str | None = Field(default=None, max_length=64)
    pid: int | None = None
    pid_start: str | None = Field(default=None, max_length=32)
    renewed_at: datetime | None = Field(default=None, sa_type=LocalTime)


class ServiceMark(SQLModel, table=True):
    """Something the service must do once: `export:2025-08` (that month's statistics
    written), `alert:portal-news` (the health state last alerted), `digest:2025-W36`."""

    __tablename__ = "service_marks"

    name: str = Field(primary_key=True, max_length=200)
    value: str
    updated_at: datetime = Field(sa_type=LocalTime)


class SearchChanges(SQLModel, table=True):
    """One row: how many times a post already stored (or its channel's group) changed in a way
    a search sees. Triggers keep it (migration 0016), whatever statement made the change; new
    posts do not move it (they only raise the highest id). A search's count kept with this
    number and the highest id is still right while the number stands: only posts after that
    id need counting again (`Posts.search_mark`)."""

    __tablename__ = "search_changes"

    one: int = Field(default=1, primary_key=True)
    changes: int = Field(default=0, sa_type=sa.BigInteger())


class SearchCube(SQLModel, table=True):
    """A query's facet cube (`storage.search.FacetCube`: its matches grouped by month, channel,
    清单 category and item, and type) as a web process grouped it, at the store's mark it was
    grouped at. Another process, or the same one after a restart, brings it to now with the
    posts stored since instead of grouping every match again (a common phrase at 100k posts on
    PostgreSQL: 0.2–0.7 s, each of its phrase's candidates rechecked). A cache: every row may
    go (`Posts.keep_cube` keeps the newest few hundred); a change the mark sees makes it unused."""

    __tablename__ = "search_cubes"
    __table_args__ = (sa.Index("ix_search_cubes_made", "made_at"),)

    words: str = Field(primary_key=True, max_length=64)  # a digest of the query's words
    last_id: int
    changes: int = Field(sa_type=sa.BigInteger())
    made_at: datetime = Field(sa_type=LocalTime)
    data: bytes = Field(sa_type=sa.LargeBinary())


class _RollupSums(SQLModel):
    """What the statistics rollup (migration 0013) sums for a key of month, channel, 清单 category
    and item and type. A key's empty parts are '' / 0 (month '' = no publication date), so a
    key is one row."""

    posts: int = Field(sa_type=sa.BigInteger)
    reads: int = Field(sa_type=sa.BigInteger)
    budget: float
    budget_n: int = Field(sa_type=sa.BigInteger)
    award: float
    award_n: int = Field(sa_type=sa.BigInteger)


class PostRollup(_RollupSums, table=True):
    """Posts counted by key — kept by triggers on `posts` (SQLite adds here; PostgreSQL through
    `post_rollup_delta`), read by the statistics."""

    __tablename__ = "post_rollup"

    month: str = Field(primary_key=True, max_length=7)
    channel_id: str = Field(primary_key=True, max_length=64)
    category: int = Field(primary_key=True)
    item: int = Field(primary_key=True)
    type: str = Field(primary_key=True, max_length=16)


class PostRollupDelta(_RollupSums, table=True):
    """PostgreSQL: each write statement's net change to the rollup, appended without taking a lock
    another writer waits on, folded into `post_rollup` after a write (empty on SQLite)."""

    __tablename__ = "post_rollup_delta"

    id: int | None = Field(default=None, primary_key=True,
                           sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"))
    month: str = Field(max_length=7)
    channel_id: str = Field(max_length=64)
    category: int
    item: int
    type: str = Field(max_length=16)


metadata = SQLModel.metadata

# Indexes made by hand-written SQL in the migrations (expressions, one dialect):
# the models do not describe them, so model/migration comparisons skip them.
MONTH_INDEX = "ix_posts_month"
NEWEST_INDEX = "ix_posts_newest"  # PostgreSQL: (published_at DESC NULLS LAST, id DESC)
HAND_MADE_INDEXES = frozenset({MONTH_INDEX, NEWEST_INDEX})


def include_in_comparison(name: str | None, type_: str, _parents: object = None) -> bool:
    """For Alembic: the search index's tables and the hand-made indexes are not the models' business."""
    from storage.search import is_search_table

    if type_ == "table":
        return not is_search_table(name)
    if type_ == "index":
        return name not in HAND_MADE_INDEXES
    return True


class ClassifierModel(SQLModel, table=True):
    """A 清单 title model refitted on the shipped labelled titles plus the office's manual
    tags (`xxgk classify retrain`); the newest one is used by every process of the store."""

    __tablename__ = "classifier_models"

    id: int | None = Field(default=None, primary_key=True)
    trained_at: datetime = Field(sa_type=LocalTime)
    examples: int
    office_examples: int
    digest: str = Field(max_length=32)
    blob: bytes = Field(sa_type=sa.LargeBinary)


class AttachmentFile(SQLModel, table=True):
    """A kept attachment, stored once by its sha256 (the folder `[attachments] dir`)."""

    __tablename__ = "attachment_files"
    __table_args__ = (sa.Index("ix_attachment_files_text_status", "text_status"),)

    sha256: str = Field(primary_key=True, max_length=64)
    size: int = Field(sa_type=sa.BigInteger)
    mime: str = Field(max_length=100)
    kind: str = Field(max_length=16)  # pdf | docx | xlsx | doc | xls | wps | zip | rar | image | text | other
    stored_at: datetime = Field(sa_type=LocalTime)
    # pending | text | no_text_layer (a scanned PDF) | unsupported | failed | off
    text_status: str = Field(max_length=16)
    text: str | None = Field(default=None, sa_type=sa.Text)
    pages: int | None = None
    note: str | None = None  # why there is no text, in words for the office


class PostAttachment(SQLModel, table=True):
    """One attachment link of a post and what became of it: `kept` (sha256 names the copy),
    `failed`/`refused`/`offhost` (error says why), `changed` (an older version: a newer row
    of the same url holds the current one), `gone` (the source answers 404/410 now; the
    copy stays), `removed` (the page no longer links it; the copy stays)."""

    __tablename__ = "post_attachments"
    __table_args__ = (sa.Index("ix_post_attachments_post", "post_id", "url"),
                      sa.Index("ix_post_attachments_sha", "sha256"))

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="posts.id")
    url: str
    name: str
    status: str = Field(max_length=16)
    sha256: str | None = Field(default=None, foreign_key="attachment_files.sha256", max_length=64)
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime | None = Field(default=None, sa_type=LocalTime)
    checked_at: datetime | None = Field(default=None, sa_type=LocalTime)



class User(SQLModel, table=True):
    """A named web account: `editor` tags posts; `admin` also syncs, accepts detected
    selectors and manages users. The password is a scrypt hash."""

    __tablename__ = "users"

    name: str = Field(primary_key=True, max_length=64)
    role: str = Field(max_length=16)
    password_hash: str
    created_at: datetime = Field(sa_type=LocalTime)
    disabled: bool = False


class Change(SQLModel, table=True):
    """One write a person made (the audit log): who, when, what, before → after. Never
    rewritten by a sync or a re-classification."""

    __tablename__ = "changes"
    __table_args__ = (sa.Index("ix_changes_target", "target", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=LocalTime)
    actor: str = Field(max_length=200)  # a user name, or "cli:<os user>@<host>"
    action: str = Field(max_length=32)  # tag | sync | accept | add-user | set-role | …
    target: str = Field(max_length=200)  # post:123 | channel:portal-news | user:wang
    before: str | None = None
    after: str | None = None
    address: str | None = Field(default=None, max_length=64)  # the web client's address


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, counted per account and per address for the attempt limit."""

    __tablename__ = "login_failures"
    __table_args__ = (sa.Index("ix_login_failures_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=LocalTime)
    account: str = Field(max_length=64)
    address: str = Field(max_length=64)


class AccountMetric(SQLModel, table=True):
    """One day of an account's followers (公众号「用户增长」export), per channel: the series the
    annual figures (followers at the year's end, net growth) are read from."""

    __tablename__ = "account_metrics"
    __table_args__ = (sa.UniqueConstraint("channel_id", "day", name="uq_account_metrics_channel_day"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(foreign_key="channels.id", max_length=64)
    day: date_ = Field(sa_type=sa.Date)
    followers: int | None = None  # 累积关注人数 at the day's end
    gained: int | None = None  # 新关注人数
    lost: int | None = None  # 取消关注人数
