"""`xxgk compliance`, `/compliance`: the store checked against the disclosure deadlines — each
rule over the posts it governs, as of a day — and the alerts for what became late or missing
and for annual items falling due."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from aggregator.clock import local_now
from aggregator.compliance.check import STATUS_ZH, Finding, annual, check
from aggregator.compliance.rules import Rule, load_rules
from aggregator.config import Config
from storage.store import Store

log = logging.getLogger(__name__)

# The order findings are listed in: what needs acting on first.
ORDER = {"late": 0, "short": 1, "missing": 2, "due": 3, "unknown": 4, "ok": 5}
SOON = timedelta(days=14)


@dataclass(slots=True)
class Report:
    as_of: date
    year: str | None
    findings: list[Finding]
    rules: list[Rule]

    def to_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "year": self.year, "findings": [f.to_json() for f in self.findings]}

    def counts(self) -> Counter[str]:
        return Counter(f.status for f in self.findings)


def rules_of(config: Config) -> list[Rule]:
    return load_rules(Path(config.compliance.rules) if config.compliance.rules else None)


def academic_year_range(year: str) -> tuple[datetime, datetime]:
    """`2023-2024` → [2023-09-01, 2024-09-01)."""
    first, second = (int(y) for y in year.split("-"))
    if second != first + 1:
        raise ValueError(f"学年应写成 YYYY-YYYY（如 2023-2024），收到 {year!r}")
    return datetime(first, 9, 1), datetime(second, 9, 1)


def ended_years(as_of: date, n: int = 2) -> list[str]:
    """The `n` academic years that ended most recently by `as_of`, newest first."""
    last = as_of.year if as_of >= date(as_of.year, 9, 1) else as_of.year - 1
    return [f"{last - 1 - i}-{last - i}" for i in range(n)]


def run(config: Config, store: Store, year: str | None = None, as_of: date | None = None) -> Report:
    """Every rule over the posts it governs: those published in `year` (else all) up to `as_of`
    (default today, Asia/Shanghai); the annual rules for `year`, else the two years ended last."""
    as_of = as_of or local_now().date()
    rules = rules_of(config)
    until = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    start, end = academic_year_range(year) if year else (None, until)
    end = min(end, until)
    findings: list[Finding] = []
    per_post = [r for r in rules if r.kind != "annual"]
    for rows in store.posts.iter_texts(start, end):
        for post in rows:  # the store's records are what the checks read
            findings.extend(check(r, post) for r in per_post if r.governs(post.title, post.item, post.type))
    for rule in (r for r in rules if r.kind == "annual"):
        posts = [p for rows in store.posts.iter_texts(None, until, items=rule.items) for p in rows]
        findings.extend(annual(rule, posts, y, as_of) for y in ([year] if year else ended_years(as_of)))
    findings.sort(key=lambda f: (ORDER[f.status], f.item or 99, f.post.published_at if f.post and f.post.published_at
                                 else datetime.min))
    return Report(as_of, year, findings, rules)


def alert(config: Config, store: Store, report: Report) -> list[Finding]:
    """Send, once each, what became late, short or missing and the annual items due within 14 days
    (marks `compliance:…` keep a finding from being sent twice, whichever process checks)."""
    if not config.notify.urls:
        return []
    fresh = []
    for f in report.findings:
        subject = f"post:{f.post.id}" if f.post else f"year:{f.year}"
        if f.status in ("late", "short", "missing"):
            key = f"compliance:{f.rule.id}:{subject}:{f.status}"
        elif f.status == "due" and f.due is not None and f.due - report.as_of <= SOON:
            key = f"compliance:{f.rule.id}:{subject}:soon"
        else:
            continue
        if store.marks.claim(key, report.as_of.isoformat()):
            fresh.append(f)
    if not fresh:
        return []
    from aggregator.services.notify import send

    lines = [f"截至 {report.as_of}，信息公开时限检查发现 {len(fresh)} 项需要处理："]
    for f in fresh[:30]:
        what = f"《{f.post.title}》" if f.post else f"{f.year} 学年 清单第 {f.item} 项"
        lines.append(f"  【{STATUS_ZH[f.status]}】{what}：{f.reason}")
    if len(fresh) > 30:
        lines.append(f"  ……另有 {len(fresh) - 30} 项，见网页 /compliance")
    send(config, f"【信息公开聚合】时限检查：{len(fresh)} 项需要处理", "\n".join(lines))
    return fresh


def daily(config: Config, store: Store, now: datetime | None = None) -> Report | None:
    """The scheduler's daily check (one process a day: the mark `compliance-check:{date}`)."""
    today = (now or local_now()).date()
    if not store.marks.claim(f"compliance-check:{today.isoformat()}", "checking"):
        return None
    report = run(config, store, as_of=today)
    sent = alert(config, store, report)
    store.marks.set(f"compliance-check:{today.isoformat()}", f"{len(report.findings)} findings, {len(sent)} alerted")
    return report
