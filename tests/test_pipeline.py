"""The sync pipeline with connectors written in the test (real classes, real stores).

Stories: a re-sync never duplicates; a corrected notice keeps its first
version; a channel that breaks mid-way keeps what it read and does not stop
the others; the state is saved only after the posts it vouches for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aggregator.config import Config, parse_config
from aggregator.pipeline import BATCH_SIZE
from aggregator.services.sync import UnknownChannel, sync
from connectors.base import (
    ChannelError,
    ChannelState,
    Checkpoint,
    FetchContext,
    Item,
    RawPost,
    Skipped,
)
from storage.store import Store


def make_config(store_url: str, *ids: str, extra: str = "") -> Config:
    channels = "".join(
        f'[[channel]]\nid = "{cid}"\nname = "渠道{cid}"\nkind = "table"\npath = "{cid}.csv"\n{extra}\n'
        f'  [channel.columns]\n  title = "标题"\n  date = "日期"\n'
        for cid in ids
    )
    return parse_config(f'[store]\nurl = "{store_url}"\n{channels}', Path("test.toml"))


def notice(i: int, title: str | None = None, body: str = "正文") -> RawPost:
    return RawPost(
        title=title or f"关于第{i}号事项的通知",
        url=f"https://www.example.edu.cn/info/1010/{1000 + i}.htm",
        published_at=datetime(2023, 5, 12, 10, 0) - timedelta(days=i),
        body=body,
        department="党政办公室",
    )


class ListConnector:
    """Yields the posts it was built with, then a checkpoint."""

    kind = "table"
    posts: list[RawPost] = []

    def fetch(self, ctx: FetchContext) -> Iterator[Item]:
        yield from self.posts
        yield Checkpoint(ChannelState(cursor=f"{len(self.posts)} posts"))


def lister(posts: list[RawPost]) -> type[ListConnector]:
    return type("Posts", (ListConnector,), {"posts": posts})


class BreaksAfterThree:
    kind = "table"

    def fetch(self, ctx: FetchContext) -> Iterator[Item]:
        for i in range(3):
            yield notice(i)
        raise ChannelError("list selector `ul.news li` matched 0 entries on https://www.example.edu.cn/tzgg/4.htm")


class Crashes:
    kind = "table"

    def fetch(self, ctx: FetchContext) -> Iterator[Item]:
        yield notice(0)
        raise ZeroDivisionError("division by zero")


def test_the_same_posts_twice_are_not_duplicated(store_url: str, store: Store) -> None:
    cfg = make_config(store_url, "a")
    posts = [notice(i) for i in range(5)]
    [first] = sync(cfg, store, connectors={"table": lister(posts)})
    [second] = sync(cfg, store, connectors={"table": lister(posts)})
    assert (first.status, first.fetched, first.new, first.updated) == ("ok", 5, 5, 0)
    assert (second.status, second.fetched, second.new, second.updated) == ("ok", 5, 0, 0)
    assert store.posts.count() == 5


def test_urls_that_differ_only_in_spelling_are_one_post(store_url: str, store: Store) -> None:
    cfg = make_config(store_url, "a")
    one = RawPost(title="通知", url="https://WWW.example.edu.cn:443/info/1010/1.htm#top")
    two = RawPost(title="通知", url="https://www.example.edu.cn/info/1010/1.htm?utm_source=wechat")
    three = RawPost(title="通知", url="http://www.example.edu.cn/info/1010/1.htm")  # the scheme is no identity
    [r] = sync(cfg, store, connectors={"table": lister([one, two, three])})
    assert (r.fetched, r.new) == (3, 1)
    assert store.posts.get("a", "www.example.edu.cn/info/1010/1.htm") is not None


def test_a_nul_character_in_a_page_loses_no_post(store_url: str, store: Store) -> None:
    """PostgreSQL refuses text with NUL (a broken page or a hostile one can carry it): the
    batch would fail whole. Normalising drops it, like the other invisible characters."""
    cfg = make_config(store_url, "a")
    posts = [notice(0, title="关于\x00招生的通知", body="正\x00文"), notice(1)]
    posts[1].department = "党政\x00办公室"
    [r] = sync(cfg, store, connectors={"table": lister(posts)})
    assert (r.status, r.new) == ("ok", 2)
    stored = store.posts.get("a", "www.example.edu.cn/info/1010/1000.htm")
    assert stored is not None and (stored.title, stored.body) == ("关于招生的通知", "正文")
    assert store.posts.get("a", "www.example.edu.cn/info/1010/1001.htm").department == "党政办公室"  # type: ignore[union-attr]


def test_a_changed_post_is_one_new_revision_with_the_old_text_kept(store_url: str, store: Store) -> None:
    cfg = make_config(store_url, "a")
    sync(cfg, store, connectors={"table": lister([notice(1, body="报名截止：5月20日")])})
    [r] = sync(cfg, store, connectors={"table": lister([notice(1, body="报名截止：5月25日（延期）")])})
    assert (r.new, r.updated) == (0, 1)
    post = store.posts.get("a", "www.example.edu.cn/info/1010/1001.htm")
    assert post is not None and post.body == "报名截止：5月25日（延期）"
    assert [v.body for v in store.posts.revisions(post.id)] == ["报名截止：5月20日"]
    # Fetching the same version again is not an update and adds no revision.
    [r] = sync(cfg, store, connectors={"table": lister([notice(1, body="报名截止：5月25日（延期）")])})
    assert r.updated == 0 and len(store.posts.revisions(post.id)) == 1


def test_a_channel_that_breaks_midway_keeps_its_posts_and_the_others_still_sync(store_url: str, store: Store) -> None:
    cfg = make_config(store_url, "broken", "crashes", "fine")

    class Fine(ListConnector):
        posts = [notice(i) for i in range(2)]

    by_channel = {"broken": BreaksAfterThree, "crashes": Crashes, "fine": Fine}

    class Dispatch:
        """Routes each channel to its own connector (the registry maps kinds)."""

        kind = "table"

        def fetch(self, ctx: FetchContext) -> Iterator[Item]:
            return by_channel[ctx.channel.id]().fetch(ctx)

    results = {r.id: r for r in sync(cfg, store, connectors={"table": Dispatch})}
    assert results["broken"].status == "failed"
    assert "matched 0 entries on https://www.example.edu.cn/tzgg/4.htm" in (results["broken"].error or "")
    assert results["broken"].new == 3 and store.posts.count("broken") == 3
    assert results["crashes"].status == "failed"
    assert "ZeroDivisionError" in (results["crashes"].error or "") and store.posts.count("crashes") == 1
    assert results["fine"].status == "ok" and store.posts.count("fine") == 2
    runs = {r.channel_id: r for r in store.runs.all()}
    assert runs["broken"].status == "failed" and "ul.news li" in runs["broken"].error
    assert runs["broken"].new == 3 and runs["broken"].finished_at is not None


def test_skipped_rows_and_unusable_posts_make_the_run_partial(store_url: str, store: Store) -> None:
    cfg = make_config(store_url, "oa")

    class WithBadRows:
        kind = "table"

        def fetch(self, ctx: FetchContext) -> Iterator[Item]:
            yield RawPost(title="关于印发《东湖科技大学章程》的通知", key="东科发〔2023〕1号")
            yield Skipped("oa-export.csv line 3", "date '2023-13-45' is not a date (expected e.g. 2023-05-12)")
            yield RawPost(title="   ", key="东科发〔2023〕2号")
            yield RawPost(title="学校召开工作会议", key="东科发〔2023〕3号")

    [r] = sync(cfg, store, connectors={"table": WithBadRows})
    assert r.status == "partial" and (r.fetched, r.new) == (3, 2)
    assert r.error is not None and "跳过 2 条" in r.error
    assert "oa-export.csv line 3" in r.error and "东科发〔2023〕2号：帖子没有标题" in r.error


def test_state_is_saved_only_after_the_posts_before_it(store_url: str, store: Store) -> None:
    cfg = make_config(store_url, "a")
    seen_state: list[ChannelState] = []

    class Paged:
        kind = "table"

        def fetch(self, ctx: FetchContext) -> Iterator[Item]:
            seen_state.append(ctx.state)
            yield from (notice(i) for i in range(3))
            yield Checkpoint(ChannelState(cursor="page-2"))
            yield notice(3)
            raise ChannelError("page 3 answered HTTP 500")

    sync(cfg, store, connectors={"table": Paged})
    assert store.channels.load_state("a").cursor == "page-2"
    assert store.posts.count("a") == 4  # the post after the checkpoint is kept too
    sync(cfg, store, connectors={"table": Paged})
    assert seen_state[-1].cursor == "page-2"  # the next run starts from the saved state


def test_is_known_answers_for_keys_and_urls(store_url: str, store: Store) -> None:
    cfg = make_config(store_url, "a")
    answers: list[bool] = []

    class Asks:
        kind = "table"

        def fetch(self, ctx: FetchContext) -> Iterator[Item]:
            answers.append(ctx.is_known("https://WWW.example.edu.cn/info/1010/1001.htm"))
            answers.append(ctx.is_known("https://www.example.edu.cn/info/1010/9999.htm"))
            yield notice(1)

    sync(cfg, store, connectors={"table": Asks})
    sync(cfg, store, connectors={"table": Asks})
    assert answers == [False, False, True, False]


def test_large_syncs_are_written_in_batches(store_url: str, store: Store) -> None:
    cfg = make_config(store_url, "a")
    n = BATCH_SIZE * 2 + 7
    progress: list[int] = []
    [r] = sync(cfg, store, connectors={"table": lister([notice(i) for i in range(n)])},
               on_progress=lambda p: progress.append(p.counts.new) if p.event == "progress" else None)
    assert r.new == n == store.posts.count()
    assert progress[:2] == [BATCH_SIZE, 2 * BATCH_SIZE]


def test_dates_are_stored_in_shanghai_time(store_url: str, store: Store) -> None:
    cfg = make_config(store_url, "a")
    posts = [
        RawPost(title="UTC", key="utc", published_at=datetime(2023, 8, 31, 16, 0, tzinfo=UTC)),
        RawPost(title="naive", key="naive", published_at=datetime(2023, 9, 1, 0, 0)),
        RawPost(title="date", key="date", published_at=date(2023, 9, 1)),
    ]
    sync(cfg, store, connectors={"table": lister(posts)})
    for key in ("utc", "naive", "date"):
        post = store.posts.get("a", key)
        assert post is not None and post.published_at == datetime(2023, 9, 1, 0, 0), key


def test_channel_item_tags_every_post_of_the_channel(store_url: str, store: Store) -> None:
    cfg = make_config(store_url, "cg", extra="item = 18")
    sync(cfg, store, connectors={"table": lister([notice(1)])})
    post = store.posts.get("cg", "www.example.edu.cn/info/1010/1001.htm")
    assert post is not None and (post.item, post.category, post.item_source) == (18, 3, "channel")


def test_a_kind_without_a_connector_fails_its_channel_with_a_clear_message(store_url: str, store: Store) -> None:
    cfg = make_config(store_url, "a", "b")
    results = sync(cfg, store, ["a"], connectors={})
    assert [r.status for r in results] == ["failed"]
    assert "kind `table` has no connector" in (results[0].error or "")
    with pytest.raises(UnknownChannel, match="no channel with id nope"):
        sync(cfg, store, ["nope"], connectors={})


# -- requests are counted on a real loopback server ----------------------------------


@pytest.fixture
def list_site() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = "<ul><li><a href='/info/1.htm'>关于开展2023年度预算编制工作的通知</a></li></ul>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_requests_sent_by_the_connector_are_counted(store_url: str, store: Store, list_site: str) -> None:
    cfg = make_config(store_url, "a", "b")

    class Fetches:
        kind = "table"

        def fetch(self, ctx: FetchContext) -> Iterator[Item]:
            for page in range(3 if ctx.channel.id == "a" else 1):
                resp = ctx.http.get(f"{list_site}/tzgg/{page}.htm")
                resp.raise_for_status()
                assert "xxgk-aggregator" in resp.request.headers["User-Agent"]
                yield RawPost(title=resp.text[20:40], url=f"{list_site}/info/{page}.htm")

    results = sync(cfg, store, connectors={"table": Fetches})
    assert [(r.id, r.requests) for r in results] == [("a", 3), ("b", 1)]
    assert [r.requests for r in store.runs.all()] == [3, 1]
