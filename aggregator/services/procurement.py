"""A procurement announcement's facts as the office reads them: 项目编号, 采购人, 采购方式, 预算金额,
中标/成交金额, 供应商 (parsed by the procurement connector into the post's `extra`), and the other
announcements of the same project on any channel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectors.procurement import PROCUREMENT_TYPES
from storage.models import Post
from storage.records import PostRef
from storage.store import Store

if TYPE_CHECKING:
    from aggregator.services.stats import Period

# The export's `procurement` object: each name ← the key the connector stores.
PROCUREMENT = {"project_no": "project_code", "buyer": "buyer", "method": "method", "budget": "budget",
               "amount": "award", "supplier": "supplier"}
LABELS = {"project_no": "项目编号", "buyer": "采购人", "method": "采购方式", "budget": "预算金额",
          "amount": "中标/成交金额", "supplier": "供应商"}


def procurement_of(kind: str | None, extra: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The facts of a procurement announcement (a post with an announcement type), else None;
    a fact the page does not state is None."""
    if kind not in PROCUREMENT_TYPES:
        return None
    extra = extra or {}
    return {name: extra.get(key) for name, key in PROCUREMENT.items()}


def money_text(amount: float) -> str:
    """`569800.0` → 「569,800.00 元（56.98 万元）」: as a notice writes it, and as the office reads it.

    >>> money_text(569800.0)
    '569,800.00 元（56.98 万元）'
    >>> money_text(800.0)
    '800.00 元'
    """
    wan = f"（{amount / 10_000:,.2f} 万元）" if amount >= 10_000 else ""
    return f"{amount:,.2f} 元{wan}"


def facts_view(post: Post) -> list[tuple[str, str]] | None:
    """The post page's 采购信息: (label, value) for every fact, 「页面未写明」 where the page is silent."""
    facts = procurement_of(post.type, post.extra)
    if facts is None:
        return None
    out = [("公告类型", post.type or "")]
    for name, value in facts.items():
        if value is None:
            text = "页面未写明"
        elif name in ("budget", "amount"):
            text = money_text(float(value))
        else:
            text = str(value)
        out.append((LABELS[name], text))
    return out


def same_project(store: Store, post: Post) -> list[PostRef]:
    """The project's other announcements (by 项目编号, any channel), oldest first."""
    code = (post.extra or {}).get("project_code")
    if not code or procurement_of(post.type, post.extra) is None:
        return []
    return [p for p in store.posts.of_project(str(code)) if p.id != post.id]


@dataclass(slots=True)
class Amounts:
    """One row of the procurement statistics: announcements, and the sums of the amounts they
    state (None: none of them states one — not 0)."""

    label: str  # an announcement type, a month, or 合计
    count: int = 0
    budget: float | None = None
    award: float | None = None

    def add(self, row: Mapping[str, Any]) -> None:
        self.count += row["count"]
        if row["budget_posts"]:
            self.budget = round((self.budget or 0) + row["budget"], 2)
        if row["award_posts"]:
            self.award = round((self.award or 0) + row["award"], 2)

    def cells(self) -> list[Any]:
        return [self.label, self.count, self.budget, self.award]


def amounts_by_type(store: Store, period: Period) -> list[Amounts]:
    """Every announcement type (in the report's order) with its count and amounts in `period`."""
    from aggregator.services.stats import stats

    rows = {t: Amounts(t) for t in PROCUREMENT_TYPES}
    for r in stats(store, ["type"], period).rows:
        if r["type"] in rows:
            rows[r["type"]].add(r)
    return list(rows.values())


def amounts_by_month(store: Store, period: Period) -> list[Amounts]:
    """The months of `period` that have announcements, with their counts and amounts."""
    from aggregator.services.stats import stats

    months: dict[str, Amounts] = {}
    for r in stats(store, ["month", "type"], period).rows:
        if r["type"] and r["month"]:
            months.setdefault(r["month"], Amounts(r["month"])).add(r)
    order = period.months() or sorted(months)  # an open period lists the months that have any
    return [months[m] for m in order if m in months]


def total(rows: Sequence[Amounts]) -> Amounts:
    budgets = [r.budget for r in rows if r.budget is not None]
    awards = [r.award for r in rows if r.award is not None]
    return Amounts("合计", sum(r.count for r in rows), round(sum(budgets), 2) if budgets else None,
                   round(sum(awards), 2) if awards else None)
