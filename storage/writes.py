"""Writing a batch of one channel's posts: the upsert that makes a 100k-post backfill take seconds.

One transaction and a handful of set-based statements per batch: new keys are inserted; a post
whose content hash changed has its old version copied to `post_revisions` before it is
overwritten; an unchanged post only has its reads/likes refreshed. A manual 清单 tag is kept
whatever the record says. The search index moves with the rows (`storage.search`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.records import PostRecord, WriteResult
from storage.search import backend_for, execute, notice_key
from storage.tables import (
    KEY_CHUNK,
    copy_rows,
    metrics_t,
    next_ids,
    posts_t,
    prefixed,
    revisions_t,
    rollup_delta_t,
    rollup_t,
    upsert,
)

# Columns whose change makes a new revision (reads/likes are counts, not content).
CONTENT_COLUMNS = ("title", "body", "published_at", "department", "attachments")
# Columns a re-sync refreshes on an existing post.
REFRESHED_COLUMNS = (*CONTENT_COLUMNS, "url", "body_html", "source_column", "type", "extra", "content_hash")
_EXISTING = ("id", "key", "content_hash", "item_source", "item", "category", "reads", "likes", "counts_at", "extra")


@dataclass(slots=True)
class _Plan:
    """What a batch does to the table: rows to insert, posts whose content changed, posts
    whose counts moved."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    counts: list[dict[str, Any]] = field(default_factory=list)


def write_batch(conn: sa.Connection, channel_id: str, records: Sequence[PostRecord], now: datetime) -> WriteResult:
    by_key: dict[str, PostRecord] = {}
    for rec in records:  # the same key twice in a batch: the later one wins
        by_key[rec.key] = rec
    if not by_key:
        return WriteResult()
    existing = _existing(conn, channel_id, list(by_key))
    plan = _plan(channel_id, by_key, existing, now)
    ids_by_key = {k: row.id for k, row in existing.items()}
    if plan.inserts:
        ids_by_key.update(_insert(conn, channel_id, plan.inserts))
    if plan.changed:
        _revise(conn, plan.changed, existing, now)
    if plan.counts:
        conn.execute(_update_by_id(plan.counts[0]), [prefixed(c) for c in plan.counts])
    _snapshot_counts(conn, [(ids_by_key[k], r) for k, r in by_key.items()
                            if r.counts_at is not None and (r.reads is not None or r.likes is not None)])
    return WriteResult(new=len(plan.inserts), updated=len(plan.changed))


def _existing(conn: sa.Connection, channel_id: str, keys: list[str]) -> dict[str, Any]:
    """The stored rows of these keys (what the plan compares against), by key."""
    found: dict[str, Any] = {}
    for i in range(0, len(keys), KEY_CHUNK):
        q = sa.select(*(posts_t.c[c] for c in _EXISTING)).where(
            posts_t.c.channel_id == channel_id, posts_t.c.key.in_(keys[i : i + KEY_CHUNK]))
        found.update({row.key: row for row in conn.execute(q)})
    return found


def _plan(channel_id: str, by_key: dict[str, PostRecord], existing: dict[str, Any], now: datetime) -> _Plan:
    plan = _Plan()
    for key, rec in by_key.items():
        old = existing.get(key)
        if old is None:
            plan.inserts.append(_insert_values(channel_id, rec, now))
            continue
        tag = ({"item": old.item, "category": old.category, "item_source": old.item_source}
               if old.item_source == "manual"
               else {"item": rec.item, "category": rec.category, "item_source": rec.item_source})
        new_counts = _counts(rec, old)
        if old.content_hash != rec.content_hash and rec.complete:
            values = {c: getattr(rec, c) for c in REFRESHED_COLUMNS}
            plan.changed.append({"_id": old.id, **values, **tag, **new_counts, "notice_key": notice_key(rec.title),
                                 "updated_at": now})
        elif new_counts != {"reads": old.reads, "likes": old.likes, "counts_at": old.counts_at}:
            plan.counts.append({"_id": old.id, **new_counts})
    return plan


def _insert(conn: sa.Connection, channel_id: str, inserts: list[dict[str, Any]]) -> dict[str, int]:
    """Insert the new posts and index them; their ids by key."""
    backend = backend_for(conn.dialect.name)
    new_ids = _insert_rows(conn, channel_id, inserts)
    backend.index_new(conn, [new_ids[row["key"]] for row in inserts], backend.tokens(inserts))
    return new_ids


def _insert_rows(conn: sa.Connection, channel_id: str, inserts: list[dict[str, Any]]) -> dict[str, int]:
    if conn.dialect.name == "postgresql":
        new_ids = _copy_posts(conn, inserts)
    else:
        conn.execute(posts_t.insert(), inserts)
        new_ids = {}
        new_keys = [row["key"] for row in inserts]
        for i in range(0, len(new_keys), KEY_CHUNK):
            q = sa.select(posts_t.c.id, posts_t.c.key).where(posts_t.c.channel_id == channel_id,
                                                             posts_t.c.key.in_(new_keys[i : i + KEY_CHUNK]))
            new_ids.update({r.key: r.id for r in conn.execute(q)})
    return new_ids


_JSON_COLUMNS = frozenset(c.name for c in posts_t.columns if isinstance(c.type, sa.JSON))


# PostgreSQL: writers insert posts one transaction at a time (held to its commit), so posts
# become visible in the order of their ids, as on SQLite. A reader that sees id N then has seen
# every post below it: the web's kept search counts add only the posts above (migration 0016).
INSERT_TURN = 7_878_470_001  # pg_advisory_xact_lock's key ("xxgk" 0001)


def _copy_posts(conn: sa.Connection, inserts: list[dict[str, Any]]) -> dict[str, int]:
    """PostgreSQL: the new posts by COPY with ids taken from the sequence first (the rollup's
    statement trigger fires for a COPY as for an INSERT), once this writer's turn has come."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": INSERT_TURN})
    ids = next_ids(conn, posts_t, len(inserts))
    columns = list(inserts[0])
    json_at = [i for i, c in enumerate(columns) if c in _JSON_COLUMNS]
    rows = []
    for post_id, row in zip(ids, inserts, strict=True):
        values = [post_id, *row.values()]
        for i in json_at:
            values[i + 1] = json.dumps(values[i + 1])
        rows.append(values)
    copy_rows(conn, posts_t.name, ["id", *columns], rows)
    return {row["key"]: post_id for post_id, row in zip(ids, inserts, strict=True)}


def _revise(conn: sa.Connection, changed: list[dict[str, Any]], existing: dict[str, Any], now: datetime) -> None:
    """Keep the old versions of the changed posts as revisions, then overwrite and re-index them."""
    ids = [c["_id"] for c in changed]
    # A post stored from its list entry while its detail page failed is completed,
    # not revised: the stub was never what the page published.
    stubs = {row.id for row in existing.values() if (row.extra or {}).get("detail") == "missing"}
    old_rows = conn.execute(
        sa.select(posts_t.c.id, posts_t.c.title, posts_t.c.body, posts_t.c.department,
                  posts_t.c.attachments, posts_t.c.attachment_text).where(posts_t.c.id.in_(ids))
    ).mappings().all()
    kept_text = {r["id"]: r["attachment_text"] for r in old_rows}
    backend = backend_for(conn.dialect.name)
    execute(conn, backend.unindex(old_rows))
    conn.execute(revisions_t.insert().from_select(
        ["post_id", *CONTENT_COLUMNS, "content_hash", "valid_from", "valid_to"],
        sa.select(posts_t.c.id, *(posts_t.c[c] for c in CONTENT_COLUMNS), posts_t.c.content_hash,
                  posts_t.c.updated_at, sa.literal(now, sa.DateTime()))
        .where(posts_t.c.id.in_([i for i in ids if i not in stubs]))))
    conn.execute(_update_by_id(changed[0]), [prefixed(c) for c in changed])
    execute(conn, backend.index([{**c, "id": c["_id"], "attachment_text": kept_text.get(c["_id"])} for c in changed]))


def _update_by_id(sample: dict[str, Any]) -> sa.Update:
    """`UPDATE posts SET col = :b_col, … WHERE id = :b__id` for executemany."""
    cols = [k for k in sample if k != "_id"]
    return posts_t.update().where(posts_t.c.id == sa.bindparam("b__id")).values(
        {c: sa.bindparam(f"b_{c}") for c in cols})


def _counts(rec: PostRecord, old: Any) -> dict[str, Any]:
    """The post's current counts: the newest observation wins (an older export
    imported late does not turn the numbers back), and counts only move when
    the source gives them (a saved page has none)."""
    if rec.reads is None and rec.likes is None:
        return {"reads": old.reads, "likes": old.likes, "counts_at": old.counts_at}
    if rec.counts_at is not None and old.counts_at is not None and rec.counts_at < old.counts_at:
        return {"reads": old.reads, "likes": old.likes, "counts_at": old.counts_at}
    return {"reads": rec.reads if rec.reads is not None else old.reads,
            "likes": rec.likes if rec.likes is not None else old.likes,
            "counts_at": rec.counts_at or old.counts_at}


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
    return {"channel_id": channel_id, "key": rec.key, "url": rec.url, "title": rec.title, "body": rec.body,
            "body_html": rec.body_html, "published_at": rec.published_at, "department": rec.department,
            "attachments": rec.attachments, "source_column": rec.source_column, "type": rec.type,
            "reads": rec.reads, "likes": rec.likes, "counts_at": rec.counts_at, "item": rec.item,
            "category": rec.category, "item_source": rec.item_source, "extra": rec.extra,
            "content_hash": rec.content_hash, "notice_key": notice_key(rec.title), "first_seen_at": now,
            "updated_at": now}


_ROLLUP_KEY = tuple(c.name for c in rollup_t.primary_key)  # month, channel, category, item, type
_ROLLUP_SUMS = tuple(c.name for c in rollup_t.columns if not c.primary_key)
# One fold at a time per store: the advisory lock's key names the store's schema (two stores may
# share a database, as the tests and benches do).
_FOLD_LOCK = sa.text("SELECT pg_try_advisory_xact_lock(hashtext('xxgk rollup fold ' || current_schema()))")


def fold_rollup(conn: sa.Connection) -> int:
    """PostgreSQL: move the rollup's deltas (migration 0013) into it, summed per key, in one
    statement; returns the rollup rows it added to (0 when another fold holds the lock). Readers
    sum both tables, so this only keeps the deltas few."""
    if conn.dialect.name != "postgresql" or not conn.execute(_FOLD_LOCK).scalar():
        return 0
    moved = rollup_delta_t.delete().returning(*(rollup_delta_t.c[c] for c in (*_ROLLUP_KEY, *_ROLLUP_SUMS))).cte()
    summed = sa.select(*(moved.c[c] for c in _ROLLUP_KEY), *(sa.func.sum(moved.c[c]) for c in _ROLLUP_SUMS)
                       ).group_by(*(moved.c[c] for c in _ROLLUP_KEY)).order_by(*(moved.c[c] for c in _ROLLUP_KEY))
    stmt = upsert("postgresql", rollup_t).from_select([*_ROLLUP_KEY, *_ROLLUP_SUMS], summed)
    stmt = stmt.on_conflict_do_update(index_elements=list(_ROLLUP_KEY), set_={
        c: rollup_t.c[c] + stmt.excluded[c] for c in _ROLLUP_SUMS})
    return conn.execute(stmt).rowcount
