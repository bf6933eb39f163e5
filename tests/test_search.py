"""Search returns exactly the posts that contain the text — the LIKE truth — on both stores."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.services.search import SearchError, search
from storage.search import FIELD_BREAK, PG_FEW, PostTokens, fold, tsvector_literal
from storage.store import ChannelRecord, PostRecord, Store
from tests.helpers import write_config

WORDS = ["招生", "章程", "预算", "决算", "复试", "研究生", "拟录取", "名单", "巡视整改", "呈贡校区", "学院", "学",
         "采购", "中标", "公告", "通知", "关于", "工作", "会议", "校园", "图书馆", "教务处", "奖学金", "公示",
         "Ｗｉ-Ｆｉ", "ABC", "项目", "（第一批）", "，", "。", " ", "2024年", "实验室", "设备", "3.5万元", "A-1", "V2.0",
         "、a、"]
CODES = ["DNLG2023-CG123", "DHKJ-2025-CG017", "HBZC2025-00412", "dnlg2023-cg124"]
QUERIES = [
    "学", "招", "预", "巡", "馆", "A", "1",  # one character
    "招生", "预算", "复试", "学院", "呈贡", "公示", "ab", "20",  # two
    "研究生", "拟录取", "图书馆", "教务处", "cg1",  # three
    "巡视整改", "呈贡校区", "招生章程", "中标公告", "2024",  # four
    "DNLG2023-CG123", "dnlg2023", "CG12", "HBZC2025-00412", "2024年招生", "Wi-Fi", "ＡＢＣ项目",  # mixed, codes
    "3.5万", "a-1", "2.0", "1。a", "5万", "招生，公告", "a、a", "生、a、招",  # one-character pieces at the edges
]


def corpus(n: int = 400, seed: int = 7) -> list[PostRecord]:
    rnd = random.Random(seed)
    posts = []
    for i in range(n):
        title = "".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 7)))
        body = "".join(rnd.choice(WORDS + CODES if rnd.random() < 0.1 else WORDS) for _ in range(rnd.randint(20, 60)))
        posts.append(PostRecord(key=f"k{i}", title=title.strip() or "标题", body=body, content_hash=f"h{i}",
                                department=rnd.choice(["党政办公室", "研究生院", None]),
                                attachments=[{"name": f"{rnd.choice(CODES)}附件.pdf", "url": "u"}] if i % 9 == 0 else []))
    return posts


def truth(posts: list[dict], q: str) -> set[int]:  # type: ignore[type-arg]
    """LIKE '%q%' over the normalised fields (separators folded to one space both sides)."""
    def spaced(s: str) -> str:
        return " ".join("".join(c if c.isalnum() else " " for c in fold(s)).split())
    needle = spaced(q)
    hits = set()
    for p in posts:
        fields = [p["title"], p["body"], p["department"] or "", *(a["name"] for a in p["attachments"])]
        if any(needle in spaced(f) for f in fields):
            hits.add(p["id"])
    return hits


@pytest.fixture
def filled(store: Store) -> tuple[Store, list[dict]]:  # type: ignore[type-arg]
    store.channels.register([ChannelRecord("a", "A", "html", "学校门户网站", None, True),
                             ChannelRecord("b", "B", "html", "信息公开网", None, True)])
    posts = corpus()
    store.posts.write("a", posts[:250])
    store.posts.write("b", posts[250:])
    # The truth is computed over the stored posts' own columns, by name.
    rows = [p.model_dump() for r in store.posts.iter_rows() if (p := store.posts.get(r["channel_id"], r["key"]))]
    return store, rows


def ids(store: Store, q: str, **kw: object) -> set[int]:
    return {r["id"] for r in search(store, q, limit=1000, **kw).result.rows}  # type: ignore[arg-type]


def test_every_query_returns_exactly_the_like_truth(filled: tuple[Store, list[dict]]) -> None:  # type: ignore[type-arg]
    store, rows = filled
    # PostgreSQL lists a rare word's posts or counts through GIN: both ways, checked
    for few in ((PG_FEW, 0) if store.dialect == "postgresql" else (PG_FEW,)):
        plans = set()
        for q in QUERIES:
            expected = truth(rows, q)
            got = ids(store, q, list_below=few)
            assert got == expected, f"{q!r}: {len(got)} found, {len(expected)} expected"
            found = search(store, q, limit=3, list_below=few).result
            assert found.total == len(expected) and len(found.rows) == min(3, len(expected)), q
            plans.add(found.plan)
            counted = search(store, q, limit=0, list_below=few).result  # the total alone: no page, no way for one
            assert (counted.total, counted.rows) == (len(expected), []), q
            assert store.dialect == "sqlite" or counted.plan.endswith(" page:none"), (q, counted.plan)
            # With its facets (PostgreSQL takes the total from them): the same total and rows,
            # and every facet adds up to it.
            faceted = search(store, q, limit=3, list_below=few, facets=True).result
            assert (faceted.total, faceted.rows) == (found.total, found.rows), q
            for name in ("channel", "category", "item", "type", "month"):
                assert sum(n for _, n in faceted.facets.get(name, [])) == len(expected), (q, name)
        if store.dialect == "postgresql":  # counted through GIN, the page walked or listed: both checked
            assert plans == ({"count:listed page:listed"} if few else {"count:index page:walk",
                                                                        "count:index page:listed"}), plans


def test_and_or_exclude_and_phrases(filled: tuple[Store, list[dict]]) -> None:  # type: ignore[type-arg]
    store, rows = filled
    assert ids(store, "招生 预算") == truth(rows, "招生") & truth(rows, "预算")
    assert ids(store, "招生 OR 巡视整改") == truth(rows, "招生") | truth(rows, "巡视整改")
    assert ids(store, "招生 -预算") == truth(rows, "招生") - truth(rows, "预算")
    assert ids(store, '"呈贡校区"') == truth(rows, "呈贡校区")


def test_filters(filled: tuple[Store, list[dict]]) -> None:  # type: ignore[type-arg]
    store, rows = filled
    in_b = {r["id"] for r in rows if r["channel_id"] == "b"}
    assert ids(store, "学院", channels=["b"]) == truth(rows, "学院") & in_b
    assert ids(store, "学院 channel:b") == truth(rows, "学院") & in_b
    assert ids(store, "学院", groups=["信息公开网"]) == truth(rows, "学院") & in_b
    plans = set()
    for q in ("学", "学院", "呈贡校区", "dnlg2023", "招生 -预算", "巡 OR 馆", "ab"):  # rare to common
        for kw, keep in (({"channels": ["b"]}, in_b), ({"groups": ["学校门户网站", "信息公开网"]}, {r["id"] for r in rows}),
                         ({"categories": [3]}, set())):
            expected = ids(store, q) & keep
            assert ids(store, q, **kw) == expected, (q, kw)
            found = search(store, q, limit=5, **kw).result  # type: ignore[arg-type]
            assert found.total == len(expected) and len(found.rows) == min(5, len(expected)), (q, kw)
            plans.add(found.plan)
    # each way of counting among filtered posts, and of finding their page, gave the LIKE truth
    if store.dialect == "sqlite":
        assert {p.split()[0] for p in plans} >= {"count:probe", "count:member", "count:stream"}, plans
    else:
        assert {p.split()[0] for p in plans} == {"count:each", "count:join"}, plans
        assert {p.split()[1] for p in plans} == {"page:walk", "page:listed"}, plans
    assert ids(store, "学院", date_from="2030-01-01") == set()  # no post has a date
    with pytest.raises(SearchError):
        search(store, "学院", date_from="2024-13-01")
    with pytest.raises(SearchError):
        search(store, "学院 item:77")


# Hostile input and what a person typing it means: each word a LIKE term, AND between words,
# "A OR B", quotes and operators only text, nothing searchable = nothing found.
HOSTILE = {
    '"': [], '""': [], "'": [], "-": [], "😀🎓": [], "\x00": [],
    'a" OR "b': [["a", "b"]], "NEAR(招生 预算)": [["NEAR(招生"], ["预算)"]], "招生*": [["招生"]],
    "AND": [["AND"]], "NOT 招生": [["NOT"], ["招生"]], "title:招生": [["title:招生"]], "^招生": [["招生"]],
    "'; DROP TABLE posts; --": [["DROP"], ["TABLE"], ["posts"]], "招" * 10_000: [["招" * 2000]],
    "{t r}: 招生": [["t"], ["r"], ["招生"]], "SELECT * FROM posts": [["SELECT"], ["FROM"], ["posts"]],
}


@pytest.mark.parametrize("q", list(HOSTILE))
def test_any_input_is_safe_and_means_its_words(filled: tuple[Store, list[dict]], q: str) -> None:  # type: ignore[type-arg]
    store, rows = filled
    expected: set[int] = {r["id"] for r in rows} if HOSTILE[q] else set()
    for alternatives in HOSTILE[q]:
        expected &= set().union(*(truth(rows, word) for word in alternatives))
    found = search(store, q, limit=1000)
    assert {r["id"] for r in found.result.rows} == expected and found.result.total == len(expected)
    assert store.posts.count() == len(rows)


def test_a_changed_post_is_found_by_its_new_text_only(filled: tuple[Store, list[dict]]) -> None:  # type: ignore[type-arg]
    store, _ = filled
    store.posts.write("a", [PostRecord(key="edit", title="关于呈贡校区停电的通知", body="旧正文", content_hash="1")])
    assert len(ids(store, "旧正文")) == 1
    store.posts.write("a", [PostRecord(key="edit", title="关于呈贡校区停电的通知（更正）", body="新正文", content_hash="2")])
    assert ids(store, "旧正文") == set() and len(ids(store, "新正文")) == 1
    assert store.posts.reindex() == store.posts.count()
    assert ids(store, "旧正文") == set() and len(ids(store, "新正文")) == 1


def test_title_hits_first_when_ordered_by_relevance(store: Store) -> None:
    store.channels.register([ChannelRecord("a", "A", "html", "g", None, True)])
    from datetime import datetime
    store.posts.write("a", [
        PostRecord(key="1", title="学校召开会议", body="会上通报了预算执行情况", content_hash="1",
                   published_at=datetime(2025, 1, 2)),
        PostRecord(key="2", title="2025年部门预算", body="见附件", content_hash="2", published_at=datetime(2024, 1, 1)),
    ])
    assert [r["title"] for r in search(store, "预算").result.rows] == ["学校召开会议", "2025年部门预算"]
    assert [r["title"] for r in search(store, "预算", order="relevance").result.rows] == ["2025年部门预算", "学校召开会议"]


def test_cli_search_json_is_the_contract(tmp_path: Path, store_url: str, filled: tuple[Store, list[dict]]) -> None:  # type: ignore[type-arg]
    store, rows = filled
    cfg = write_config(tmp_path / "c.toml", store_url, "")
    result = CliRunner().invoke(app, ["--config", str(cfg), "search", "招生", "--channel", "a", "--limit", "5", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["total"] == len(truth(rows, "招生") & {r["id"] for r in rows if r["channel_id"] == "a"})
    assert len(out["results"]) == min(5, out["total"])
    assert set(out["results"][0]) == {"id", "channel", "title", "url", "published_at", "item", "category"}
    human = CliRunner().invoke(app, ["--config", str(cfg), "search", "招生"])
    assert human.exit_code == 0 and f"共 {len(truth(rows, '招生'))} 条" in human.stdout


def test_one_character_and_longer_terms_mixed(filled: tuple[Store, list[dict]]) -> None:  # type: ignore[type-arg]
    """Single characters and longer terms live in different index tables on SQLite."""
    store, rows = filled
    assert ids(store, "学 招生") == truth(rows, "学") & truth(rows, "招生")
    assert ids(store, "巡 OR 呈贡校区") == truth(rows, "巡") | truth(rows, "呈贡校区")
    assert ids(store, "招生 -学") == truth(rows, "招生") - truth(rows, "学")
    assert ids(store, "学 -招生 -预") == truth(rows, "学") - truth(rows, "招生") - truth(rows, "预")
    assert ids(store, "-招生") == {r["id"] for r in rows} - truth(rows, "招生")
    assert search(store, "学 招生", limit=0).result.total == len(truth(rows, "学") & truth(rows, "招生"))


def test_one_character_title_hits_first(store: Store) -> None:
    from datetime import datetime
    store.channels.register([ChannelRecord("a", "A", "html", "g", None, True)])
    store.posts.write("a", [
        PostRecord(key="1", title="学校召开会议", body="通报了预算执行情况", content_hash="1", published_at=datetime(2025, 1, 2)),
        PostRecord(key="2", title="2025年部门预算", body="见附件", content_hash="2", published_at=datetime(2024, 1, 1)),
    ])
    assert [r["title"] for r in search(store, "预", order="relevance").result.rows] == ["2025年部门预算", "学校召开会议"]
    assert [r["title"] for r in search(store, "预").result.rows] == ["学校召开会议", "2025年部门预算"]


def test_a_store_from_before_the_new_index_is_indexed_when_opened(store_url: str) -> None:
    """Migration 0005 rebuilds the index of the posts a store already holds."""
    from alembic import command

    from storage.engine import _alembic_config, make_engine

    engine = make_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0004")
        conn.execute(sa.text("INSERT INTO channels (id, name, kind, group_name, enabled, registered_at) "
                             "VALUES ('a', 'A', 'html', 'g', true, '2025-01-01')"))
        conn.execute(sa.text(
            "INSERT INTO posts (channel_id, key, title, body, attachments, extra, content_hash, first_seen_at, updated_at) "
            "VALUES ('a', :k, :t, '正文', '[]', '{}', 'h', '2025-01-01', '2025-01-01')"),
            [{"k": "1", "t": "关于呈贡校区停电的通知"}, {"k": "2", "t": "2025年招生章程"}])
    engine.dispose()
    store = Store.open(store_url)
    assert {r["title"] for r in search(store, "呈贡").result.rows} == {"关于呈贡校区停电的通知"}
    assert search(store, "章", limit=0).result.total == 1 and search(store, "通", limit=0).result.total == 1
    store.close()


def test_a_phrase_never_joins_two_fields(store: Store) -> None:
    store.channels.register([ChannelRecord("a", "A", "html", "g", None, True)])
    store.posts.write("a", [PostRecord(key="1", title="关于招生", body="今年招生", department="生物学院", content_hash="1",
                                       attachments=[{"name": "物理.pdf", "url": "u"}])])
    for q in ("招生物", '"招生 生物"', "院物理", "生于今"):
        assert search(store, q, limit=0).result.total == 0, q
    for q in ("今年招生", "生物学院", "物理", "于招"):
        assert search(store, q, limit=0).result.total == 1, q


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_the_literal_is_what_postgresql_would_keep_of_every_position(store: Store) -> None:
    """The literal written for each post caps and clamps positions itself (256 per word, none past
    16383); PostgreSQL, given every position, keeps exactly the same."""
    rnd = random.Random(3)
    words = ["招生", "生章", "章程", "ab", "x1", FIELD_BREAK]
    cases = [PostTokens(["招生"] * 300, ["章程"] * 20000, ["招"], ["招", "章"]),
             PostTokens([], ["ab", "x1"] * 9000, [], ["a"]),
             PostTokens(["ab"], ["ab"] * 17000 + ["x1", "章程", "x1"], ["a"], ["a"])]  # first seen past the last
    for _ in range(30):
        title = [rnd.choice(words[:-1]) for _ in range(rnd.randint(0, 30))]
        rest = [rnd.choice(words) for _ in range(rnd.choice([5, 400, 17000]))]
        cases.append(PostTokens(title, rest, sorted(set("".join(title))), sorted(set("".join(title + rest)))))

    def every_position(tok: PostTokens) -> str:
        streams = [(t, f"{pos}A") for pos, t in enumerate(tok.title, 2)]
        streams += [(t, str(pos)) for pos, t in enumerate(tok.rest, len(tok.title) + 3) if t != FIELD_BREAK]
        return " ".join([*(f"'{t}':{p}" for t, p in streams), *(f"'{c}'" for c in tok.chars),
                         *(f"'_{c}'" for c in tok.title_chars)])

    same = sa.text("SELECT CAST(:a AS tsvector) = CAST(:b AS tsvector)")
    with store.engine.connect() as conn:
        for tok in cases:
            assert conn.execute(same, {"a": tsvector_literal(tok), "b": every_position(tok)}).scalar_one()


def test_normalize_is_nfkc_casefold() -> None:
    """The fast path (full-width punctuation mapped first) gives exactly NFKC + casefold."""
    import unicodedata

    samples = ["招生章程，公告。", "ＤＮＬＧ２０２３－ＣＧ１２３", "Ａ\u0301ｂｃ", "　全角空格　", "㈠㎡™①", "ﬁ ß Ǆ",
               "ｶﾞ半角片假名", "\uf900豈", "é" + "\u0301", "～！＠＃￥％……＆＊（）"]
    rnd = random.Random(3)
    pool = "".join(chr(c) for c in [*range(0xFF01, 0xFF5F), 0x3000, *range(0x3001, 0x3020), 0x301C, 0x2460, 0x3220,
                                    0xF900, 0x0301, 0x00DF]) + "招生预算abcABC123 ，。"
    samples += ["".join(rnd.choice(pool) for _ in range(40)) for _ in range(300)]
    for s in samples:
        assert fold(s) == unicodedata.normalize("NFKC", s).casefold(), s


def test_facets_and_snippets(store: Store) -> None:
    from collections import Counter
    from datetime import datetime

    from storage.search import snippet

    store.channels.register([ChannelRecord("a", "A", "html", "g", None, True),
                             ChannelRecord("b", "B", "procurement", "g", None, True)])
    rnd = random.Random(5)
    posts = {"a": [], "b": []}  # type: dict[str, list[PostRecord]]
    for i in range(60):
        ch = "a" if i % 3 else "b"
        posts[ch].append(PostRecord(
            key=str(i), title=f"关于{'预算' if i % 4 else '决算'}的通知{i}", body="正文" * rnd.randint(1, 5),
            content_hash=str(i), published_at=datetime(2023 + i % 3, 1 + i % 12, 5),
            item=19 if i % 4 else 20, category=4, type="中标成交公告" if ch == "b" else None))
    for ch, recs in posts.items():
        store.posts.write(ch, recs)
    found = search(store, "预算", facets=True, limit=5)
    hits = [(ch, r) for ch, recs in posts.items() for r in recs if "预算" in r.title]
    assert found.result.total == len(hits)
    facets = {k: dict(v) for k, v in found.result.facets.items()}
    assert facets["channel"] == dict(Counter(ch for ch, _ in hits))
    assert facets["year"] == dict(Counter(str(r.published_at.year) for _, r in hits))  # type: ignore[union-attr]
    assert facets["month"] == dict(Counter(r.published_at.strftime("%Y-%m") for _, r in hits))  # type: ignore[union-attr]
    assert facets["item"] == {19: len(hits)} and facets["type"] == dict(Counter(r.type for _, r in hits))
    assert snippet("为做好2025年部门预算编制工作，现将有关事项通知如下。", ["预算"]).count("【预算】") == 1
    assert snippet("ＡＢＣ项目采购", ["abc"]).startswith("【ＡＢＣ】")  # the text as published, hit marked


def test_kept_snippets_are_the_pieces_made_afresh_through_edits(store: Store) -> None:
    """A page's pieces kept by post, terms and the store's changes are those made without
    keeping, after each edit of a body or a department, on both stores."""
    from datetime import datetime

    from aggregator.services.recent import KeptSnippets

    store.channels.register([ChannelRecord("a", "A", "html", "g", None, True)])

    def post(i: int, body: str, department: str = "") -> PostRecord:
        return PostRecord(key=str(i), title=f"通知{i}", body=body, content_hash=body + department,
                          department=department, published_at=datetime(2024, 3, 1 + i))

    store.posts.write("a", [post(i, f"第{i}条：关于预算的说明") for i in range(6)])
    kept = KeptSnippets(size=100)
    edits = [post(2, "预算执行情况已更新"), post(3, "无关正文", department="预算处"), post(4, "")]
    for edit in [None, *edits]:
        if edit is not None:
            store.posts.write("a", [edit])
        for _ in range(2):  # made, then kept
            found = search(store, "预算", limit=10)
            assert found.snippets(store, kept) == found.snippets(store), edit
    pieces = search(store, "预算", limit=10).snippets(store, kept)
    assert sorted(pieces.values()) == sorted(search(store, "预算", limit=10).snippets(store).values())
    assert any("执行情况" in p for p in pieces.values()) and any("发布部门" in p for p in pieces.values())
    assert len(kept) > 6  # kept at each count of changes


def test_a_search_pages_kept_results_are_the_results_rendered_afresh_through_edits(store_url: str,
                                                                                   store: Store) -> None:
    """The search page keeps each result's rendered row by what it shows, and its 「另见」 by the
    store's mark: after an edit of a title, an item, a type or a piece of text, and after a copy
    of a notice lands on another channel, a page asked again shows what an app that kept nothing
    shows."""
    import asyncio
    import re
    from datetime import datetime

    import httpx

    from aggregator.config import parse_config
    from aggregator.services.channels import register
    from aggregator.web.app import create_app

    cfg = parse_config(f'[store]\nurl = "{store_url}"\n' + "".join(
        f'[[channel]]\nid = "{c}"\nname = "渠道{c}"\nkind = "wechat"\npath = "."\n' for c in "ab"), Path("k.toml"))
    register(cfg, store)  # type: ignore[arg-type]

    def post(i: int, title: str = "", body: str = "", day: int = 0, **fields: object) -> PostRecord:
        return PostRecord(key=str(i), title=title or f"关于2024年部门预算公开工作的通知{i}", body=body or f"第{i}条预算说明",
                          content_hash=repr((title, body, fields)), published_at=datetime(2024, 3, day or 1 + i),
                          **fields)  # type: ignore[arg-type]

    def rows(app: object) -> str:
        async def get() -> str:
            transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return (await client.get("/?q=预算")).text
        return re.sub(r"\s+", " ", asyncio.run(get()).split('<ol class="hits">')[1].split("</ol>")[0])

    store.posts.write("a", [post(i) for i in range(5)])
    kept = create_app(cfg, store)  # type: ignore[arg-type]
    edits = [("a", post(1, "预算公开的通知（修订）")), ("a", post(2, item=18, category=3)),
             ("a", post(3, type="公示")), ("a", post(4, body="预算执行已更新")),
             ("b", post(9, "关于2024年部门预算公开工作的通知2", day=2))]  # an earlier copy of post 2, on b
    for channel, edit in [(None, None), *edits]:
        if edit is not None:
            store.posts.write(channel, [edit])
        seen = rows(kept)
        assert seen == rows(create_app(cfg, store)), edit  # type: ignore[arg-type]
    assert "（修订）" in seen and "清单第 18 项" in seen and "公示" in seen and "执行" in seen and "另见" in seen
    assert len(kept.state.site.hits) > 5  # kept, not rendered afresh each time
    assert len(kept.state.site.twins) == len(edits) + 1  # a page's 「另见」 read once at each mark


def test_a_backfill_merges_the_index_and_a_small_sync_leaves_it(filled: tuple[Store, list[dict]]) -> None:  # type: ignore[type-arg]
    from storage.search import backend_for

    store, rows = filled
    backend = backend_for(store.dialect)
    if store.dialect == "sqlite":
        assert backend.tidy(written=100, total=1000) == backend.optimize()  # type: ignore[attr-defined]
        assert backend.tidy(written=5, total=1000) == []
    store.posts.tidy_search(len(rows))  # runs the merge on SQLite; nothing to do on PostgreSQL
    assert ids(store, "招生") == truth(rows, "招生") and ids(store, "学") == truth(rows, "学")


def test_posts_stored_before_the_notice_key_get_theirs_from_the_migration(store_url: str) -> None:
    """A store of the version before 「另见」: the upgrade keys its posts the way new posts are keyed,
    so the same notice on two channels is found as twins at once."""
    from alembic import command

    from aggregator.services.search import twins
    from storage.engine import _alembic_config, make_engine
    from storage.search import notice_key
    from storage.tables import posts_t

    titles = ["权威发布｜2025年硕士研究生拟录取名单公示", "东湖科技大学2025年硕士研究生拟录取名单公示（第一批）", "通知公告"]
    engine = make_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0011")
        for c in ("wx", "yjsy"):
            conn.execute(sa.text("INSERT INTO channels (id, name, kind, group_name, enabled, registered_at) "
                                 "VALUES (:c, :c, 'html', 'g', true, '2025-01-01')"), {"c": c})
        conn.execute(sa.text(
            "INSERT INTO posts (channel_id, key, title, body, attachments, extra, content_hash, published_at, "
            "first_seen_at, updated_at) VALUES (:c, :k, :t, '', '[]', '{}', 'h', '2025-04-10', '2025-01-01', "
            "'2025-01-01')"), [{"c": "wx", "k": "a", "t": titles[0]}, {"c": "yjsy", "k": "b", "t": titles[1]},
                               {"c": "yjsy", "k": "c", "t": titles[2]}])
    engine.dispose()
    with Store.open(store_url) as store:
        with store.engine.connect() as conn:
            stored = dict(conn.execute(sa.text("SELECT title, notice_key FROM posts")).all())
        assert stored == {t: notice_key(t) for t in titles} and stored[titles[0]] == stored[titles[1]]
        assert stored[titles[2]] is None  # too short to tie two posts
        with store.engine.connect() as conn:  # (rows written straight to the table have no search index)
            rows = [dict(r) for r in conn.execute(sa.select(
                posts_t.c.id, posts_t.c.channel_id, posts_t.c.title, posts_t.c.published_at)).mappings()]
        also = twins(store, rows)
        assert {len(v) for v in also.values()} == {1} and len(also) == 2


def test_a_notice_one_channel_repeats_daily_is_no_copy_of_itself_and_still_finds_its_copies(store: Store) -> None:
    """A channel that posts the same notice every day: its own posts of it are not looked up for a
    page of them (2,000 rows were fetched and dropped per page), and a copy elsewhere still is."""
    from datetime import datetime, timedelta

    from aggregator.services.search import twins

    title = "关于做好2025年校园安全检查工作的通知"
    store.channels.register([ChannelRecord("a", "A", "html", "g", None, True),
                             ChannelRecord("b", "B", "html", "g", None, True)])
    day = datetime(2025, 5, 1)
    store.posts.write("a", [PostRecord(key=f"a{i}", title=title, body="", content_hash=str(i),
                                       published_at=day + timedelta(hours=i)) for i in range(60)])
    store.posts.write("b", [PostRecord(key="b", title=title, body="", content_hash="b", published_at=day)])
    found = search(store, "安全检查", limit=5).result.rows
    assert {r["channel_id"] for r in found} == {"a"}
    also = twins(store, found)
    assert sorted(also) == sorted(r["id"] for r in found)
    assert {c.channel_id for refs in also.values() for c in refs} == {"b"}
    # With channel b's post on the page too, each side's copies are the other's.
    page = [*found, *search(store, "安全检查", channels=["b"], limit=1).result.rows]
    also = twins(store, page)
    b_id = page[-1]["id"]
    assert len(also[b_id]) == 60 and {c.channel_id for c in also[b_id]} == {"a"}
    assert all([c.channel_id for c in also[r["id"]]] == ["b"] for r in found)
    # The lookup itself leaves out a key's posts on the channel named for it, and only those.
    key = found[0]["notice_key"]
    window = (day - timedelta(days=1), day + timedelta(days=5))
    assert {c.channel_id for c in store.posts.same_notice([key], *window, not_on={key: "a"})[key]} == {"b"}
    assert len(store.posts.same_notice([key], *window, not_on={key: "b"})[key]) == 60
    assert len(store.posts.same_notice([key], *window, not_on={"another": "a"})[key]) == 61


def test_a_postgresql_store_of_0014_gets_its_search_rows_out_of_line_and_finds_the_same_posts(store_url: str) -> None:
    """Migration 0015: the tsvectors written in line by the version before go to TOAST (the
    search table's own pages shrink to the ids), the index and its constraints keep their
    names, and every query finds what it found before."""
    if not store_url.startswith("postgresql"):
        pytest.skip("0015 moves PostgreSQL's tsvectors; SQLite's index is unchanged")
    from alembic import command

    from storage.engine import _alembic_config, make_engine
    from storage.search import post_tokens

    def pages(conn: sa.Connection) -> int:
        return int(conn.execute(sa.text("SELECT pg_relation_size('post_search') / 8192")).scalar_one())

    rnd = random.Random(15)
    posts = [{"id": i + 1, "title": "".join(rnd.choice(WORDS) for _ in range(6)), "department": None,
              "body": "".join(rnd.choice(WORDS + CODES) for _ in range(400)), "attachments": []}
             for i in range(30)]
    engine = make_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0014")
        conn.execute(sa.text("INSERT INTO channels (id, name, kind, group_name, enabled, registered_at) "
                             "VALUES ('a', 'A', 'html', 'g', true, '2025-01-01')"))
        conn.execute(sa.text(
            "INSERT INTO posts (id, channel_id, key, title, body, attachments, extra, content_hash, published_at, "
            "first_seen_at, updated_at) VALUES (:id, 'a', :k, :title, :body, '[]', '{}', 'h', '2025-04-10', "
            "'2025-01-01', '2025-01-01')"), [{**p, "k": f"k{p['id']}"} for p in posts])
        conn.execute(sa.text("INSERT INTO post_search (post_id, tsv) VALUES (:id, CAST(:tsv AS tsvector))"),
                     [{"id": p["id"], "tsv": tsvector_literal(post_tokens(p))} for p in posts])

        assert pages(conn) >= 10  # each post's tsvector (several KB) in its row: a page or so apiece
    engine.dispose()
    with Store.open(store_url) as store:
        with store.engine.connect() as conn:
            assert pages(conn) == 1  # the ids and the pointers
            names = set(conn.execute(sa.text(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'post_search'::regclass "
                "UNION SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'post_search'::regclass")
            ).scalars())
        assert names == {"post_search_pkey", "post_search_post_id_fkey", "ix_post_search_tsv"}
        for q in ("学", "招生", "巡视整改", "招生章程", "DNLG2023-CG123", "3.5万", "生、a、招"):
            assert ids(store, q) == truth(posts, q), q
        with store.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM posts WHERE id = 1"))
            assert conn.execute(sa.text("SELECT count(*) FROM post_search")).scalar_one() == len(posts) - 1


def test_a_querys_facet_cube_counts_every_narrowing_as_the_store_does(store: Store) -> None:
    """The web page's facets of a narrowed search, counted from the words' cube, equal the
    store's own count under the same filters — channel, group, item, category, type, whole
    months; a date that cuts a month is left to the store (and still agrees)."""
    from datetime import date, datetime, timedelta

    from aggregator.services.recent import KeptCubes, words_key
    from aggregator.services.search import search_facets
    from storage.search import SearchFilters, parse_query

    groups = {"a": "学校门户网站", "b": "信息公开网", "c": "信息公开网", "d": "采购"}
    store.channels.register([ChannelRecord(c, c.upper(), "html", g, None, True) for c, g in groups.items()])
    rnd = random.Random(11)
    posts: dict[str, list[PostRecord]] = {c: [] for c in groups}
    for i, rec in enumerate(corpus(300, seed=3)):
        item = rnd.choice([None, 7, 19, 20, 37])
        rec.item, rec.category = item, None if item is None else {7: 2, 19: 4, 20: 4, 37: 6}[item]
        rec.type = rnd.choice([None, "中标成交公告", "采购意向"])
        rec.published_at = None if i % 17 == 0 else datetime(2023, 1, 1) + timedelta(days=rnd.randint(0, 900),
                                                                                     hours=rnd.randint(0, 23))
        posts[rnd.choice(list(groups))].append(rec)
    for ch, recs in posts.items():
        store.posts.write(ch, recs)
    months = [date(2023 + m // 12, 1 + m % 12, 1) for m in range(0, 30)]
    cache = KeptCubes()
    for q in ["学", "招生", "公告 -预算", "巡视整改 OR 图书馆", ""]:
        parsed = parse_query(q)
        cube = store.posts.facet_cube(parsed)
        for _ in range(25):
            start = rnd.choice([None, *months])
            end = rnd.choice([None, *months])
            end = end and (end.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)  # month's end
            cut = rnd.random() < 0.2
            filters = SearchFilters(
                channels=rnd.sample(list(groups), rnd.randint(0, 2)),
                groups=rnd.sample(sorted(set(groups.values())), rnd.randint(0, 1)),
                items=rnd.sample([7, 19, 20, 37], rnd.randint(0, 2)), categories=rnd.sample([2, 4, 6], rnd.randint(0, 1)),
                types=rnd.sample(["中标成交公告", "采购意向"], rnd.randint(0, 1)),
                date_from=start + timedelta(days=3) if cut and start else start, date_to=end)
            expected = store.posts.search(parsed, filters, limit=0, facets=True).facets
            counted = cube.facets(filters)
            if cut and start:
                assert counted is None, filters  # only the store can count part of a month
            else:
                assert counted == expected, (q, filters)
            # The service: from the cube when it can, from the store when it cannot — the same counts.
            asked = {"channels": filters.channels, "groups": filters.groups, "items": filters.items,
                     "categories": filters.categories, "types": filters.types,
                     "date_from": filters.date_from and filters.date_from.isoformat(),
                     "date_to": filters.date_to and filters.date_to.isoformat()}
            assert search_facets(store, q, **asked, cubes=cache) == expected  # type: ignore[arg-type]
            # A cube too large to keep answers its own search all the same.
            small = KeptCubes()
            assert search_facets(store, q, **asked, cubes=small, keep_rows=0) == expected  # type: ignore[arg-type]
            assert small.kept(words_key(parsed)) is None
