"""Channels and what the service keeps about them: their rows and saved walk state (`Channels`),
the one-writer-per-channel leases (`Leases`), the marks of what was done once (`Marks`), and
their sync runs (`Runs`). Repositories over the store's engine; `Store` hands them out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from aggregator.clock import local_now
from storage.records import ChannelOverview, ChannelRecord, LastRun, Lease, ProcessId, RunCounts, RunRow, StoredState
from storage.tables import channels_t, leases_t, marks_t, posts_t, runs_t, state_t, upsert

# A post's `extra["status"]` when the source no longer shows it (a deleted WeChat article, a
# captcha wall): kept as a record of absence, not expected to carry a date.
UNAVAILABLE = frozenset({"deleted", "captcha"})
# A run's columns in RunRow's order (rows made without a mapping per row: the tick reads thousands).
RUN_COLUMNS = [runs_t.c[f.name] for f in fields(RunRow)]


def _from_end(column: str, statuses: tuple[str, ...] = (), skip: int = 0) -> sa.ScalarSelect[Any]:
    """Correlated to each channel: `column` of its newest run (with one of `statuses`, when given),
    or of the run `skip` places before it, read from the end of its runs (ix_sync_runs_channel_id)."""
    r = runs_t.alias()
    q = sa.select(r.c[column]).where(r.c.channel_id == channels_t.c.id)
    if statuses:
        q = q.where(r.c.status.in_(statuses))
    q = q.order_by(r.c.id.desc())
    if skip:
        q = q.offset(skip)
    return q.limit(1).correlate(channels_t).scalar_subquery()


class Channels:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def register(self, records: Iterable[ChannelRecord]) -> None:
        """Insert new channels and refresh the names/groups of known ones — one upsert, so
        processes and threads registering at once never collide; rows that already say
        the same are not rewritten."""
        now = local_now()
        rows = [{"id": rec.id, "name": rec.name, "kind": rec.kind, "group_name": rec.group_name,
                 "source": rec.source, "enabled": rec.enabled, "registered_at": now} for rec in records]
        if not rows:
            return
        cols = ("name", "kind", "group_name", "source", "enabled")
        with self.engine.connect() as conn:
            current = {r.id: tuple(r[1:]) for r in conn.execute(
                sa.select(channels_t.c.id, *(channels_t.c[c] for c in cols)))}
        changed = [r for r in rows if current.get(r["id"]) != tuple(r[c] for c in cols)]
        if not changed:
            return
        insert = upsert(self.engine.dialect.name, channels_t)
        stmt = insert.on_conflict_do_update(index_elements=[channels_t.c.id],
                                            set_={c: insert.excluded[c] for c in cols})
        with self.engine.begin() as conn:
            conn.execute(stmt, changed)

    def overview(self, channel_id: str | None = None) -> list[ChannelOverview]:
        """Every channel (or one) with its post count and its last run, in id order. The last run and
        the last success are read from the end of each channel's runs (ix_sync_runs_channel_id):
        the cost follows the channels, not the runs stored."""
        counted = sa.select(posts_t.c.channel_id, sa.func.count().label("n")).group_by(posts_t.c.channel_id)
        if channel_id is not None:
            counted = counted.where(posts_t.c.channel_id == channel_id)
        counts = counted.subquery()
        ends = sa.select(channels_t.c.id, _from_end("id").label("run_id"),
                         _from_end("finished_at", ("ok",)).label("ok_at")).subquery()
        q = (sa.select(channels_t, sa.func.coalesce(counts.c.n, 0).label("posts"), runs_t.c.status,
                       runs_t.c.started_at, runs_t.c.finished_at, runs_t.c.error, ends.c.ok_at)
             .select_from(channels_t).join(ends, ends.c.id == channels_t.c.id)
             .outerjoin(runs_t, runs_t.c.id == ends.c.run_id)
             .outerjoin(counts, counts.c.channel_id == channels_t.c.id)
             .order_by(channels_t.c.id))
        if channel_id is not None:
            q = q.where(channels_t.c.id == channel_id)
        with self.engine.connect() as conn:
            return [ChannelOverview(id=r.id, name=r.name, kind=r.kind, group_name=r.group_name, enabled=r.enabled,
                                    posts=r.posts, last_run_status=r.status, last_run_started=r.started_at,
                                    last_run_finished=r.finished_at, last_error=r.error, last_ok=r.ok_at)
                    for r in conn.execute(q)]

    def gaps(self, channel_id: str | None = None) -> dict[str, tuple[int, int]]:
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
            return {r.channel_id: dict(r.data or {})
                    for r in conn.execute(sa.select(state_t.c.channel_id, state_t.c.data))}

    def load_state(self, channel_id: str) -> StoredState:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(state_t).where(state_t.c.channel_id == channel_id)).first()
        if row is None:
            return StoredState()
        return StoredState(cursor=row.cursor, etag=row.etag, last_modified=row.last_modified,
                           seen=list(row.seen or []), data=dict(row.data or {}))

    def save_state(self, channel_id: str, state: StoredState) -> None:
        values = {"cursor": state.cursor, "etag": state.etag, "last_modified": state.last_modified,
                  "seen": list(state.seen), "data": dict(state.data), "updated_at": local_now()}
        with self.engine.begin() as conn:
            done = conn.execute(state_t.update().where(state_t.c.channel_id == channel_id).values(**values)).rowcount
            if not done:
                conn.execute(state_t.insert().values(channel_id=channel_id, **values))


def _lease(row: Any, won: bool) -> Lease:
    process = (ProcessId(row.host, row.boot_id, row.pid, row.pid_start)
               if row.host is not None and row.pid is not None else None)
    return Lease(row.channel_id, won, row.holder, row.acquired_at, row.expires_at, process,
                 row.renewed_at or row.acquired_at)


class Leases:
    """One writer per channel: a lease names its holder and expires unless renewed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def acquire(self, channel_id: str, holder: str, ttl: float, process: ProcessId | None = None) -> Lease:
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
        insert = upsert(self.engine.dialect.name, leases_t).values(**values)
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

    def release(self, channel_id: str, holder: str) -> None:
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
                _close_orphans(conn, channel_id, dead.renewed_at or dead.acquired_at,
                               f"同步中途停止：{dead.holder} 已不在运行（最后一次确认存活：{seen}）；"
                               "停止前已提交的帖子均已保存，下次同步会补全。")
        return bool(gone)

    def close_orphan_runs(self) -> int:
        """Runs still marked running whose channel nobody holds (the process died and its lease
        ran out): closed as interrupted at the lease's last renewal, or their start. Whoever
        reads the runs calls this, so a killed run never reads 「进行中」 for ever."""
        live = sa.select(leases_t.c.channel_id).where(leases_t.c.expires_at >= local_now())
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(runs_t.c.channel_id, runs_t.c.started_at).where(
                runs_t.c.status == "running", runs_t.c.channel_id.not_in(live))).all()
            for channel_id, started in rows:
                _close_orphans(conn, channel_id, started,
                               f"同步中途停止（进程被终止或崩溃，{started.isoformat(sep=' ', timespec='seconds')}"
                               " 开始）；停止前已提交的帖子均已保存，下次同步会补全。")
        return len(rows)

    def live(self) -> dict[str, Lease]:
        """Live leases, by channel."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(leases_t).where(leases_t.c.expires_at >= local_now())).all()
        return {r.channel_id: _lease(r, False) for r in rows}


def _close_orphans(conn: sa.Connection, channel_id: str, last_seen: datetime, why: str) -> None:
    conn.execute(runs_t.update().where(runs_t.c.channel_id == channel_id, runs_t.c.status == "running")
                 .values(status="interrupted", finished_at=last_seen, error=why))


class Marks:
    """What the service has done once (a nightly refit, the keys' spelling), by name."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(marks_t.c.value).where(marks_t.c.name == name)).scalar_one_or_none()

    def set(self, name: str, value: str) -> None:
        now = local_now()
        insert = upsert(self.engine.dialect.name, marks_t).values(name=name, value=value, updated_at=now)
        with self.engine.begin() as conn:
            conn.execute(insert.on_conflict_do_update(index_elements=[marks_t.c.name],
                                                      set_={"value": value, "updated_at": now}))

    def claim(self, name: str, value: str) -> bool:
        """Set a mark only if it is not set yet: True for the one process that set it."""
        insert = upsert(self.engine.dialect.name, marks_t).values(name=name, value=value, updated_at=local_now())
        with self.engine.begin() as conn:
            return conn.execute(insert.on_conflict_do_nothing(index_elements=[marks_t.c.name])
                                .returning(marks_t.c.name)).first() is not None


class Runs:
    """Each channel's sync runs: started, finished, and the recent history health is read from."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, channel_id: str, *, full: bool) -> int:
        """Record a run as started. Runs of this channel still marked running
        were cut short (killed, power loss): they are closed as interrupted."""
        now = local_now()
        with self.engine.begin() as conn:
            conn.execute(runs_t.update().where(runs_t.c.channel_id == channel_id, runs_t.c.status == "running")
                         .values(status="interrupted", finished_at=now,
                                 error="同步中途停止（进程被终止或崩溃）；停止前已提交的帖子均已保存，本次同步会补全。"))
            key = conn.execute(runs_t.insert().values(channel_id=channel_id, started_at=now, status="running",
                                                      full=full)).inserted_primary_key
            assert key is not None
            return int(key[0])

    def finish(self, run_id: int, status: str, counts: RunCounts, error: str | None,
               failure: str | None = None, note: str | None = None) -> datetime:
        now = local_now()
        with self.engine.begin() as conn:
            conn.execute(runs_t.update().where(runs_t.c.id == run_id).values(
                status=status, finished_at=now, error=error, failure=failure, note=note, fetched=counts.fetched,
                new=counts.new, updated=counts.updated, skipped=counts.skipped, requests=counts.requests))
        return now

    def history(self, limit_per_channel: int = 20, channel_id: str | None = None) -> dict[str, list[RunRow]]:
        """Each channel's most recent runs, newest first (what health and due times are derived from):
        each channel's runs from its `limit_per_channel`-th newest on, found from the end of its runs
        (ix_sync_runs_channel_id), so the channels page costs the same whatever the runs stored."""
        q = self._recent(limit_per_channel)
        if channel_id is not None:
            q = q.where(channels_t.c.id == channel_id)
        out: dict[str, list[RunRow]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(q):
                run = RunRow(*row)
                out.setdefault(run.channel_id, []).append(run)
        return out

    def _recent(self, n: int) -> sa.Select[Any]:
        """Each channel's last `n` runs, newest first: on PostgreSQL a LATERAL read of each channel's
        end; on SQLite each channel's runs from its n-th newest on (SQLite has no LATERAL; it keeps
        the correlated floor per channel, where PostgreSQL would recompute it for every run)."""
        if self.engine.dialect.name == "postgresql":
            last = (sa.select(*RUN_COLUMNS).where(runs_t.c.channel_id == channels_t.c.id)
                    .order_by(runs_t.c.id.desc()).limit(n).lateral())
            return (sa.select(*last.c).select_from(channels_t).join(last, sa.true())
                    .order_by(last.c.channel_id, last.c.id.desc()))
        floor = sa.func.coalesce(_from_end("id", skip=n - 1), 0)
        from_floor = sa.and_(runs_t.c.channel_id == channels_t.c.id, runs_t.c.id >= floor)
        return (sa.select(*RUN_COLUMNS).select_from(channels_t).join(runs_t, from_floor)
                .order_by(runs_t.c.channel_id, runs_t.c.id.desc()))

    def last_runs(self, channel_id: str | None = None) -> dict[str, LastRun]:
        """Each channel's last finished run and its failures since the last success (the scheduler's
        tick): read backwards from the end of each channel's runs (ix_sync_runs_channel_id), then
        the runs by id, so a tick costs the same whatever the number of runs stored."""
        failed = runs_t.alias()
        failures = (sa.select(sa.func.count()).select_from(failed)
                    .where(failed.c.channel_id == channels_t.c.id, failed.c.status == "failed",
                           failed.c.id > sa.func.coalesce(_from_end("id", ("ok", "partial")), 0))
                    .correlate(channels_t).scalar_subquery())
        q = sa.select(_from_end("id", ("ok", "partial", "failed")), failures).select_from(channels_t)
        if channel_id is not None:
            q = q.where(channels_t.c.id == channel_id)
        with self.engine.connect() as conn:
            failures_of = {run_id: n for run_id, n in conn.execute(q) if run_id is not None}
            ids = list(failures_of)
            runs = [RunRow(*r) for i in range(0, len(ids), 5000) for r in conn.execute(
                sa.select(*RUN_COLUMNS).where(runs_t.c.id.in_(ids[i:i + 5000])))]
        return {r.channel_id: LastRun(r, failures_of[r.id]) for r in runs}

    def all(self, channel_id: str | None = None) -> list[RunRow]:
        """Every run (of one channel, when given), oldest first."""
        q = sa.select(runs_t).order_by(runs_t.c.id)
        if channel_id is not None:
            q = q.where(runs_t.c.channel_id == channel_id)
        with self.engine.connect() as conn:
            return [RunRow(**r) for r in conn.execute(q).mappings()]
