"""The office's manual 清单 tags: never overwritten by a sync or a re-classification."""

from __future__ import annotations

from aggregator.qingdan import category_of, items
from storage.store import Store

_NONE_WORDS = ("none", "null", "0", "无")


class TagError(ValueError):
    """A tag the office typed wrong, or a post that does not exist (the message says which)."""


def parse_item(text: str) -> int | None:
    """`"19"` → 19; `"none"` (or 无, 0) → None: the post discloses no 清单 item.

    >>> parse_item("19"), parse_item("无")
    (19, None)
    """
    value = text.strip()
    if value.lower() in _NONE_WORDS:
        return None
    if value.isdigit() and int(value) in items():
        return int(value)
    raise TagError(f"清单事项应为 1–{len(items())} 或 none，收到 {text!r}")


def tag(store: Store, post_id: int, item: int | None) -> None:
    """Tag a post by hand (item None = not a 清单 post)."""
    if not store.set_manual_tag(post_id, item, category_of(item)):
        raise TagError(f"没有编号为 {post_id} 的帖子")


def tag_text(item: int | None) -> str:
    return f"清单第 {item} 项" if item else "不属于清单"
