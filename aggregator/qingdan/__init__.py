"""《高等学校信息公开事项清单》: the 50 items and 10 categories, as data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True, slots=True)
class QingdanItem:
    item: int  # 1–50
    category: int  # 1–10
    category_name: str
    text: str
    hint_keywords: tuple[str, ...]


@cache
def items() -> dict[int, QingdanItem]:
    raw = json.loads(files("aggregator.qingdan").joinpath("data/qingdan.json").read_text(encoding="utf-8"))
    return {
        d["item"]: QingdanItem(
            item=d["item"],
            category=d["category"],
            category_name=d["category_name"],
            text=d["text"],
            hint_keywords=tuple(d.get("hint_keywords", ())),
        )
        for d in raw
    }


def category_of(item: int | None) -> int | None:
    """The category (1–10) an item (1–50) belongs to; None for None."""
    return None if item is None else items()[item].category
