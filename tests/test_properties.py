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
    assert key_of(noisy, None) == key_of(None, noisy) == key_of(clean, None) == clean
    assert key_of("MzA:1:2", noisy) == "MzA:1:2"  # a connector's own key is kept as given
