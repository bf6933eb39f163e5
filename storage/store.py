"""Reading and writing the store. Knows posts, runs and state — not HTML, not connectors.

Writes are batched: `write_posts` upserts a whole batch in one transaction
with a handful of set-based statements, which is what makes a 100k-post
backfill take seconds rather than minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from aggregator.clock import local_now
from storage.engine import make_engine, migrate
from storage.models import (
    AttachmentFile,
    Channel,
    ChannelLease,
    ChannelStateRow,
    ClassifierModel,
    Post,
    PostAttachment,
    PostMetric,
    PostRevision,
    ServiceMark,
    SyncRun,
)
from storage.people import People
from storage.search import (
    PG_FEW,
    ParsedQuery,
    SearchFilters,
    SearchResult,
    backend_for,
    execute,
    rebuild_index,
    run_search,
)

channels_t: sa.Table = Channel.__table__  # type: ignore[attr-defined]
posts_t: sa.Table = Post.__table__  # type: ignore[attr-defined]
revisions_t: sa.Table = PostRevision.__table__  # type: ignore[attr-defined]
runs_t: sa.Table = SyncRun.__table__  # type: ignore[attr-defined]
state_t: sa.Table = ChannelStateRow.__table__  # type: ignore[attr-defined]
metrics_t: sa.Table = PostMetric.__table__  # type: ignore[attr-defined]
leases_t: sa.Table = ChannelLease.__table__  # type: ignore[attr-defined]
marks_t: sa.Table = ServiceMark.__table__  # type: ignore[attr-defined]
models_t: sa.Table = ClassifierModel.__table__  # type: ignore[attr-defined]
files_t: sa.Table = AttachmentFile.__table__  # type: ignore[attr-defined]
links_t: sa.Table = PostAttachment.__table__  # type: ignore[attr-defined]

# Columns whose change makes a new revision (reads/likes are counts, not content).
CONTENT_COLUMNS = ("title", "body", "published_at", "department", "attachments")
# Columns a re-sync refreshes on an existing post.
REFRESHED_COLUMNS = (
    *CONTENT_COLUMNS,
    "url",
    "body_html",
    "source_column",
    "type",
    "extra",
    "content_hash",
)
# A post's `extra["status"]` when the source no longer shows it (a deleted WeChat article, a
# captcha wall): kept as a record of absence, not expected to carry a date.
UNAVAILABLE = frozenset({"deleted", "captcha"})
_KEY_CHUNK = 500  # keys per IN (...) lookup; far below SQLite's variable limit


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


def _lease(row: Any, won: bool) -> Lease:
    process = (ProcessId(row.host, row.boot_id, row.pid, row.pid_start)
               if row.host is not None and row.pid is not None else None)
    return Lease(row.channel_id, won, row.holder, row.acquired_at, row.expires_at, process,
                 row.renewed_at or row.acquired_at)


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


class Store:
    """One store (SQLite file or PostgreSQL database), schema upgraded on open."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._inserted_since_analyze = 0
        self._rows_at_analyze = 0

    @classmethod
    def open(cls, url: str) -> Store:
        engine = make_engine(url)
        migrate(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def people(self) -> People:
        """Web accounts, the audit log of their writes, failed sign-ins."""
        return People(self.engine)

    # -- channels -----------------------------------------------------------
    def register_channels(self, records: Iterable[ChannelRecord]) -> None:
        """Insert new channels and refresh the names/groups of known ones — one upsert, so
        processes and threads registering at once never collide; rows that already say
        the same are not rewritten."""
        now = local_now()
        rows = [{"id": rec.id, "name": rec.name, "kind": rec.kind, "group_name": rec.group_name,
                 "source": rec.source, "enabled": rec.enabled, "registered_at": now} for rec in records]
        if not rows:
            return
        with self.engine.connect() as conn:
            current = {r.id: (r.name, r.kind, r.group_name, r.source, r.enabled) for r in conn.execute(
                sa.select(channels_t.c.id, channels_t.c.name, channels_t.c.kind, channels_t.c.group_name,
                          channels_t.c.source, channels_t.c.enabled))}
        changed = [r for r in rows
                   if current.get(r["id"]) != (r["name"], r["kind"], r["group_name"], r["source"], r["enabled"])]
        if not changed:
            return
        insert = (sqlite_insert if self.dialect == "sqlite" else pg_insert)(channels_t)
        stmt = insert.on_conflict_do_update(
            index_elements=[channels_t.c.id],
            set_={c: insert.excluded[c] for c in ("name", "kind", "group_name", "source", "enabled")})
        with self.engine.begin() as conn:
            conn.execute(stmt, changed)

    def channel_overview(self) -> list[ChannelOverview]:
        """Every channel with its post count and its last run, in id order."""
        counts = (
            sa.select(posts_t.c.channel_id, sa.func.count().label("n"))
            .group_by(posts_t.c.channel_id)
            .subquery()
        )
        last = (
            sa.select(runs_t.c.channel_id, sa.func.max(runs_t.c.id).label("run_id"))
            .group_by(runs_t.c.channel_id)
            .subquery()
        )
        last_ok = (
            sa.select(runs_t.c.channel_id, sa.func.max(runs_t.c.finished_at).label("ok_at"))
            .where(runs_t.c.status == "ok")
            .group_by(runs_t.c.channel_id)
            .subquery()
        )
        q = (
            sa.select(
                channels_t,
                sa.func.coalesce(counts.c.n, 0).label("posts"),
                runs_t.c.status,
                runs_t.c.started_at,
                runs_t.c.finished_at,
                runs_t.c.error,
                last_ok.c.ok_at,
            )
            .select_from(channels_t)
            .outerjoin(counts, counts.c.channel_id == channels_t.c.id)
            .outerjoin(last, last.c.channel_id == channels_t.c.id)
            .outerjoin(runs_t, runs_t.c.id == last.c.run_id)
            .outerjoin(last_ok, last_ok.c.channel_id == channels_t.c.id)
            .order_by(channels_t.c.id)
        )
        with self.engine.connect() as conn:
            return [
                ChannelOverview(
                    id=r.id,
                    name=r.name,
                    kind=r.kind,
                    group_name=r.group_name,
                    enabled=r.enabled,
                    posts=r.posts,
                    last_run_status=r.status,
                    last_run_started=r.started_at,
                    last_run_finished=r.finished_at,
                    last_error=r.error,
                    last_ok=r.ok_at,
                )
                for r in conn.execute(q)
            ]

    def channel_gaps(self, channel_id: str | None = None) -> dict[str, tuple[int, int]]:
        """Per channel: posts stored without a publication date, and posts stored from their
        list entry while their detail page is missing (`extra.detail = "missing"`)."""
        status = sa.func.coalesce(posts_t.c.extra["status"].as_string(), "")
        # A deleted or captcha-walled article is a record of absence, not a post missing its date.
        undated = sa.func.sum(sa.case((sa.and_(posts_t.c.published_at.is_(None),
                                               status.not_in(tuple(UNAVAILABLE))), 1), else_=0))
        missing = sa.func.sum(sa.case((posts_t.c.extra["detail"].as_string() == "missing", 1), else_=0))
        q = sa.select(posts_t.c.channel_id, undated, missing).group_by(posts_t.c.channel_id)
        if channel_id is not None:
            q = q.where(posts_t.c.channel_id == channel_id)
        with self.engine.connect() as conn:
            return {r[0]: (int(r[1] or 0), int(r[2] or 0)) for r in conn.execute(q)}

    def states(self) -> dict[str, dict[str, Any]]:
        """Every channel's saved `data` (site totals, retry queues), by channel id."""
        with self.engine.connect() as conn:
            return {r.channel_id: dict(r.data or {}) for r in conn.execute(sa.select(state_t.c.channel_id,
                                                                                     state_t.c.data))}

    # -- leases: one writer per channel ---------------------------------------------
    def acquire_lease(self, channel_id: str, holder: str, ttl: float, process: ProcessId | None = None) -> Lease:
        """Take the channel for `ttl` seconds unless another holder's lease is still live.

        One atomic statement on both stores (INSERT … ON CONFLICT DO UPDATE … WHERE the
        lease is expired or ours): two processes racing for a channel cannot both win.
        The answer names the holder either way (and which process it is, when known).
        """
        now = local_now()
        values: dict[str, Any] = {"channel_id": channel_id, "holder": holder, "acquired_at": now,
                                  "expires_at": now + timedelta(seconds=ttl), "renewed_at": now}
        if process is not None:
            values.update(host=process.host, boot_id=process.boot_id, pid=process.pid, pid_start=process.pid_start)
        insert = (sqlite_insert if self.dialect == "sqlite" else pg_insert)(leases_t).values(**values)
        refreshed = {c: insert.excluded[c] for c in ("host", "boot_id", "pid", "pid_start", "renewed_at")}
        stmt = insert.on_conflict_do_update(
            index_elements=[leases_t.c.channel_id],
            set_={"holder": insert.excluded.holder, "acquired_at": sa.case(
                      (leases_t.c.holder == insert.excluded.holder, leases_t.c.acquired_at),
                      else_=insert.excluded.acquired_at),
                  "expires_at": insert.excluded.expires_at, **refreshed},
            where=sa.or_(leases_t.c.expires_at < now, leases_t.c.holder == holder),
        ).returning(leases_t.c.holder)
        with self.engine.begin() as conn:
            won = conn.execute(stmt).first() is not None
            row = conn.execute(sa.select(leases_t).where(leases_t.c.channel_id == channel_id)).first()
        assert row is not None
        return _lease(row, won)

    def release_lease(self, channel_id: str, holder: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(leases_t.delete().where(leases_t.c.channel_id == channel_id, leases_t.c.holder == holder))

    def take_over(self, channel_id: str, dead: Lease) -> bool:
        """Free a channel whose holder is known to be dead, and close the runs it left running as
        interrupted, saying when the holder was last seen. Only that holder's lease is removed
        (a live process that took the channel meanwhile keeps it); True when it was."""
        seen = (dead.renewed_at or dead.acquired_at).isoformat(sep=" ", timespec="seconds")
        with self.engine.begin() as conn:
            gone = conn.execute(leases_t.delete().where(leases_t.c.channel_id == channel_id,
                                                        leases_t.c.holder == dead.holder)).rowcount
            if gone:
                self._close_orphans(conn, channel_id, dead.renewed_at or dead.acquired_at,
                                    f"同步中途停止：{dead.holder} 已不在运行（最后一次确认存活：{seen}）；"
                                    "停止前已提交的帖子均已保存，下次同步会补全。")
        return bool(gone)

    def close_orphan_runs(self) -> int:
        """Runs still marked running whose channel nobody holds (the process died and its lease
        ran out): closed as interrupted at the lease's last renewal, or their start. Whoever
        reads the runs calls this, so a killed run never reads 「进行中」 for ever."""
        now = local_now()
        live = sa.select(leases_t.c.channel_id).where(leases_t.c.expires_at >= now)
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(runs_t.c.channel_id, runs_t.c.started_at).where(
                runs_t.c.status == "running", runs_t.c.channel_id.not_in(live))).all()
            for channel_id, started in rows:
                self._close_orphans(conn, channel_id, started,
                                    f"同步中途停止（进程被终止或崩溃，{started.isoformat(sep=' ', timespec='seconds')}"
                                    " 开始）；停止前已提交的帖子均已保存，下次同步会补全。")
        return len(rows)

    @staticmethod
    def _close_orphans(conn: sa.Connection, channel_id: str, last_seen: datetime, why: str) -> None:
        conn.execute(runs_t.update().where(runs_t.c.channel_id == channel_id, runs_t.c.status == "running")
                     .values(status="interrupted", finished_at=last_seen, error=why))

    def leases(self) -> dict[str, Lease]:
        """Live leases, by channel."""
        now = local_now()
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(leases_t).where(leases_t.c.expires_at >= now)).all()
        return {r.channel_id: _lease(r, False) for r in rows}

    # -- marks: what the service has done once -------------------------------------
    def mark(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(marks_t.c.value).where(marks_t.c.name == name)).scalar_one_or_none()

    def set_mark(self, name: str, value: str) -> None:
        now = local_now()
        insert = (sqlite_insert if self.dialect == "sqlite" else pg_insert)(marks_t).values(
            name=name, value=value, updated_at=now)
        with self.engine.begin() as conn:
            conn.execute(insert.on_conflict_do_update(index_elements=[marks_t.c.name],
                                                      set_={"value": value, "updated_at": now}))

    def claim_mark(self, name: str, value: str) -> bool:
        """Set a mark only if it is not set yet: True for the one process that set it."""
        insert = (sqlite_insert if self.dialect == "sqlite" else pg_insert)(marks_t).values(
            name=name, value=value, updated_at=local_now())
        with self.engine.begin() as conn:
            return conn.execute(insert.on_conflict_do_nothing(index_elements=[marks_t.c.name])
                                .returning(marks_t.c.name)).first() is not None

    def run_history(self, limit_per_channel: int = 20,
                    channel_id: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Each channel's most recent runs, newest first (what health and due times are derived from)."""
        inner = sa.select(runs_t, sa.func.row_number().over(partition_by=runs_t.c.channel_id,
                                                            order_by=runs_t.c.id.desc()).label("rn"))
        if channel_id is not None:
            inner = inner.where(runs_t.c.channel_id == channel_id)
        ranked = inner.subquery()
        q = sa.select(ranked).where(ranked.c.rn <= limit_per_channel).order_by(ranked.c.channel_id,
                                                                               ranked.c.id.desc())
        out: dict[str, list[dict[str, Any]]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(q).mappings():
                out.setdefault(r["channel_id"], []).append(dict(r))
        return out

    def newest_seen(self, channel_id: str | None = None) -> dict[str, datetime]:
        """When each channel last brought a post the store did not have."""
        q = sa.select(posts_t.c.channel_id, sa.func.max(posts_t.c.first_seen_at)).group_by(posts_t.c.channel_id)
        if channel_id is not None:
            q = q.where(posts_t.c.channel_id == channel_id)
        with self.engine.connect() as conn:
            return {r[0]: r[1] for r in conn.execute(q) if r[1] is not None}

    # -- sync runs -------------------------------------------------------------
    def start_run(self, channel_id: str, *, full: bool) -> int:
        """Record a run as started. Runs of this channel still marked running
        were cut short (killed, power loss): they are closed as interrupted."""
        now = local_now()
        with self.engine.begin() as conn:
            conn.execute(
                runs_t.update()
                .where(runs_t.c.channel_id == channel_id, runs_t.c.status == "running")
                .values(
                    status="interrupted",
                    finished_at=now,
                    error="同步中途停止（进程被终止或崩溃）；停止前已提交的帖子均已保存，本次同步会补全。",
                )
            )
            result = conn.execute(
                runs_t.insert().values(channel_id=channel_id, started_at=now, status="running", full=full)
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def finish_run(self, run_id: int, status: str, counts: RunCounts, error: str | None,
                   failure: str | None = None, note: str | None = None) -> datetime:
        now = local_now()
        with self.engine.begin() as conn:
            conn.execute(
                runs_t.update()
                .where(runs_t.c.id == run_id)
                .values(
                    status=status,
                    finished_at=now,
                    error=error,
                    failure=failure,
                    note=note,
                    fetched=counts.fetched,
                    new=counts.new,
                    updated=counts.updated,
                    skipped=counts.skipped,
                    requests=counts.requests,
                )
            )
        return now

    def runs(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        q = sa.select(runs_t).order_by(runs_t.c.id)
        if channel_id is not None:
            q = q.where(runs_t.c.channel_id == channel_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # -- channel state -------------------------------------------------------
    def load_state(self, channel_id: str) -> StoredState:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(state_t).where(state_t.c.channel_id == channel_id)).first()
        if row is None:
            return StoredState()
        return StoredState(
            cursor=row.cursor,
            etag=row.etag,
            last_modified=row.last_modified,
            seen=list(row.seen or []),
            data=dict(row.data or {}),
        )

    def save_state(self, channel_id: str, state: StoredState) -> None:
        values = {
            "cursor": state.cursor,
            "etag": state.etag,
            "last_modified": state.last_modified,
            "seen": list(state.seen),
            "data": dict(state.data),
            "updated_at": local_now(),
        }
        with self.engine.begin() as conn:
            done = conn.execute(
                state_t.update().where(state_t.c.channel_id == channel_id).values(**values)
            ).rowcount
            if not done:
                conn.execute(state_t.insert().values(channel_id=channel_id, **values))

    # -- posts -----------------------------------------------------------------
    def has_post(self, channel_id: str, key: str) -> bool:
        with self.engine.connect() as conn:
            q = sa.select(posts_t.c.id).where(posts_t.c.channel_id == channel_id, posts_t.c.key == key)
            return conn.execute(q.limit(1)).first() is not None

    def rekey_posts(self, channel_id: str, key_for: Callable[[str], str]) -> tuple[int, list[tuple[str, str]]]:
        """Give every post of the channel the key `key_for` makes of its key now, in one transaction.
        A post whose new key another post already has (or takes first) keeps its key: nothing is
        merged; the pairs (kept key, the key it collides with) are returned with the count re-keyed."""
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(posts_t.c.id, posts_t.c.key).where(posts_t.c.channel_id == channel_id)
                                .order_by(posts_t.c.id)).all()
            taken = {key for _id, key in rows}
            moves: list[dict[str, Any]] = []
            collisions: list[tuple[str, str]] = []
            for post_id, key in rows:
                new = key_for(key)
                if new == key:
                    continue
                if new in taken:
                    collisions.append((key, new))
                    continue
                taken.discard(key)
                taken.add(new)
                moves.append({"_id": post_id, "_key": new})
            if moves:
                conn.execute(posts_t.update().where(posts_t.c.id == sa.bindparam("_id"))
                             .values(key=sa.bindparam("_key")), moves)
        return len(moves), collisions

    def write_posts(self, channel_id: str, records: Sequence[PostRecord]) -> WriteResult:
        """Upsert a batch of one channel's posts in one transaction.

        New keys are inserted; a post whose content hash changed gets its old
        version copied to `post_revisions` before it is overwritten; an
        unchanged post only has its reads/likes refreshed. A manual 清单 tag
        is kept whatever the record says.
        """
        by_key: dict[str, PostRecord] = {}
        for rec in records:  # the same key twice in a batch: the later one wins
            by_key[rec.key] = rec
        result = WriteResult()
        if not by_key:
            return result
        now = local_now()
        with self.engine.begin() as conn:
            existing: dict[str, Any] = {}
            keys = list(by_key)
            for i in range(0, len(keys), _KEY_CHUNK):
                q = sa.select(
                    posts_t.c.id,
                    posts_t.c.key,
                    posts_t.c.content_hash,
                    posts_t.c.item_source,
                    posts_t.c.item,
                    posts_t.c.category,
                    posts_t.c.reads,
                    posts_t.c.likes,
                    posts_t.c.counts_at,
                    posts_t.c.extra,
                ).where(posts_t.c.channel_id == channel_id, posts_t.c.key.in_(keys[i : i + _KEY_CHUNK]))
                existing.update({row.key: row for row in conn.execute(q)})

            inserts: list[dict[str, Any]] = []
            changed: list[dict[str, Any]] = []
            counts: list[dict[str, Any]] = []
            for key, rec in by_key.items():
                old = existing.get(key)
                if old is None:
                    inserts.append(_insert_values(channel_id, rec, now))
                    continue
                tag = (
                    {"item": old.item, "category": old.category, "item_source": old.item_source}
                    if old.item_source == "manual"
                    else {"item": rec.item, "category": rec.category, "item_source": rec.item_source}
                )
                new_counts = _counts(rec, old)
                if old.content_hash != rec.content_hash and rec.complete:
                    values = {c: getattr(rec, c) for c in REFRESHED_COLUMNS}
                    changed.append({"_id": old.id, **values, **tag, **new_counts, "updated_at": now})
                elif new_counts != {"reads": old.reads, "likes": old.likes, "counts_at": old.counts_at}:
                    counts.append({"_id": old.id, **new_counts})

            dialect = conn.dialect.name
            if inserts:
                conn.execute(posts_t.insert(), inserts)
                new_ids = {}
                new_keys = [row["key"] for row in inserts]
                for i in range(0, len(new_keys), _KEY_CHUNK):
                    q = sa.select(posts_t.c.id, posts_t.c.key).where(
                        posts_t.c.channel_id == channel_id, posts_t.c.key.in_(new_keys[i : i + _KEY_CHUNK]))
                    new_ids.update({r.key: r.id for r in conn.execute(q)})
                _index(conn, dialect, [{**row, "id": new_ids[row["key"]]} for row in inserts])
            if changed:
                ids = [c["_id"] for c in changed]
                # A post stored from its list entry while its detail page failed is completed,
                # not revised: the stub was never what the page published.
                stubs = {row.id for row in existing.values() if (row.extra or {}).get("detail") == "missing"}
                old_rows = conn.execute(
                    sa.select(posts_t.c.id, posts_t.c.title, posts_t.c.body, posts_t.c.department,
                              posts_t.c.attachments, posts_t.c.attachment_text).where(posts_t.c.id.in_(ids))
                ).mappings().all()
                kept_text = {r["id"]: r["attachment_text"] for r in old_rows}
                execute(conn, backend_for(dialect).unindex(old_rows))
                conn.execute(
                    revisions_t.insert().from_select(
                        ["post_id", *CONTENT_COLUMNS, "content_hash", "valid_from", "valid_to"],
                        sa.select(
                            posts_t.c.id,
                            *(posts_t.c[c] for c in CONTENT_COLUMNS),
                            posts_t.c.content_hash,
                            posts_t.c.updated_at,
                            sa.literal(now, sa.DateTime()),
                        ).where(posts_t.c.id.in_([i for i in ids if i not in stubs])),
                    )
                )
                conn.execute(_update_by_id(changed[0]), [_prefixed(c) for c in changed])
                _index(conn, dialect, [{**c, "id": c["_id"], "attachment_text": kept_text.get(c["_id"])}
                                       for c in changed])
            if counts:
                conn.execute(_update_by_id(counts[0]), [_prefixed(c) for c in counts])
            ids_by_key = {k: row.id for k, row in existing.items()}
            if inserts:
                ids_by_key.update(new_ids)
            _snapshot_counts(conn, [(ids_by_key[k], r) for k, r in by_key.items()
                                    if r.counts_at is not None and (r.reads is not None or r.likes is not None)])
        result.new = len(inserts)
        result.updated = len(changed)
        self._keep_statistics_fresh(result.new)
        return result

    def _keep_statistics_fresh(self, inserted: int) -> None:
        """PostgreSQL plans the key lookup from table statistics; on a table that
        a backfill grows faster than autovacuum analyses it, the planner scans
        the whole channel for every batch (measured: 4,000 → 320 posts/s by
        60k posts). ANALYZE whenever the rows inserted since the last one
        reach the size the table had then — a handful of times per backfill."""
        if self.dialect != "postgresql" or not inserted:
            return
        self._inserted_since_analyze += inserted
        if self._inserted_since_analyze >= max(5000, self._rows_at_analyze):
            with self.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE posts"))
            self._rows_at_analyze += self._inserted_since_analyze
            self._inserted_since_analyze = 0

    def search(self, parsed: ParsedQuery, filters: SearchFilters, *, limit: int = 20, offset: int = 0,
               order: str = "newest", facets: bool = False, list_below: int = PG_FEW) -> SearchResult:
        """Posts containing the query's terms (storage/search.py), newest first or title hits first."""
        with self.engine.connect() as conn:
            return run_search(conn, posts_t, channels_t, parsed, filters, limit=limit, offset=offset,
                              order=order, facets=facets, list_below=list_below)

    def tidy_search(self, written: int) -> None:
        """Index upkeep after a sync wrote `written` posts (SQLite: merge after a backfill)."""
        statements = backend_for(self.dialect).tidy(written, self.count_posts())
        if statements:
            with self.engine.begin() as conn:
                for statement in statements:
                    conn.execute(sa.text(statement))

    def reindex(self, *, batch: int = 2000) -> int:
        """Rebuild the search index from the posts (after a normalisation change)."""
        with self.engine.begin() as conn:
            n = rebuild_index(conn, posts_t, batch=batch)
        outside = backend_for(self.dialect).after_rebuild()
        if outside:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for statement in outside:
                    conn.execute(sa.text(statement))
        return n

    def count_posts(self, channel_id: str | None = None) -> int:
        q = sa.select(sa.func.count()).select_from(posts_t)
        if channel_id is not None:
            q = q.where(posts_t.c.channel_id == channel_id)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def get_post(self, channel_id: str, key: str) -> dict[str, Any] | None:
        q = sa.select(posts_t).where(posts_t.c.channel_id == channel_id, posts_t.c.key == key)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return None if row is None else dict(row._mapping)

    def bodies(self, ids: Sequence[int]) -> dict[int, str]:
        """The bodies of these posts, in one query (search snippets)."""
        return {i: body for i, (body, _) in self.texts(ids).items()}

    def texts(self, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """`(body, attachment text)` of these posts, in one query (search snippets)."""
        if not ids:
            return {}
        with self.engine.connect() as conn:
            q = sa.select(posts_t.c.id, posts_t.c.body, posts_t.c.attachment_text).where(posts_t.c.id.in_(list(ids)))
            return {r.id: (r.body or "", r.attachment_text or "") for r in conn.execute(q)}

    def post_by_id(self, post_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(posts_t).where(posts_t.c.id == post_id)).first()
        return None if row is None else dict(row._mapping)

    def set_manual_tag(self, post_id: int, item: int | None, category: int | None) -> bool:
        """A person's 清单 tag (`item=None` = "discloses nothing"); never overwritten
        by a re-sync or `reclassify`. False when there is no such post."""
        with self.engine.begin() as conn:
            done = conn.execute(
                posts_t.update().where(posts_t.c.id == post_id)
                .values(item=item, category=category, item_source="manual")
            ).rowcount
        return bool(done)

    # -- attachments ------------------------------------------------------------------------------
    def posts_with_attachments(self, channel_id: str) -> list[tuple[int, list[dict[str, str]]]]:
        """`(post_id, attachment links as the page gave them)` for the channel's posts that have any."""
        q = sa.select(posts_t.c.id, posts_t.c.attachments).where(posts_t.c.channel_id == channel_id)
        with self.engine.connect() as conn:
            return [(r.id, list(r.attachments)) for r in conn.execute(q) if r.attachments]

    def add_attachment_link(self, post_id: int, url: str, name: str, status: str, **fields: Any) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(links_t.insert().values(post_id=post_id, url=url, name=name, status=status,
                                                            **fields).returning(links_t.c.id)).scalar_one())

    def update_attachment_link(self, link_id: int, **fields: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(links_t.update().where(links_t.c.id == link_id).values(**fields))

    def add_attachment_file(self, sha256: str, *, size: int, mime: str, kind: str, text_status: str) -> None:
        """Record a kept file once; a file kept "list only" before is queued for text when
        a channel that indexes links it."""
        insert = (sqlite_insert if self.dialect == "sqlite" else pg_insert)(files_t).values(
            sha256=sha256, size=size, mime=mime, kind=kind, stored_at=local_now(), text_status=text_status)
        with self.engine.begin() as conn:
            conn.execute(insert.on_conflict_do_nothing(index_elements=[files_t.c.sha256]))
            if text_status == "pending":
                conn.execute(files_t.update().where(files_t.c.sha256 == sha256, files_t.c.text_status == "off")
                             .values(text_status="pending"))

    def queue_texts(self, channel_id: str) -> None:
        """Queue for reading the files of a channel's posts kept without their text."""
        of_channel = (sa.select(links_t.c.sha256).join(posts_t, posts_t.c.id == links_t.c.post_id)
                      .where(posts_t.c.channel_id == channel_id, links_t.c.sha256.is_not(None)))
        with self.engine.begin() as conn:
            conn.execute(files_t.update().where(files_t.c.text_status == "off", files_t.c.sha256.in_(of_channel))
                         .values(text_status="pending"))

    def pending_texts(self, limit: int = 100) -> list[dict[str, Any]]:
        """Kept files whose text is still to be read: `sha256`, `kind`, `size`."""
        q = (sa.select(files_t.c.sha256, files_t.c.kind, files_t.c.size)
             .where(files_t.c.text_status == "pending").order_by(files_t.c.stored_at, files_t.c.sha256).limit(limit))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def set_attachment_text(self, sha256: str, status: str, text: str | None, pages: int | None,
                            note: str | None, *, index_chars: int) -> list[int]:
        """Record a file's text, and make every post that keeps it searchable by it (in one
        transaction: the post leaves the index with its old text and returns with the new).
        Returns those posts' ids."""
        with self.engine.begin() as conn:
            conn.execute(files_t.update().where(files_t.c.sha256 == sha256)
                         .values(text_status=status, text=text, pages=pages, note=note))
            ids = sorted({r.post_id for r in conn.execute(
                sa.select(links_t.c.post_id).where(links_t.c.sha256 == sha256, links_t.c.status == "kept"))})
            self._refresh_attachment_text(conn, ids, index_chars)
        return ids

    def refresh_attachment_text(self, post_ids: Sequence[int], *, index_chars: int) -> None:
        with self.engine.begin() as conn:
            self._refresh_attachment_text(conn, list(post_ids), index_chars)

    def _refresh_attachment_text(self, conn: sa.Connection, post_ids: list[int], index_chars: int) -> None:
        """Each post's searchable attachment text: its kept attachments' text, in sections."""
        if not post_ids:
            return
        q = (sa.select(links_t.c.post_id, links_t.c.name, files_t.c.text)
             .join(files_t, files_t.c.sha256 == links_t.c.sha256)
             .where(links_t.c.post_id.in_(post_ids), links_t.c.status == "kept", files_t.c.text_status == "text")
             .order_by(links_t.c.post_id, links_t.c.id))
        sections: dict[int, list[str]] = {}
        for r in conn.execute(q):
            sections.setdefault(r.post_id, []).append(f"【附件：{r.name}】\n{r.text or ''}")
        cols = (posts_t.c.id, posts_t.c.title, posts_t.c.body, posts_t.c.department, posts_t.c.attachments,
                posts_t.c.attachment_text)
        old = conn.execute(sa.select(*cols).where(posts_t.c.id.in_(post_ids))).mappings().all()
        new = {i: ("\n".join(sections[i])[:index_chars] if i in sections else None) for i in post_ids}
        moved = [r for r in old if r["attachment_text"] != new[r["id"]]]
        if not moved:
            return
        backend = backend_for(conn.dialect.name)
        execute(conn, backend.unindex(moved))
        conn.execute(posts_t.update().where(posts_t.c.id == sa.bindparam("b_id"))
                     .values(attachment_text=sa.bindparam("b_text")),
                     [{"b_id": r["id"], "b_text": new[r["id"]]} for r in moved])
        execute(conn, backend.index([{**r, "attachment_text": new[r["id"]]} for r in moved]))

    def record_attachment_change(self, post_id: int, before: list[dict[str, Any]], since: datetime | None) -> None:
        """A revision of the post whose attachments are `before` (with each file's sha256): what
        was published until now, kept as evidence after an attachment changed or went."""
        now = local_now()
        with self.engine.begin() as conn:
            post = conn.execute(sa.select(posts_t).where(posts_t.c.id == post_id)).mappings().first()
            if post is None:
                return
            conn.execute(revisions_t.insert().values(
                post_id=post_id, title=post["title"], body=post["body"], published_at=post["published_at"],
                department=post["department"], attachments=before, content_hash=post["content_hash"],
                valid_from=since or post["updated_at"], valid_to=now))

    def post_attachments(self, post_id: int) -> list[dict[str, Any]]:
        """The post's attachment rows with their files (size, type, text status), oldest first."""
        return self.attachments_of([post_id]).get(post_id, [])

    def attachments_of(self, post_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """`post_attachments` for many posts, one query per chunk (keeping, exports)."""
        out: dict[int, list[dict[str, Any]]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(post_ids), _KEY_CHUNK):
                chunk = post_ids[i : i + _KEY_CHUNK]
                q = _links_with_files().where(links_t.c.post_id.in_(chunk)).order_by(links_t.c.id)
                for r in conn.execute(q).mappings():
                    out.setdefault(r["post_id"], []).append(dict(r))
        return out

    def attachment_link(self, link_id: int) -> dict[str, Any] | None:
        """One attachment row with its file (the web's download)."""
        with self.engine.connect() as conn:
            row = conn.execute(_links_with_files().where(links_t.c.id == link_id)).mappings().first()
            return None if row is None else dict(row)

    def attachment_usage(self) -> dict[str, int]:
        """Files kept, their bytes, and the attachment rows that point at them."""
        with self.engine.connect() as conn:
            files, size = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(files_t.c.size), 0))
                                       ).one()
            links = conn.execute(sa.select(sa.func.count()).select_from(links_t)
                                 .where(links_t.c.sha256.is_not(None))).scalar_one()
        return {"files": int(files), "bytes": int(size), "links": int(links)}

    def manual_tags(self) -> list[tuple[str, int | None, str | None]]:
        """Every post the office tagged by hand: `(title, item, source_column)`, oldest first."""
        q = (sa.select(posts_t.c.title, posts_t.c.item, posts_t.c.source_column)
             .where(posts_t.c.item_source == "manual").order_by(posts_t.c.id))
        with self.engine.connect() as conn:
            return [(r.title, r.item, r.source_column) for r in conn.execute(q)]

    def save_model(self, blob: bytes, *, examples: int, office_examples: int, digest: str) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(models_t.insert().values(
                trained_at=local_now(), examples=examples, office_examples=office_examples, digest=digest,
                blob=blob).returning(models_t.c.id)).scalar_one())

    def latest_model_id(self) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(models_t.c.id))).scalar_one_or_none()

    def model_digest(self, model_id: int) -> str:
        """The digest of the training data a kept model was fitted on."""
        with self.engine.connect() as conn:
            return str(conn.execute(sa.select(models_t.c.digest).where(models_t.c.id == model_id)).scalar_one())

    def model_blob(self, model_id: int) -> bytes:
        with self.engine.connect() as conn:
            return bytes(conn.execute(sa.select(models_t.c.blob).where(models_t.c.id == model_id)).scalar_one())

    def review_posts(self, start: datetime | None, end: datetime | None, *,
                     limit: int = 200) -> tuple[int, list[dict[str, Any]]]:
        """Posts published in [start, end) (None: unbounded) that neither the rules nor the model
        could tag confidently (`item_source = "review"`): how many, and the newest `limit` of them."""
        where = posts_t.c.item_source == "review"
        if start is not None:
            where = sa.and_(where, posts_t.c.published_at >= start)
        if end is not None:
            where = sa.and_(where, posts_t.c.published_at < end)
        cols = (posts_t.c.id, posts_t.c.channel_id, posts_t.c.title, posts_t.c.url, posts_t.c.published_at)
        with self.engine.connect() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(posts_t).where(where)).scalar_one()
            rows = conn.execute(sa.select(*cols).where(where)
                                .order_by(posts_t.c.published_at.desc(), posts_t.c.id.desc()).limit(limit))
            return int(n), [dict(r._mapping) for r in rows]

    def iter_unreviewed(self, *, batch: int = 2000, body_chars: int = 120) -> Iterator[list[dict[str, Any]]]:
        """Batches of the posts not tagged by hand, with what the rules read."""
        cols = (posts_t.c.id, posts_t.c.channel_id, posts_t.c.title, posts_t.c.source_column,
                sa.func.substr(posts_t.c.body, 1, body_chars).label("body"), posts_t.c.item,
                posts_t.c.item_source)
        not_manual = sa.or_(posts_t.c.item_source.is_(None), posts_t.c.item_source != "manual")
        yield from self._keyset(cols, [not_manual], batch)

    def update_items(self, updates: Sequence[dict[str, Any]]) -> None:
        """`[{"_id", "item", "category", "item_source"}, …]`, skipping manual tags."""
        if not updates:
            return
        stmt = (
            posts_t.update()
            .where(posts_t.c.id == sa.bindparam("b__id"),
                   sa.or_(posts_t.c.item_source.is_(None), posts_t.c.item_source != "manual"))
            .values(item=sa.bindparam("b_item"), category=sa.bindparam("b_category"),
                    item_source=sa.bindparam("b_item_source"))
        )
        with self.engine.begin() as conn:
            conn.execute(stmt, [_prefixed(u) for u in updates])

    def posts_of_project(self, project_code: str) -> list[dict[str, Any]]:
        """Every channel's announcements of one procurement project (项目编号), oldest first:
        the centre's tender and ccgp's result are linked, each still counted by its channel."""
        code = posts_t.c.extra["project_code"].as_string()
        q = (sa.select(posts_t.c.id, posts_t.c.channel_id, posts_t.c.title, posts_t.c.url, posts_t.c.type,
                       posts_t.c.published_at)
             .where(code == project_code).order_by(posts_t.c.published_at, posts_t.c.id))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def count_history(self, post_id: int) -> list[dict[str, Any]]:
        q = sa.select(metrics_t).where(metrics_t.c.post_id == post_id).order_by(metrics_t.c.observed_at)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def revisions(self, post_id: int) -> list[dict[str, Any]]:
        q = sa.select(revisions_t).where(revisions_t.c.post_id == post_id).order_by(revisions_t.c.id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def iter_texts(self, start: datetime | None, end: datetime | None, *, items: Sequence[int] | None = None,
                   batch: int = 2000) -> Iterator[list[dict[str, Any]]]:
        """Batches of posts published in [start, end) (either open; of `items` only, when given) with
        what a compliance check reads: title, body, item, type, publication time, channel and URL."""
        cols = (posts_t.c.id, posts_t.c.channel_id, posts_t.c.title, posts_t.c.body, posts_t.c.item,
                posts_t.c.type, posts_t.c.published_at, posts_t.c.url)
        where = []
        if start is not None:
            where.append(posts_t.c.published_at >= start)
        if end is not None:
            where.append(posts_t.c.published_at < end)
        if items is not None:
            where.append(posts_t.c.item.in_(list(items)))
        yield from self._keyset(cols, where, batch)

    def iter_posts(self, *, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Every post in id order, streamed (an export of 1M posts stays flat in memory)."""
        cols = [c for c in posts_t.c if c.name not in ("body", "body_html")]
        for rows in self._keyset(cols, [], batch):
            yield from rows

    def _keyset(self, cols: Sequence[Any], where: Sequence[Any], batch: int) -> Iterator[list[dict[str, Any]]]:
        """Posts in id order, `batch` at a time: keyset pages work the same on both dialects and hold
        no server cursor between them."""
        last_id = 0
        while True:
            q = sa.select(*cols).where(posts_t.c.id > last_id, *where).order_by(posts_t.c.id).limit(batch)
            with self.engine.connect() as conn:
                rows = [dict(r._mapping) for r in conn.execute(q)]
            if not rows:
                return
            yield rows
            last_id = rows[-1]["id"]


def _links_with_files() -> sa.Select[Any]:
    """Attachment rows with what their kept file is (none for a link not kept)."""
    return (sa.select(links_t, files_t.c.size, files_t.c.mime, files_t.c.kind, files_t.c.text_status,
                      files_t.c.pages, files_t.c.note)
            .select_from(links_t.outerjoin(files_t, files_t.c.sha256 == links_t.c.sha256)))


def _index(conn: sa.Connection, dialect: str, rows: Sequence[dict[str, Any]]) -> None:
    execute(conn, backend_for(dialect).index(rows))  # nothing runs for no rows


def _update_by_id(sample: dict[str, Any]) -> sa.Update:
    """`UPDATE posts SET col = :b_col, … WHERE id = :b__id` for executemany.
    (SQLAlchemy reserves bind names equal to column names, hence the prefix.)"""
    cols = [k for k in sample if k != "_id"]
    return (
        posts_t.update()
        .where(posts_t.c.id == sa.bindparam("b__id"))
        .values({c: sa.bindparam(f"b_{c}") for c in cols})
    )


def _prefixed(values: dict[str, Any]) -> dict[str, Any]:
    return {f"b_{k}": v for k, v in values.items()}


def _counts(rec: PostRecord, old: Any) -> dict[str, Any]:
    """The post's current counts: the newest observation wins (an older export
    imported late does not turn the numbers back), and counts only move when
    the source gives them (a saved page has none)."""
    if rec.reads is None and rec.likes is None:
        return {"reads": old.reads, "likes": old.likes, "counts_at": old.counts_at}
    if rec.counts_at is not None and old.counts_at is not None and rec.counts_at < old.counts_at:
        return {"reads": old.reads, "likes": old.likes, "counts_at": old.counts_at}
    return {
        "reads": rec.reads if rec.reads is not None else old.reads,
        "likes": rec.likes if rec.likes is not None else old.likes,
        "counts_at": rec.counts_at or old.counts_at,
    }


def _snapshot_counts(conn: sa.Connection, observed: Sequence[tuple[int, PostRecord]]) -> None:
    """Keep every dated observation of a post's counts (one per post and time)."""
    if not observed:
        return
    for post_id, rec in observed:
        conn.execute(metrics_t.delete().where(metrics_t.c.post_id == post_id,
                                              metrics_t.c.observed_at == rec.counts_at))
    conn.execute(metrics_t.insert(), [{"post_id": pid, "observed_at": r.counts_at, "reads": r.reads,
                                       "likes": r.likes} for pid, r in observed])


def _insert_values(channel_id: str, rec: PostRecord, now: datetime) -> dict[str, Any]:
    return {
        "channel_id": channel_id,
        "key": rec.key,
        "url": rec.url,
        "title": rec.title,
        "body": rec.body,
        "body_html": rec.body_html,
        "published_at": rec.published_at,
        "department": rec.department,
        "attachments": rec.attachments,
        "source_column": rec.source_column,
        "type": rec.type,
        "reads": rec.reads,
        "likes": rec.likes,
        "counts_at": rec.counts_at,
        "item": rec.item,
        "category": rec.category,
        "item_source": rec.item_source,
        "extra": rec.extra,
        "content_hash": rec.content_hash,
        "first_seen_at": now,
        "updated_at": now,
    }
