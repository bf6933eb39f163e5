"""The statistics rollup (migration 0013) against the posts it counts: after every kind of write a
store sees — a sync's inserts and revisions, counts refreshed, a manual tag, a reclassification,
a re-key, a delete — each period and grouping reads the same from the rollup as from the posts."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from aggregator.qingdan import category_of
from storage.records import TagUpdate
from storage.stats import amounts_by, amounts_posts, count_by, count_posts, split_months
from storage.store import ChannelRecord, PostRecord, Store
from storage.tables import metrics_t, posts_t, revisions_t, rollup_delta_t

CHANNELS = ("portal", "cg", "wx")
TYPES = (None, "采购意向", "中标公告", "更正公告")
START = datetime(2023, 7, 1)


def record(rnd: random.Random, key: str, version: int) -> PostRecord:
    item = rnd.choice([None, 7, 18, 25])
    undated = rnd.random() < 0.05
    extra: dict[str, object] = {}
    if rnd.random() < 0.5:
        extra["budget"] = round(rnd.uniform(1e4, 1e7), 2)
    if rnd.random() < 0.3:
        extra["award"] = rnd.randint(10_000, 900_000)
    return PostRecord(key=key, title=f"标题{key}-{version}", content_hash=f"{key}-{version}",
                      published_at=None if undated else START + timedelta(hours=rnd.randint(0, 24 * 500)),
                      item=item, category=category_of(item), type=rnd.choice(TYPES),
                      reads=rnd.choice([None, rnd.randint(0, 9000)]), extra=extra)


def periods() -> list[tuple[datetime | None, datetime | None]]:
    return [(None, None), (datetime(2023, 9, 1), datetime(2024, 9, 1)), (datetime(2023, 9, 14, 8), None),
            (None, datetime(2024, 3, 17)), (datetime(2023, 10, 5), datetime(2023, 10, 20)),
            (datetime(2023, 11, 30, 23, 59), datetime(2024, 2, 1, 0, 1))]


def assert_rollup_matches(store: Store) -> None:
    for start, end in periods():
        for dims in ([], ["month"], ["channel", "month"], ["group", "category"], ["item"], ["type"],
                     ["month", "type"], ["channel", "item", "type"]):
            plain = {k: v for k, v in count_posts(store, dims, start, end).items() if v[0]}  # no zero rows
            assert count_by(store, dims, start, end) == plain, (dims, start, end)
            if "type" in dims:
                assert amounts_by(store, dims, start, end) == amounts_posts(store, dims, start, end)


def test_the_rollup_counts_what_the_posts_hold_after_every_kind_of_write(store: Store) -> None:
    rnd = random.Random(11)
    store.channels.register([ChannelRecord(c, c, "html", f"组{i % 2}", None, True) for i, c in enumerate(CHANNELS)])
    for channel in CHANNELS:  # a first sync, then re-syncs that revise some posts and refresh counts
        store.posts.write(channel, [record(rnd, f"{channel}{i}", 0) for i in range(120)])
    for version in (1, 2):
        for channel in CHANNELS:
            store.posts.write(channel, [record(rnd, f"{channel}{i}", version if rnd.random() < 0.3 else 0)
                                        for i in range(0, 140, 2)])
    assert_rollup_matches(store)

    with store.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(sa.select(posts_t.c.id).order_by(posts_t.c.id))]
    store.posts.set_manual_tag(ids[3], 49, category_of(49))
    store.posts.update_tags([TagUpdate(i, 19, category_of(19), "rules") for i in ids[::7]])
    store.posts.rekey("portal", lambda key: key.replace("portal", "https-portal"))
    with store.engine.begin() as conn:  # a delete, as a script or a future purge would do it
        gone = ids[10:25]
        conn.execute(revisions_t.delete().where(revisions_t.c.post_id.in_(gone)))
        conn.execute(metrics_t.delete().where(metrics_t.c.post_id.in_(gone)))
        conn.execute(posts_t.delete().where(posts_t.c.id.in_(gone)))
        conn.execute(posts_t.update().where(posts_t.c.id.in_(ids[30:40])).values(
            published_at=sa.func.coalesce(posts_t.c.published_at, datetime(2024, 1, 1)), channel_id="wx"))
    assert_rollup_matches(store)  # PostgreSQL: the last deltas are not folded yet, and count all the same
    store.posts.fold_rollup()
    assert_rollup_matches(store)
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rollup_delta_t)).scalar_one() == 0


@given(st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1)), st.timedeltas(timedelta(0), timedelta(days=900)))
def test_a_period_is_its_whole_months_and_its_edges_exactly(start: datetime, length: timedelta) -> None:
    end = start + length
    split = split_months(start, end)
    covered = timedelta(0)
    for a, b in split.edges:
        assert a is not None and b is not None and start <= a < b <= end
        if split.whole:  # else the one edge is the whole period, shorter than its months
            assert a.strftime("%Y-%m") == (b - timedelta(microseconds=1)).strftime("%Y-%m")
        covered += b - a
    if split.whole:
        assert split.first is not None and split.last is not None and split.first <= split.last
        first = datetime.strptime(split.first, "%Y-%m")
        y, m = map(int, split.last.split("-"))
        after = datetime(y + m // 12, m % 12 + 1, 1)
        assert start <= first and after <= end
        covered += after - first
    assert covered == end - start


def test_posts_stored_before_the_rollup_are_counted_by_the_migration(store_url: str) -> None:
    """A store of the version before the rollup: the upgrade counts the posts it holds, amounts
    and undated posts included, then the triggers take over."""
    from alembic import command

    from storage.engine import _alembic_config, make_engine

    engine = make_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0012")
        conn.execute(sa.text("INSERT INTO channels (id, name, kind, group_name, enabled, registered_at) "
                             "VALUES ('cg', 'cg', 'procurement', 'g', true, '2025-01-01')"))
        conn.execute(sa.text(
            "INSERT INTO posts (channel_id, key, title, body, attachments, extra, content_hash, published_at, "
            "type, item, category, reads, first_seen_at, updated_at) VALUES ('cg', :k, 't', '', '[]', :x, 'h', :p, "
            ":t, 18, 5, :r, '2025-01-01', '2025-01-01')"),
            [{"k": "a", "x": '{"budget": 1200.5, "award": 900}', "p": "2024-10-08 09:00:00", "t": "中标公告", "r": 7},
             {"k": "b", "x": '{"budget": "不详"}', "p": "2024-10-31 23:00:00", "t": "中标公告", "r": None},
             {"k": "c", "x": "{}", "p": None, "t": None, "r": 3}])
    engine.dispose()
    with Store.open(store_url) as store:
        assert count_by(store, ["month", "type"], None, None) == {("2024-10", "中标公告"): (2, 7), (None, None): (1, 3)}
        year = (datetime(2024, 9, 1), datetime(2025, 9, 1))
        assert amounts_by(store, ["type"], *year) == {("中标公告",): (1200.5, 1, 900.0, 1)}
        store.posts.write("cg", [PostRecord(key="d", title="t", content_hash="d", published_at=datetime(2024, 10, 9),
                                            type="中标公告", extra={"budget": 100})])
        assert amounts_by(store, ["type"], *year) == amounts_posts(store, ["type"], *year) == {
            ("中标公告",): (1300.5, 2, 900.0, 1)}
