"""The store on SQLite and on PostgreSQL: schema by migration, upserts, revisions, state."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from aggregator.config import parse_config
from aggregator.services.health import FireTimes, due_at, failures_in_a_row, next_due
from storage.engine import current_revision, head_revision
from storage.models import include_in_comparison, metadata
from storage.store import ChannelRecord, PostRecord, RunCounts, Store, StoredState
from storage.tables import runs_t


def _channel(store: Store, cid: str = "portal-notices") -> None:
    store.channels.register([ChannelRecord(cid, "通知公告", "html", "学校门户网站", "https://x.edu.cn/tzgg.htm", True)])


def _post(key: str, title: str, body: str = "正文", h: str | None = None, **kw: object) -> PostRecord:
    return PostRecord(key=key, title=title, body=body, content_hash=h or f"{title}|{body}",
                      published_at=datetime(2023, 5, 12, 10, 20), **kw)  # type: ignore[arg-type]


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_a_new_store_is_created_by_the_migrations_and_matches_the_models(store: Store) -> None:
    assert current_revision(store.engine) == head_revision()
    with store.engine.connect() as conn:
        opts = {"compare_type": True, "include_name": include_in_comparison}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_the_rollup_and_search_triggers_are_in_place(store: Store) -> None:
    """The rollup's and the search marks' triggers on both databases (a SQLite table rebuild
    would drop them); on PostgreSQL the search tokens go out of line (counting through GIN
    reads narrow rows)."""
    import sqlalchemy as sa

    with store.engine.connect() as conn:
        if store.dialect == "postgresql":
            storage = conn.execute(sa.text("SELECT attstorage FROM pg_attribute WHERE attrelid = "
                                           "'post_search'::regclass AND attname = 'tsv'")).scalar_one()
            options = conn.execute(sa.text("SELECT reloptions FROM pg_class WHERE oid = 'post_search'::regclass"
                                           )).scalar_one()
            assert storage == "x" and options == ["toast_tuple_target=128"]  # EXTENDED: to TOAST past 128 bytes
            triggers = conn.execute(sa.text("SELECT tgname FROM pg_trigger WHERE tgrelid IN "
                                            "('posts'::regclass, 'channels'::regclass) AND tgname LIKE 'tr_%'"
                                            )).scalars().all()
        else:
            triggers = conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                            "AND tbl_name IN ('posts', 'channels')")).scalars().all()
    assert sorted(triggers) == ["tr_channels_search_changes_delete", "tr_channels_search_changes_update",
                                "tr_posts_rollup_delete", "tr_posts_rollup_insert", "tr_posts_rollup_update",
                                "tr_posts_search_changes_delete", "tr_posts_search_changes_update"]


def test_reopening_an_existing_store_keeps_its_posts(store_url: str) -> None:
    first = Store.open(store_url)
    _channel(first)
    first.posts.write("portal-notices", [_post("a", "关于2023年端午节放假的通知")])
    first.close()
    again = Store.open(store_url)  # runs the migrations again: a no-op, nothing dropped
    assert again.posts.count() == 1
    again.close()


def test_the_same_posts_twice_are_stored_once(store: Store) -> None:
    _channel(store)
    batch = [_post(f"k{i}", f"通知{i}") for i in range(3)]
    assert (r := store.posts.write("portal-notices", batch)).new == 3 and r.updated == 0
    assert (r := store.posts.write("portal-notices", batch)).new == 0 and r.updated == 0
    assert store.posts.count() == 3


def test_the_same_key_in_two_channels_is_two_posts(store: Store) -> None:
    _channel(store, "a")
    _channel(store, "b")
    store.posts.write("a", [_post("k", "同一标题")])
    store.posts.write("b", [_post("k", "同一标题")])
    assert store.posts.count() == 2


def test_a_changed_post_keeps_its_earlier_version(store: Store) -> None:
    _channel(store)
    store.posts.write("portal-notices", [_post("k", "关于举办讲座的通知", "时间：周三")])
    r = store.posts.write("portal-notices", [_post("k", "关于举办讲座的通知（更正）", "时间：周四")])
    assert (r.new, r.updated) == (0, 1)
    post = store.posts.get("portal-notices", "k")
    assert post is not None and post.title == "关于举办讲座的通知（更正）"
    revs = store.posts.revisions(post.id)
    assert [(v.title, v.body) for v in revs] == [("关于举办讲座的通知", "时间：周三")]
    assert revs[0].valid_to >= revs[0].valid_from


def test_new_read_counts_are_not_a_new_revision(store: Store) -> None:
    _channel(store)
    store.posts.write("portal-notices", [_post("k", "推文", reads=100, likes=3)])
    r = store.posts.write("portal-notices", [_post("k", "推文", reads=250, likes=None)])
    assert (r.new, r.updated) == (0, 0)
    post = store.posts.get("portal-notices", "k")
    assert post is not None and (post.reads, post.likes) == (250, 3)
    assert store.posts.revisions(post.id) == []


def test_a_manual_tag_survives_a_changed_post(store: Store) -> None:
    _channel(store)
    store.posts.write("portal-notices", [_post("k", "标题", item=7, category=2, item_source="rule")])
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE posts SET item = 19, category = 4, item_source = 'manual'"))
    store.posts.write("portal-notices", [_post("k", "标题改了", item=7, category=2, item_source="rule")])
    post = store.posts.get("portal-notices", "k")
    assert post is not None and (post.item, post.category, post.item_source) == (19, 4, "manual")


def test_channel_state_round_trips(store: Store) -> None:
    _channel(store)
    assert store.channels.load_state("portal-notices") == StoredState()
    state = StoredState(cursor="tzgg/12.htm", etag='"abc"', last_modified="Wed, 21 Oct 2015 07:28:00 GMT",
                        seen=["sha256:1"], data={"pages": 40})
    store.channels.save_state("portal-notices", state)
    store.channels.save_state("portal-notices", state)
    assert store.channels.load_state("portal-notices") == state


def test_a_run_left_running_by_a_crash_is_closed_as_interrupted(store: Store) -> None:
    _channel(store)
    store.runs.start("portal-notices", full=False)  # never finished: the process died
    run = store.runs.start("portal-notices", full=False)
    store.runs.finish(run, "ok", RunCounts(fetched=1, new=1), None)
    runs = store.runs.all("portal-notices")
    assert [r.status for r in runs] == ["interrupted", "ok"]
    assert "同步中途停止" in runs[0].error
    [overview] = store.channels.overview()
    assert overview.last_run_status == "ok" and overview.posts == 0


def test_the_ticks_last_runs_agree_with_each_channels_whole_history(store: Store) -> None:
    """The scheduler reads each channel's last finished run and failures since its last success
    (`Runs.last_runs`) instead of its history: for random histories of every status, both give the
    same run, the same failures and the same due time (history read whole, not capped at 20); and
    the history read from each channel's end is its runs, newest first."""
    rng = random.Random(28)
    ids = [f"c{i}" for i in range(40)]
    store.channels.register([ChannelRecord(c, c, "html", "组", None, True) for c in ids])
    t0 = datetime(2026, 12, 1, 8, 0)
    rows = []
    for n, cid in enumerate(ids):  # some channels never run; some fail long after their last success
        statuses = ["ok", "partial", "failed", "failed", "interrupted", "running"]
        for k in range(rng.choice([0, 1, 2, 5, 30, 45])):
            start = t0 + timedelta(minutes=7 * k + n)
            status = rng.choice(statuses[2:] if n % 5 == 1 else statuses)
            rows.append({"channel_id": cid, "started_at": start, "status": status,
                         "finished_at": None if status == "running" else start + timedelta(seconds=30)})
    rows.sort(key=lambda r: r["started_at"])  # runs of different channels interleave, each in its order
    with store.engine.begin() as conn:
        conn.execute(runs_t.insert(), rows)
    cfg = parse_config("".join(f'[[channel]]\nid = "{c}"\nkind = "feed"\nurl = "http://127.0.0.1:9/{c}"\n'
                               f'schedule = "{i % 7}-59/7 * * * *"\n' for i, c in enumerate(ids)), Path("config.toml"))
    fires = FireTimes()  # kept across both rounds, as a scheduler keeps it from tick to tick
    for later in (None, t0 + timedelta(days=2, minutes=3)):
        if later is not None:  # every channel runs once more: the kept cron times must follow
            with store.engine.begin() as conn:
                conn.execute(runs_t.insert(), [{"channel_id": c, "started_at": later, "finished_at": later,
                                                "status": "ok"} for c in ids])
        history = store.runs.history(limit_per_channel=1000)
        recent = store.runs.history()  # the channels page's 20
        overview = {o.id: o for o in store.channels.overview()}
        for cid in ids:
            every = store.runs.all(cid)[::-1]
            assert (history.get(cid, []), recent.get(cid, [])) == (every, every[:20]), cid
            newest = (every[0].status, every[0].started_at, every[0].finished_at) if every else (None, None, None)
            ok = max((r.finished_at for r in every if r.status == "ok"), default=None)
            o = overview[cid]
            assert (o.last_run_status, o.last_run_started, o.last_run_finished, o.last_ok) == (*newest, ok), cid
            assert store.channels.overview(cid) == [o]
        last = store.runs.last_runs()
        for ch in cfg.channels:
            runs = history.get(ch.id, [])
            finished = [r for r in runs if r.status in ("ok", "partial", "failed")]
            assert (last[ch.id].run if ch.id in last else None) == (finished[0] if finished else None), ch.id
            assert (last[ch.id].failures if ch.id in last else 0) == failures_in_a_row(runs), ch.id
            for now in (t0, t0 + timedelta(days=3)):
                for _ in range(2):  # the second asks the kept cron time
                    expected = due_at(ch, runs, now, 30, timedelta(minutes=5))
                    assert next_due(ch, last.get(ch.id), now, 30, timedelta(minutes=5), fires) == expected, ch.id
            assert store.runs.last_runs(ch.id) == ({ch.id: last[ch.id]} if ch.id in last else {})
        if later is None:
            assert sum(1 for v in last.values() if v.failures >= 20) >= 1  # past what 20 runs could count
            assert sum(1 for v in last.values() if v.failures == 0) >= 5


def test_iter_posts_streams_every_post_in_id_order(store: Store) -> None:
    _channel(store)
    store.posts.write("portal-notices", [_post(f"k{i:04d}", f"t{i}") for i in range(4500)])
    ids = [row["id"] for row in store.posts.iter_rows(batch=1000)]
    assert len(ids) == 4500 and ids == sorted(ids)


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_pooled_connections_the_server_dropped_are_replaced_before_a_query_uses_them(store: Store) -> None:
    """A restarted server or a firewall's idle timeout leaves the pool's connections dead: one
    idle past `IDLE_PING_S` is pinged at checkout and replaced, so the next read succeeds."""
    import time

    from storage.engine import IDLE_PING_S

    store.engine.dispose()
    held = [store.engine.connect() for _ in range(3)]
    pids = {conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() for conn in held}
    for conn in held:
        conn.close()  # back to the pool, the only connections it has
    with Store.open(str(store.engine.url.render_as_string(hide_password=False))) as other, \
            other.engine.connect() as admin:
        killed = admin.execute(sa.text("SELECT count(*) FROM (SELECT pg_terminate_backend(p) FROM unnest("
                                       "CAST(:pids AS int[])) AS p) AS t"), {"pids": sorted(pids)}).scalar_one()
    assert killed == 3
    time.sleep(IDLE_PING_S + 0.5)
    assert store.posts.count() == 0
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() not in pids
