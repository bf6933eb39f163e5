"""A kept search (`aggregator.services.recent`) answers exactly as the store does, whatever changed
since it was kept — on both databases, through every kind of write a store sees."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from aggregator.services.recent import KeptCubes, RecentSearches
from aggregator.services.search import _asked, search, search_facets
from storage.records import TagUpdate
from storage.search import backend_for, execute
from storage.store import ChannelRecord, PostRecord, Store
from storage.tables import links_t, metrics_t, posts_t, revisions_t
from tests.test_search import corpus

ASKS: list[tuple[str, dict[str, Any]]] = [
    ("招", {}), ("学院", {"channels": ["a"]}), ("呈贡校区", {}), ("预算", {"groups": ["信息公开网"]}),
    ("公示", {"items": ["7"]}), ("图书馆 -学院", {}), ("招生", {"date_from": "2024-03-01"}), ("巡视整改 OR 复试", {}),
]
PAGES = [(20, 0), (20, 20), (5, 35)]


def answer(store: Store, q: str, kw: dict[str, Any], limit: int, offset: int,
           recent: RecentSearches | None = None, cubes: KeptCubes | None = None) -> tuple[int, list[int], str]:
    found = search(store, q, limit=limit, offset=offset, recent=recent, cubes=cubes, **kw).result
    return found.total, [r["id"] for r in found.rows], found.plan


def _new_posts(store: Store, rnd: random.Random, step: int) -> None:
    posts = corpus(rnd.randint(1, 12), seed=step)
    start = datetime(2024, 1, 1)
    for i, p in enumerate(posts):  # some newer than everything, some older, some undated
        p.key = f"new{step}-{i}"
        p.content_hash = p.key
        p.published_at = rnd.choice([None, start + timedelta(days=rnd.randint(-400, 400)), datetime(2026, 1, 1)])
        p.item = rnd.choice([None, 7, 11])
    store.posts.write(rnd.choice("ab"), posts)


def _edit(store: Store, rnd: random.Random, step: int) -> None:
    row = rnd.choice(list(store.posts.iter_rows()))
    title = rnd.choice(["呈贡校区招生公示", "图书馆开放通知", "预算公开", "无关标题"])
    store.posts.write(row["channel_id"], [PostRecord(key=row["key"], title=title, body=f"更正{step}",
                                                     content_hash=f"edit{step}", published_at=row["published_at"])])


def _tag(store: Store, rnd: random.Random, step: int) -> None:
    ids = [r["id"] for r in store.posts.iter_rows()]
    store.posts.set_manual_tag(rnd.choice(ids), rnd.choice([7, None]), 2)
    store.posts.update_tags([TagUpdate(i, 7, 2, "rules") for i in rnd.sample(ids, 3)])


def _regroup(store: Store, rnd: random.Random, step: int) -> None:
    """Channel b moves to the other group."""
    group = {o.id: o.group_name for o in store.channels.overview()}.get("b")
    other = "学校门户网站" if group == "信息公开网" else "信息公开网"
    store.channels.register([ChannelRecord("b", "B", "html", other, None, True)])


def _delete(store: Store, rnd: random.Random, step: int) -> None:
    """A post deleted by a script: out of the index, then out of the table."""
    post_id = rnd.choice([r["id"] for r in store.posts.iter_rows()])
    cols = [posts_t.c[c] for c in ("id", "title", "body", "department", "attachments", "attachment_text")]
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(*cols).where(posts_t.c.id == post_id)).mappings().one()
        execute(conn, backend_for(conn.dialect.name).unindex([row]))
        for table in (revisions_t, metrics_t, links_t):
            conn.execute(table.delete().where(table.c.post_id == post_id))
        conn.execute(posts_t.delete().where(posts_t.c.id == post_id))


def _reindex(store: Store, rnd: random.Random, step: int) -> None:
    store.posts.reindex()


CHANGES: list[Callable[[Store, random.Random, int], None]] = [_new_posts] * 6 + [_edit, _tag, _regroup, _delete,
                                                                              _reindex]


def test_a_kept_search_answers_as_the_store_does_through_every_kind_of_change(store: Store) -> None:
    store.channels.register([ChannelRecord("a", "A", "html", "学校门户网站", None, True),
                             ChannelRecord("b", "B", "html", "信息公开网", None, True)])
    store.posts.write("a", corpus(150))
    recent, cubes, rnd = RecentSearches(), KeptCubes(), random.Random(11)
    with_cubes = RecentSearches()  # the web page's way: a total its words' facet cube counts is taken from it
    ways: dict[str, int] = {}
    elsewhere = KeptCubes(size=1)  # keeps one query at a time: the others come from the store
    for step in range(40):
        change = rnd.choice(CHANGES) if step % 3 else None  # now and then asked twice with nothing between
        if change is not None:
            change(store, rnd, step)
        for q, kw in ASKS:
            for limit, offset in PAGES:
                fresh = answer(store, q, kw, limit, offset)
                kept = answer(store, q, kw, limit, offset, recent)
                assert kept[:2] == fresh[:2], (step, change, q, kw, offset, kept[2])
                by_cube = answer(store, q, kw, limit, offset, with_cubes, cubes)
                assert by_cube[:2] == fresh[:2], (step, change, q, kw, offset, by_cube[2])
                for way in (kept[2].split(":")[0], by_cube[2].split(":")[0]):
                    ways[way] = ways.get(way, 0) + 1
            # The words' facets from their kept cube, narrowed as asked, are the store's own.
            parsed, filters = _asked(q, **{"channels": (), "groups": (), "items": (), "categories": (), "types": (),
                                           "date_from": None, "date_to": None, **kw})
            own = store.posts.search(parsed, filters, limit=0, facets=True).facets
            assert search_facets(store, q, cubes=cubes, **kw) == own, (step, change, q, kw)
            # Another process's: the cube the store keeps, brought to now (or grouped afresh).
            assert search_facets(store, q, cubes=elsewhere, **kw) == own, (step, change, q, kw)
    assert elsewhere.made["stored"] > 100, elsewhere.made  # the first process groups, then stores
    # Each way answered often: the kept answer, the kept one with new posts added, afresh, and
    # counted by the words' cube.
    assert all(ways.get(way, 0) > 100 for way in ("kept", "kept+new", "count", "cube")), ways


def test_a_kept_search_is_counted_again_after_each_kind_of_change(store: Store) -> None:
    """Each change a search sees moves the store's mark; a WeChat post's reads do not."""
    store.channels.register([ChannelRecord("a", "A", "html", "学校门户网站", None, True),
                             ChannelRecord("b", "B", "html", "信息公开网", None, True)])
    store.posts.write("a", corpus(30))
    rnd = random.Random(5)
    for step, change in enumerate([_edit, _tag, _regroup, _delete, _reindex]):
        before = store.posts.search_mark()
        change(store, rnd, step)
        after = store.posts.search_mark()
        assert after.changes > before.changes, change
    row = next(iter(store.posts.iter_rows()))
    stored = store.posts.get(row["channel_id"], row["key"])
    assert stored is not None
    before = store.posts.search_mark()
    store.posts.write(row["channel_id"], [PostRecord(key=row["key"], title=stored.title, body=stored.body,
                                                     content_hash=stored.content_hash, reads=99,
                                                     counts_at=datetime(2025, 1, 1))])
    assert store.posts.get(row["channel_id"], row["key"]).reads == 99  # type: ignore[union-attr]
    assert store.posts.search_mark() == before
    store.posts.write("b", corpus(2, seed=99))  # new keys
    after = store.posts.search_mark()
    assert after.changes == before.changes and after.last_id > before.last_id


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_postgresql_writers_take_turns_inserting_posts(store: Store) -> None:
    """A writer waits while another holds the turn, so posts become visible in id order (what a
    kept search's `last_id` relies on)."""
    from storage.writes import INSERT_TURN

    store.channels.register([ChannelRecord("a", "A", "html", "学校门户网站", None, True)])
    done = threading.Event()

    def write() -> None:
        store.posts.write("a", corpus(3))
        done.set()

    with store.engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": INSERT_TURN})
        writer = threading.Thread(target=write)
        writer.start()
        assert not done.wait(1.0) and store.posts.count() == 0  # waiting for its turn
    writer.join(30)
    assert done.is_set() and store.posts.count() == 3


def test_kept_searches_asked_while_two_writers_add_posts_end_exact(store: Store) -> None:
    """Searches kept and topped up while posts are written (two writers at once on PostgreSQL's
    turns, SQLite's one writer at a time): totals only grow, and once the writers stop each
    kept answer is the store's."""
    store.channels.register([ChannelRecord("a", "A", "html", "学校门户网站", None, True),
                             ChannelRecord("b", "B", "html", "信息公开网", None, True)])
    store.posts.write("a", corpus(60))
    asks = [("招", {}), ("学院", {"channels": ["b"]}), ("公示", {})]
    recent, done = RecentSearches(), threading.Event()
    by_cube, cubes = RecentSearches(), KeptCubes()

    def writer(channel: str) -> None:
        for batch in range(25):
            posts = corpus(4, seed=batch + (100 if channel == "a" else 200))
            for i, p in enumerate(posts):
                p.key, p.content_hash = f"{channel}{batch}-{i}", f"{channel}{batch}-{i}"
            store.posts.write(channel, posts)
            time.sleep(0.02)  # the searches interleave with the batches

    writers = [threading.Thread(target=writer, args=(c,)) for c in "ab"]
    seen: dict[str, list[int]] = {q: [] for q, _ in asks}
    seen_by_cube: dict[str, list[int]] = {q: [] for q, _ in asks}

    def reader() -> None:
        while not done.is_set():
            for q, kw in asks:
                seen[q].append(answer(store, q, kw, 20, 0, recent)[0])
                seen_by_cube[q].append(answer(store, q, kw, 20, 0, by_cube, cubes)[0])

    read = threading.Thread(target=reader)
    read.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
    done.set()
    read.join(60)
    for totals in (*seen.values(), *seen_by_cube.values()):
        assert len(totals) > 5 and totals == sorted(totals), (seen, seen_by_cube)
    for q, kw in asks:
        for limit, offset in PAGES:
            fresh = answer(store, q, kw, limit, offset)[:2]
            assert answer(store, q, kw, limit, offset, recent)[:2] == fresh
            assert answer(store, q, kw, limit, offset, by_cube, cubes)[:2] == fresh


def test_the_posts_after_a_kept_search_are_read_by_id_not_by_a_walk_of_every_post(store: Store) -> None:
    """Fewer new posts than a page: walking every post newest first would pass them all (12 ms at
    100k posts against 0.9 listed by id); the rows and the facets are the store's own."""
    from storage.search import SearchFilters, parse_query

    store.channels.register([ChannelRecord("a", "A", "html", "学校门户网站", None, True)])
    store.posts.write("a", corpus(150))
    mark = store.posts.search_mark()
    new = corpus(3, seed=99)
    for i, p in enumerate(new):
        p.key, p.content_hash, p.published_at = f"late{i}", f"late{i}", datetime(2020, 1, 1 + i)  # dated oldest
    store.posts.write("a", new)
    for q in ("招", "学院", "呈贡校区"):
        parsed = parse_query(q)
        since = store.posts.search(parsed, SearchFilters(after_id=mark.last_id), limit=200)
        every = store.posts.search(parsed, SearchFilters(), limit=1000)
        assert "page:listed" in since.plan, (q, since.plan)
        if store.engine.dialect.name == "postgresql":  # fewer than the page: the page is the count
            assert since.plan == "count:page page:listed", (q, since.plan)
        assert [r["id"] for r in since.rows] == [r["id"] for r in every.rows if r["id"] > mark.last_id]
        assert since.total == len(since.rows)
        grouped = store.posts.facet_cube(parsed, after_id=mark.last_id)
        assert sum(row[5] for row in grouped.rows) == since.total


def test_a_query_is_grouped_for_its_facets_once_for_every_process_of_the_store(store_url: str) -> None:
    """Two stores over one database stand for two web processes (or one process before and after
    a restart): the second takes the first's cube from the store, brought to now with the posts
    written since; after a change the mark sees, the cube is grouped again. Every facet count is
    the store's own."""
    from storage.search import parse_query

    first, second = Store.open(store_url), Store.open(store_url)
    try:
        first.channels.register([ChannelRecord("a", "A", "html", "学校门户网站", None, True),
                                 ChannelRecord("b", "B", "html", "信息公开网", None, True)])
        first.posts.write("a", corpus(80))
        asks = [("招生", {}), ("呈贡校区", {"channels": ["a"]}), ("学院 -图书馆", {"groups": ["信息公开网"]})]

        def facets_by(store: Store, cubes: KeptCubes) -> None:
            for q, kw in asks:
                parsed, filters = _asked(q, **{"channels": (), "groups": (), "items": (), "categories": (),
                                               "types": (), "date_from": None, "date_to": None, **kw})
                assert (search_facets(store, q, cubes=cubes, **kw)
                        == store.posts.search(parsed, filters, limit=0, facets=True).facets), (q, kw)

        here = KeptCubes()
        facets_by(first, here)
        assert here.made == {"grouped": 3}
        elsewhere = KeptCubes()
        facets_by(second, elsewhere)
        assert elsewhere.made == {"stored": 3}
        facets_by(second, elsewhere)
        assert elsewhere.made == {"stored": 3, "kept": 3}

        more = corpus(12, seed=7)
        for i, p in enumerate(more):
            p.key, p.content_hash = f"more{i}", f"more{i}"
        first.posts.write("b", more)
        restarted = KeptCubes()
        facets_by(second, restarted)  # the stored cubes, with the 12 new posts grouped alone and added in
        assert restarted.made == {"stored": 3}
        key = repr((parse_query("招生").groups, [], 0))
        stored = second.posts.stored_cube(key)
        assert stored is not None and stored.mark == second.posts.search_mark()  # kept at the new mark

        _edit(first, random.Random(3), 1)  # a stored post's text: every cube is grouped again
        again = KeptCubes()
        facets_by(second, again)
        assert again.made == {"grouped": 3}
        facets_by(first, here)  # the first process's own cubes no longer hold either
        assert here.made["grouped"] == 3 and here.made["stored"] == 3
    finally:
        first.close()
        second.close()


def test_the_store_keeps_the_newest_cubes_and_never_one_older_than_it_has(store: Store) -> None:
    from storage.records import SearchMark
    from storage.search import FacetCube

    def cube(last_id: int, changes: int, n: int) -> FacetCube:
        return FacetCube([("2024-03", "a", 2, 7, "notice", n), (None, "a", None, None, None, 1)],
                         {"a": "学校门户网站"}, SearchMark(last_id, changes))

    store.posts.keep_cube("招生", cube(10, 0, 5))
    store.posts.keep_cube("招生", cube(8, 0, 4))  # grouped earlier, written later: not kept over it
    kept = store.posts.stored_cube("招生")
    assert kept is not None and kept.mark == SearchMark(10, 0) and kept.rows[0][5] == 5
    assert kept.rows == cube(10, 0, 5).rows and kept.groups == {"a": "学校门户网站"}
    store.posts.keep_cube("招生", cube(3, 1, 2))  # after a change: kept, whatever its id
    assert store.posts.stored_cube("招生").mark == SearchMark(3, 1)  # type: ignore[union-attr]
    for i in range(5):
        store.posts.keep_cube(f"词{i}", cube(i, 0, i), keep=3)
        time.sleep(0.01)  # each made at a later moment
    assert [w for w in ("招生", *(f"词{i}" for i in range(5))) if store.posts.stored_cube(w)] == ["词2", "词3", "词4"]
