"""The dates a post's own text states, each found with its label — never guessed from a bare
number: a document's 落款/印发 date, 合同签订日期, the date a result was fixed, a 批复 date, and a
公示 period (「公示期：X至Y」, the year or month of Y implied by X, X's year by the post's own,
or 「为期N个工作日」).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_NUMBER = "[一二三四五六七八九十]{1,3}"
_CN_DATE = re.compile(rf"([〇○零O一二三四五六七八九]{{4}})\s*年\s*({_CN_NUMBER})\s*月\s*({_CN_NUMBER})\s*日")
_SPACE = re.compile(r"[ \t\u3000\u00a0]+")

# A full date (2025年6月1日, 2025-06-01, 2025.6.1, 2025/6/1).
FULL = r"(?P<y>\d{4})\s*[年\-./]\s*(?P<m>\d{1,2})\s*[月\-./]\s*(?P<d>\d{1,2})\s*日?"
# A date whose year is implied (6月1日), or whose month is too (3日) — the end of a period only.
_END = (r"(?:(?P<y2>\d{4})\s*[年\-./]\s*)?(?:(?P<m2>\d{1,2})\s*[月\-./]\s*)?(?P<d2>\d{1,2})\s*日?")
_START = r"(?:(?P<y>\d{4})\s*[年\-./]\s*)?(?P<m>\d{1,2})\s*[月\-./]\s*(?P<d>\d{1,2})\s*日?"
_TO = r"\s*(?:[（(][^）)]{0,8}[）)])?\s*(?:至|到|—|－|-|~|～|–)+\s*"
_AFTER_LABEL = r"\s*(?:[：:]|为|是|自|从|期间)*\s*"

BASIS_LABELS = {
    "document": ("印发日期", "成文日期", "发文日期", "签发日期", "印发时间", "成文时间"),
    "contract": ("合同签订日期", "合同签署日期", "签订日期", "合同签订时间", "签订时间", "签约日期"),
    "result": ("定标日期", "评标日期", "评审日期", "成交日期", "中标日期", "结果确定日期", "定标时间", "评审时间",
               "评标时间"),
    "approval": ("批复日期", "批复时间"),
}
BASIS_ZH = {"document": "成文（落款/印发）日期", "contract": "合同签订日期", "result": "中标（成交）结果确定日期",
            "approval": "批复日期"}
POSTING_LABELS = ("公示期", "公示时间", "公示期限", "公示日期", "公示期间")


def _cn(number: str) -> int:
    """一 → 1, 十二 → 12, 二十一 → 21."""
    if "十" not in number:
        return _CN_DIGITS[number]
    tens, _, ones = number.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def numerals_to_digits(text: str) -> str:
    """Dates written in Chinese numerals (二〇二五年六月一日, as 落款 are) in digits; spaces folded."""
    def digits(m: re.Match[str]) -> str:
        year = "".join(str(_CN_DIGITS[c]) for c in m.group(1))
        return f"{year}年{_cn(m.group(2))}月{_cn(m.group(3))}日"

    return _SPACE.sub(" ", _CN_DATE.sub(digits, text))


def _date(y: str | int, m: str | int, d: str | int) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


@cache
def _labelled_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    """A full date right after one of `labels` (compiled once per label set: a check reads every post)."""
    return re.compile(f"(?:{'|'.join(map(re.escape, labels))}){_AFTER_LABEL}{FULL}")


@cache
def _period_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    """A period `X至Y` after one of `labels`, with an optional `为期N个工作日` between them."""
    length = r"(?:为?\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*个(?:工作)?日\s*[（(，,：:]?\s*)?"
    head = f"(?:{'|'.join(map(re.escape, labels))}){_AFTER_LABEL}{length}"
    return re.compile(head + _START + f"(?:{_TO}{_END})?")


def labelled(text: str, labels: tuple[str, ...]) -> date | None:
    """The first full date right after one of `labels`."""
    for m in _labelled_pattern(labels).finditer(text):
        found = _date(m["y"], m["m"], m["d"])
        if found:
            return found
    return None


_ALONE = re.compile(rf"^\s*{FULL}\s*$")


def signed(text: str) -> date | None:
    """The 落款 date: a line that is a full date and nothing else, among the text's last four lines."""
    lines = [line for line in text.splitlines() if line.strip()][-4:]
    for line in reversed(lines):
        m = _ALONE.match(line)
        if m:
            return _date(m["y"], m["m"], m["d"])
    return None


_APPROVED = re.compile(rf"{FULL}[^。；;\n]{{0,30}}?批复")


def basis_date(text: str, basis: str) -> date | None:
    """The date a `within` rule counts from, as the post's text states it (None: it states none)."""
    text = numerals_to_digits(text)
    found = labelled(text, BASIS_LABELS[basis])
    if found is not None:
        return found
    if basis == "document":
        return signed(text)
    if basis == "approval":
        m = _APPROVED.search(text)
        return _date(m["y"], m["m"], m["d"]) if m else None
    return None


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date | None
    workdays: int | None = None  # stated in the text (为期N个工作日), when it is
    text: str = ""


_STATED = re.compile(r"(?:为期|公示期为?|公示|期限为?)\s*(?P<n>\d{1,2}|[一二三四五六七八九十]{1,3})\s*个工作日")


def period(text: str, year: int, labels: tuple[str, ...] = POSTING_LABELS) -> Period | None:
    """The period a 公示 states after one of `labels` (its start's year, when implied, is `year`,
    the post's own); None when the text states none."""
    text = numerals_to_digits(text)
    m = _period_pattern(labels).search(text)
    if m is None:
        return None
    start = _date(m["y"] or year, m["m"], m["d"])
    if start is None:
        return None
    end = None
    if m["d2"]:
        y2 = int(m["y2"]) if m["y2"] else start.year
        m2 = int(m["m2"]) if m["m2"] else start.month
        end = _date(y2, m2, m["d2"])
        if end is not None and end < start and not m["y2"]:  # 12月28日至1月8日, 28日至3日
            end = _date(y2 + 1, m2, m["d2"]) if m["m2"] else _date(start.year + (start.month == 12),
                                                                     start.month % 12 + 1, m["d2"])
    stated = _STATED.search(text)
    n = None
    if stated:
        raw = stated["n"]
        n = int(raw) if raw.isdigit() else _cn(raw)
    return Period(start, end, n, m.group(0).strip())
