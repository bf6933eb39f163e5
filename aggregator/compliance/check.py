"""A rule against posts: each check gives one finding with the dates it counted from, the
working days the post had, what the rule asks, and why — `unknown`, with the reason, wherever the
text states no date to count from or the calendar does not cover the year."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aggregator.clock import iso_local
from aggregator.compliance import workdays
from aggregator.compliance.rules import Rule
from aggregator.compliance.textdates import BASIS_ZH, POSTING_LABELS, basis_date, period
from storage.records import PostText

STATUS_ZH = {"ok": "按时", "late": "逾期", "short": "公示期不足", "missing": "缺失", "due": "待公开",
             "unknown": "无法判断"}
UNIT_ZH = {"workdays": "个工作日", "days": "日"}


# A post as the checks read it: the store's record of what a check reads (a leaf, plain data).
Subject = PostText


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    status: str  # ok | late | short | missing | due | unknown
    reason: str
    post: Subject | None = None
    basis: date | None = None
    due: date | None = None
    workdays: int | None = None
    year: str | None = None  # annual: the academic year

    @property
    def item(self) -> int | None:
        if self.post is not None and self.post.item is not None:
            return self.post.item
        return self.rule.items[0] if self.rule.kind == "annual" and self.rule.items else None

    def to_json(self) -> dict[str, object]:
        """The contract's finding (`compliance --json`)."""
        p = self.post
        published = p.published_at if p else None
        return {"rule": self.rule.id, "kind": self.rule.kind, "item": self.item, "status": self.status,
                "post_id": p.id if p else None, "title": p.title if p else None,
                "published_at": iso_local(published),
                "basis": self.basis.isoformat() if self.basis else None,
                "due": self.due.isoformat() if self.due else None, "workdays": self.workdays,
                "required": self.rule.days if self.rule.kind != "annual" else None, "reason": self.reason}


def within(rule: Rule, post: Subject) -> Finding:
    """Published within the rule's days of the date the post's text states?"""
    assert rule.basis is not None
    label = BASIS_ZH[rule.basis]
    if post.published_at is None:
        return Finding(rule, "unknown", "帖子没有发布日期", post)
    basis = basis_date(post.body, rule.basis)
    if basis is None:
        return Finding(rule, "unknown", f"正文未写明{label}，无法计算时限", post)
    published = post.published_at.date()
    unit = UNIT_ZH[rule.unit]
    try:
        due = workdays.after(basis, rule.days, rule.unit)
        had = workdays.elapsed(basis, published, rule.unit)
    except workdays.NoCalendar as exc:
        return Finding(rule, "unknown", str(exc), post, basis)
    if published <= due:
        reason = f"{label} {basis}，第 {had} {unit}公开（要求 {rule.days} {unit}内，最迟 {due}）"
        return Finding(rule, "ok", reason, post, basis, due, had)
    reason = f"{label} {basis}，第 {had} {unit}才公开，超过 {rule.days} {unit}（最迟应于 {due}）"
    return Finding(rule, "late", reason, post, basis, due, had)


def posting(rule: Rule, post: Subject) -> Finding:
    """Did the 公示 the post states run the rule's working days?"""
    year = post.published_at.year if post.published_at else None
    what = rule.labels[0] if rule.labels else "公示期"
    stated = period(post.body, year or 0, rule.labels or POSTING_LABELS) if year else None
    if stated is None:
        return Finding(rule, "unknown", f"正文未写明{what}（起止日期）", post)
    try:
        due = workdays.add(stated.start - timedelta(days=1), rule.days)  # the rule's last working day
        if stated.end is not None:
            had = workdays.between(stated.start, stated.end)
            span = f"{stated.start} 至 {stated.end}"
        elif stated.workdays is not None:
            had, span = stated.workdays, f"自 {stated.start} 起为期 {stated.workdays} 个工作日"
        else:
            return Finding(rule, "unknown", f"{what}只写明开始日期 {stated.start}，未写结束日期", post, stated.start)
    except workdays.NoCalendar as exc:
        return Finding(rule, "unknown", str(exc), post, stated.start)
    if had >= rule.days:
        return Finding(rule, "ok", f"{what} {span}，共 {had} 个工作日（要求不少于 {rule.days} 个）", post,
                       stated.start, due, had)
    return Finding(rule, "short", f"{what} {span}，只有 {had} 个工作日，少于要求的 {rule.days} 个（应至少到 {due}）",
                   post, stated.start, due, had)


def _names_year(title: str, y1: int, y2: int) -> bool:
    return re.search(rf"{y1}\s*[-—–~～至/]\s*{y2}|{y1}\s*[-—–~～至/]\s*{str(y2)[2:]}\b", title) is not None


def _any_span(title: str) -> bool:
    return re.search(r"(20\d\d)\s*[-—–~～至/]\s*(20)?\d\d", title) is not None


def annual(rule: Rule, posts: Iterable[Subject], year: str, as_of: date) -> Finding:
    """The item's post for academic year `year` (YYYY-YYYY), by the rule's due day after it."""
    assert rule.due is not None
    y1, y2 = (int(y) for y in year.split("-"))
    month, day = (int(x) for x in rule.due.split("-"))
    due = date(y2, month, day)
    ended = date(y2, 8, 31)
    window = (datetime(y2, 9, 1), datetime(y2 + 1, 9, 1))

    def of_year(p: Subject) -> bool:
        if _names_year(p.title, y1, y2):
            return True
        return not _any_span(p.title) and p.published_at is not None and window[0] <= p.published_at < window[1]

    found = sorted((p for p in posts if p.published_at is not None and of_year(p)),
                   key=lambda p: p.published_at or datetime.max)
    if found:
        first = found[0]
        assert first.published_at is not None
        published = first.published_at.date()
        if published <= due:
            return Finding(rule, "ok", f"{year} 学年的报告于 {published} 公开（应于 {due} 前）", first, ended, due,
                           year=year)
        return Finding(rule, "late", f"{year} 学年的报告于 {published} 才公开，晚于 {due}", first, ended, due,
                       year=year)
    if as_of > due:
        return Finding(rule, "missing", f"没有找到 {year} 学年的报告（应于 {due} 前公开）", None, ended, due, year=year)
    return Finding(rule, "due", f"{year} 学年的报告尚未公开，应于 {due} 前公开（还有 {(due - as_of).days} 天）", None,
                   ended, due, year=year)


def check(rule: Rule, post: Subject) -> Finding:
    return within(rule, post) if rule.kind == "within" else posting(rule, post)
