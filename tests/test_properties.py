"""Property tests (hypothesis) for the parsers the counts rest on: dates, money, keys."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.dates import MonthDay, parse_date
from connectors.html import labelled_date
from connectors.money import parse_money
from connectors.urls import canonical_url, key_of

DAYS = st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31))
FORMS = ["{d:%Y-%m-%d}", "{d:%Y/%m/%d}", "{d:%Y.%m.%d}", "{d.year}年{d.month}月{d.day}日", "{d:%Y年%m月%d日}",
         "发布时间：{d:%Y-%m-%d} 10:20", "[{d:%Y-%m-%d}]", "日期：{d:%Y-%m-%d}", "{d:%Y-%m-%d}T08:00:00"]


@given(DAYS, st.sampled_from(FORMS))
def test_every_written_form_of_a_date_reads_as_that_day(day: date, form: str) -> None:
    found = parse_date(form.format(d=day))
    assert (found.date() if isinstance(found, datetime) else found) == day


@given(st.text(max_size=200))
def test_the_date_parser_never_crashes_and_never_invents_a_year(text: str) -> None:
    found = parse_date(text)
    if isinstance(found, (datetime, date)) and not (text.strip().isdigit() and len(text.strip()) == 10):
        # A year is only ever one the text wrote (Unix seconds aside).
        assert str(found.year) in text
    assert found is None or isinstance(found, (datetime, date, MonthDay))


@given(DAYS, st.text(alphabet="考试报名截止时间：，。 ", max_size=20))
def test_a_labelled_date_outside_the_body_wins_over_dates_in_the_body(day: date, noise: str) -> None:
    body = f"报名时间：2019-01-02\n{noise}"
    page = f"通知公告\n发布日期：{day:%Y-%m-%d}\n{body}"
    assert labelled_date(page, body) == day


YUAN = st.decimals(min_value=Decimal("1"), max_value=Decimal("99999999"), places=2)


@given(YUAN)
def test_equivalent_spellings_of_a_sum_never_differ_by_a_power_of_ten(value: Decimal) -> None:
    yuan = float(value)
    wan = value / 10000
    spellings = [f"{value}元", f"￥{value}", f"¥{value:,}", f"{value:,}元", f"人民币{value}元（大写略）",
                 f"{wan.normalize():f}万元", f"预算金额（元）：{value}"]
    for text in spellings:
        assert parse_money(text) == yuan, text


@given(YUAN)
def test_a_unit_price_is_never_read_as_a_sum(value: Decimal) -> None:
    for unit in ("元/套", "元/年", "元/人", "元每台"):
        assert parse_money(f"{value}{unit}") is None


_HOSTS = st.sampled_from(["www.Example.edu.cn", "WWW.EXAMPLE.EDU.CN", "yz.example.edu.cn:443"])
_PATHS = st.sampled_from(["/info/1010/9020.htm", "/2025/0612/c2891a120001/page.htm", "/s?__biz=MzA&mid=1&idx=2"])
_TAILS = st.sampled_from(["", "#top", "?utm_source=wx", "&utm_medium=feed#c", "?spm=a.b"])


@settings(max_examples=200)
@given(st.sampled_from(["http", "https", "HTTPS"]), _HOSTS, _PATHS, _TAILS)
def test_keys_are_idempotent_and_ignore_tracking_and_fragments(scheme: str, host: str, path: str, tail: str) -> None:
    url = f"{scheme}://{host}{path}"
    if tail and tail[0] in "?&":  # a query joins with the path's own, if it has one
        tail = ("&" if "?" in path else "?") + tail[1:]
    noisy = url + tail
    clean = canonical_url(url)
    assert canonical_url(clean) == clean
    assert key_of(noisy, None) == key_of(None, noisy) == key_of(clean, None) == clean.split("://", 1)[1]
    assert key_of("MzA:1:2", noisy) == "MzA:1:2"  # a connector's own key is kept as given


# -- any input: the query parser, config loading, the importers ------------------------------------------

from pathlib import Path  # noqa: E402

from hypothesis import HealthCheck  # noqa: E402


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_the_query_parser_takes_any_string(text: str) -> None:
    from storage.search import parse_query

    parsed = parse_query(text)
    assert all(isinstance(t, str) for t in parsed.terms)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.text(max_size=120))
def test_a_search_of_any_string_answers(store: object, text: str) -> None:
    from aggregator.services.search import SearchError, search

    try:
        search(store, text, facets=True)  # type: ignore[arg-type]
    except SearchError:
        pass  # a filter written wrong (`from:bad`): a clear message, which is an answer


_TOML_BITS = st.sampled_from(["[store]\n", "[http]\n", "[[channel]]\n", 'id = "a"\n', 'kind = "html"\n',
                              'url = "http://x.edu.cn/a.htm"\n', 'preset = "vsb"\n', "timeout = -1\n",
                              "[channel.list]\n", 'entry = "li["\n', 'schedule = "99 * * * *"\n', "= =\n",
                              'url = "sqlite:///x.db"\n', "concurrency = 1e9\n", 'path = "../../etc"\n'])


@settings(max_examples=200)
@given(st.one_of(st.text(max_size=200), st.lists(_TOML_BITS, max_size=12).map("".join)))
def test_any_config_text_loads_or_is_refused_with_reasons(text: str) -> None:
    from aggregator.config import Config, ConfigError, parse_config

    try:
        assert isinstance(parse_config(text, Path("any.toml")), Config)
    except ConfigError as exc:
        assert exc.problems and all("any.toml" in p for p in exc.problems)


GOOD_CSV = "标题,日期\n关于2025年招生工作的通知,2025-06-01\n关于2025年预算公开的通知,2025-06-02\n"


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.sampled_from([".csv", ".xlsx", ".json"]),
       st.one_of(st.binary(max_size=400), st.integers(min_value=0, max_value=len(GOOD_CSV.encode()) - 1)))
def test_a_broken_file_is_named_and_the_others_are_still_imported(tmp_path_factory: object, suffix: str,
                                                                  bad: bytes | int) -> None:
    from aggregator.config import parse_config
    from aggregator.services.sync import sync
    from storage.store import Store

    folder = tmp_path_factory.mktemp("import")  # type: ignore[attr-defined]
    (folder / "a-good.csv").write_text(GOOD_CSV, encoding="utf-8")
    content = bad if isinstance(bad, bytes) else GOOD_CSV.encode()[:bad]  # random bytes, or a cut-off file
    (folder / f"b-bad{suffix}").write_bytes(content)
    cfg = parse_config(f'[store]\nurl = "sqlite:///{folder / "x.db"}"\n[[channel]]\nid = "oa"\nkind = "table"\n'
                       f'path = "{folder}"\n  [channel.columns]\n  title = "标题"\n  date = "日期"\n',
                       folder / "c.toml")
    with Store.open(cfg.store.url) as store:
        [r] = sync(cfg, store)
        titles = {row["key"] for row in store.posts.iter_rows()}
    assert r.status in ("ok", "partial"), r.error
    assert len(titles) >= 2  # the good file's two rows, whatever the other file holds
    if r.status == "partial":
        assert "b-bad" in (r.error or ""), r.error


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_as_a_feed_are_a_clear_failure(tmp_path_factory: object, body: bytes) -> None:
    from aggregator.config import parse_config
    from aggregator.demo.server import Resource, SampleServer
    from aggregator.services.sync import sync
    from storage.store import Store

    folder = tmp_path_factory.mktemp("feed")  # type: ignore[attr-defined]
    with SampleServer({"/f.xml": Resource(body, "application/rss+xml")}) as site:
        cfg = parse_config(f'[store]\nurl = "sqlite:///{folder / "x.db"}"\n[http]\nper_host_interval = 0.0\n'
                           f'[[channel]]\nid = "f"\nkind = "feed"\nurl = "{site.url}/f.xml"\n', folder / "c.toml")
        with Store.open(cfg.store.url) as store:
            [r] = sync(cfg, store)
    assert r.status in ("ok", "partial", "failed")
    if r.status == "failed":
        assert "f.xml" in (r.error or "") and "unexpected error" not in (r.error or ""), r.error


# -- a facet cube's counts under any narrowing: those of its rows taken one by one -----------------

_MONTHS = st.one_of(st.none(), st.builds(lambda y, m: f"{y}-{m:02d}", st.integers(2021, 2024), st.integers(1, 12)))
_CUBE_ROWS = st.lists(st.tuples(_MONTHS, st.sampled_from(["a", "b", "c", "d"]), st.sampled_from([None, 1, 2, 3]),
                                st.sampled_from([None, 7, 11, 18]), st.sampled_from([None, "中标", "采购"]),
                                st.integers(1, 50)), max_size=60)
_MONTH_EDGES = st.one_of(st.none(), st.builds(date, st.integers(2021, 2024), st.integers(1, 12), st.just(1)))


@settings(max_examples=300)
@given(_CUBE_ROWS, st.lists(st.sampled_from(["a", "b", "c", "d", "x"]), max_size=2),
       st.lists(st.sampled_from(["甲", "乙", "无"]), max_size=2), st.lists(st.sampled_from([None, 1, 2, 3]), max_size=2),
       st.lists(st.sampled_from([7, 11, 18]), max_size=2), st.lists(st.sampled_from(["中标", "采购"]), max_size=1),
       _MONTH_EDGES, _MONTH_EDGES)
def test_a_facet_cube_counts_what_its_rows_one_by_one_count(rows: list, channels: list, groups: list,
                                                            categories: list, items: list, types: list,
                                                            start: date | None, end: date | None) -> None:
    from datetime import timedelta

    from storage.search import FacetCube, SearchFilters, fold_facets

    in_group = {"a": "甲", "b": "甲", "c": "乙", "d": None}
    last_day = end and (end.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    filters = SearchFilters(channels=channels, groups=groups, categories=categories, items=items, types=types,
                            date_from=start, date_to=last_day)
    lo, hi = start and f"{start:%Y-%m}", end and f"{end:%Y-%m}"

    def left(row: tuple) -> bool:
        month, channel, category, item, kind, _n = row
        return ((not channels or channel in channels) and (not groups or in_group[channel] in groups)
                and (not categories or category in categories) and (not items or item in items)
                and (not types or kind in types) and (lo is None or (month is not None and month >= lo))
                and (hi is None or (month is not None and month <= hi)))

    cube = FacetCube(rows, in_group)
    expected = [row for row in rows if left(row)]
    assert cube.count(filters) == sum(row[5] for row in expected)
    assert cube.facets(filters) == (fold_facets(expected) if expected else {})
    # Where a newest-first page of `n` lies: its start month holds the page's last dated post.
    for n in (1, 20, 200):
        first = cube.newest_months(filters, n)
        dated = [row for row in expected if row[0] is not None]
        if first is None:
            assert sum(r[5] for r in dated) < n
        else:
            month = f"{first:%Y-%m}"
            assert sum(r[5] for r in dated if r[0] >= month) >= n > sum(r[5] for r in dated if r[0] > month)
