"""The 信息公开年度报告 as the Ministry asks for it (教办厅函〔2018〕80号): its seven parts, and a
reader that tells, of a finished report's text, its reporting period, which parts it has, every
figure it states (label, value as written, unit, qualifier) and the links it gives.

Pure: the text comes in (the service reads DOCX, PDF, HTML or text into it); nothing is fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

# The seven parts: number, title, and the words that name it in real reports' headings.
PARTS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (1, "概述", ("概述", "总体情况", "基本情况", "总体概况")),
    (2, "主动公开情况", ("主动公开",)),
    (3, "依申请公开和不予公开情况", ("依申请", "不予公开")),
    (4, "对信息公开的评议情况", ("评议",)),
    (5, "因学校信息公开工作受到举报、复议、诉讼的情况", ("举报", "复议", "诉讼")),
    (6, "主要经验、问题和改进措施", ("经验", "问题", "改进")),
    (7, "其他", ("其他", "其它")),
)
NUMERALS = "一二三四五六七八九十"

_HEADING = re.compile(rf"^\s*(?:第\s*)?(?P<n>[{NUMERALS}]{{1,2}}|\d{{1,2}})\s*(?:部分)?\s*[、.．,，:：\s]\s*"
                      r"(?P<title>\S.{0,40})$")
_SUB = re.compile(rf"^\s*[（(]\s*[{NUMERALS}\d]{{1,2}}\s*[）)]")
_FIGURE = re.compile(
    r"(?P<pre>超过|超|逾|近|约)?[ ]?(?P<num>\d+(?:,\d{3})*(?:\.\d+)?)[ ]?(?P<wan>万)?(?P<post>余|多)?[ ]?"
    r"(?P<unit>人次|件次|条|篇|期|人|次|件|项|个|份|场|字)")
_URL = re.compile(r"https?://[^\s<>\"'，。；、）)】]+")
_DATE = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
_PERIOD = re.compile(_DATE + r"\s*(?:至|到|—|－|-|~|～|–)+\s*" + _DATE)
_YEAR_SPAN = re.compile(r"(20\d\d)\s*(?:—|－|-|~|～|–|至)+\s*(20\d\d)\s*学年")
_END = "。；;！？!?：:"


@dataclass(frozen=True, slots=True)
class Figure:
    section: int | None
    label: str
    value: float
    unit: str
    qualifier: str | None

    def to_json(self) -> dict[str, object]:
        value: float | int = int(self.value) if self.value == int(self.value) else self.value
        return {"section": self.section, "label": self.label, "value": value, "unit": self.unit,
                "qualifier": self.qualifier}


@dataclass(slots=True)
class ReportCheck:
    period: tuple[date, date] | None
    sections: dict[int, str | None]  # part → the heading found for it (None: not found)
    figures: list[Figure]
    links: list[str]
    answering: int | None = None  # how many links answered (None: not checked)
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        gone = [f"{NUMERALS[n - 1]}、{title}" for n, title, _ in PARTS if not self.sections.get(n)]
        return ([] if self.period else ["报告期（统计期间）"]) + gone

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.source,
            "period": ({"from": self.period[0].isoformat(), "to": self.period[1].isoformat()}
                       if self.period else None),
            "sections": [{"n": n, "title": title, "found": bool(self.sections.get(n))} for n, title, _ in PARTS],
            "figures": [f.to_json() for f in self.figures],
            "links": {"found": len(self.links), "answering": self.answering},
            "missing": self.missing,
        }


def unbroken(text: str) -> str:
    """Full-width digits, letters and punctuation of numbers made plain; lines that a PDF or a
    narrow page broke inside a sentence joined again (a heading stays on its own line)."""
    text = text.translate({ord(f): ord(h) for f, h in zip("０１２３４５６７８９．％", "0123456789.%", strict=True)})
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ")
    out: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip().lstrip("#").replace("**", "").strip()  # Markdown's heading marks and bold
        if not line:
            if out and out[-1]:
                out.append("")
            continue
        if out and out[-1] and not _is_heading(out[-1]) and not _is_heading(line) and not _SUB.match(line) \
                and not _SUB.match(out[-1]) and out[-1][-1] not in _END and len(out[-1]) >= 20:
            out[-1] += line
        else:
            out.append(line)
    return "\n".join(out)


def _is_heading(line: str) -> bool:
    return len(line) <= 44 and (_HEADING.match(line) is not None or _part_of(line) is not None and len(line) <= 24)


def _part_of(title: str) -> int | None:
    for n, _, words in PARTS:
        if any(w in title for w in words):
            return n
    return None


def part_named(text: str) -> int | None:
    """Which of the seven parts a name means: 三, 3, 「三、依申请公开和不予公开情况」, 依申请公开 …"""
    text = text.strip()
    if not text:
        return None
    head = re.match(rf"^(?:第\s*)?([{NUMERALS}]|\d)\s*(?:部分)?\s*[、.．]?", text)
    if head:
        number = _number(head.group(1))
        rest = text[head.end():].strip()
        if number is not None and 1 <= number <= 7 and (not rest or _part_of(rest) in (None, number)):
            return number
    return _part_of(text)


def _number(n: str) -> int | None:
    if n.isdigit():
        return int(n)
    if n == "十":
        return 10
    return NUMERALS.index(n) + 1 if len(n) == 1 and n in NUMERALS else None


def read(text: str, source: str = "") -> ReportCheck:
    """What a report's text holds: period, parts, figures, links."""
    text = unbroken(text)
    lines = text.split("\n")
    sections: dict[int, str | None] = {n: None for n, _, _ in PARTS}
    figures: list[Figure] = []
    current: int | None = None
    for line in lines:
        part = _heading_part(line)
        if part is not None:
            current = part
            if sections[part] is None:
                sections[part] = line.strip()
            continue
        figures.extend(_figures(line, current))
    return ReportCheck(_period(text), sections, figures, sorted(set(_URL.findall(text)), key=text.index), None,
                       source)


def _heading_part(line: str) -> int | None:
    """The part a heading line opens: 「一、概述」「二．主动公开情况」「第三部分 依申请公开」, or a bare title."""
    stripped = line.strip()
    if len(stripped) > 44:
        return None
    m = _HEADING.match(stripped)
    if m:
        part = _part_of(m["title"])
        number = _number(m["n"])
        if part is not None and (number is None or abs(number - part) <= 1):  # a part misnumbered by one still counts
            return part
        return None
    bare = stripped.rstrip("：:")
    if len(bare) <= 24 and not _SUB.match(bare):
        for n, title, words in PARTS:
            if bare in (title, *words) or bare == title.replace("情况", ""):
                return n
    return None


def _figures(line: str, section: int | None) -> list[Figure]:
    found = []
    last = 0  # a label is the words since the figure before it, never that figure's own
    for m in _FIGURE.finditer(line):
        before, last = line[last:m.start()], m.end()
        after = line[m.end():]
        if re.search(r"\d{4}\s*$", before) or re.match(r"\s*[年月日]", after):
            continue  # part of a date
        if before.rstrip().endswith("第") or re.match(r"(工作日|月|日|小时|学年|年)", after):
            continue  # an ordinal (第 5 个) or a span of time (5 个工作日), not a count
        label = re.split(r"[，。；;：:、,（(）)]", before)[-1].strip()
        bare = label
        while True:  # the clause's own words, not its 其中/本学年/共 openers
            shorter = re.sub(r"^(其中|共计|共|累计|合计|全年|本学年|学年内|并|另|还)", "", bare).strip()
            if shorter == bare or not shorter:
                break
            bare = shorter
        label = bare or label
        if not label:
            continue  # a number with a unit but no words before it (a table cell) says nothing alone
        unit = ("万" if m["wan"] else "") + m["unit"]
        value = float(m["num"].replace(",", ""))
        qualifier = m["pre"] or m["post"]
        found.append(Figure(section, label[-24:], value, unit, qualifier))
    return found


def _period(text: str) -> tuple[date, date] | None:
    for m in _PERIOD.finditer(text):
        try:
            start = date(int(m[1]), int(m[2]), int(m[3]))
            end = date(int(m[4]), int(m[5]), int(m[6]))
        except ValueError:
            continue
        if (end - start).days > 300:  # a year's span, not a 公示 or a deadline
            return start, end
    span = _YEAR_SPAN.search(text)
    if span and int(span[2]) == int(span[1]) + 1:
        return date(int(span[1]), 9, 1), date(int(span[2]), 8, 31)
    return None
