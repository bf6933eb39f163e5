"""The office's manual 清单 tags: never overwritten by a sync or a re-classification."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aggregator.qingdan import category_of, items
from storage.store import Store

if TYPE_CHECKING:
    from aggregator.config import Config
    from aggregator.qingdan.classify import Classification
    from storage.models import Post

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


def tag(store: Store, post_id: int, item: int | None, actor: str, address: str | None = None) -> None:
    """Tag a post by hand (item None = not a 清单 post), recorded in the audit log with the tag before."""
    from aggregator.services.accounts import record

    post = store.posts.by_id(post_id)
    if post is None or not store.posts.set_manual_tag(post_id, item, category_of(item)):
        raise TagError(f"没有编号为 {post_id} 的帖子")
    source = post.item_source or ""
    before = f"{tag_text(post.item)}（{SOURCE_ZH.get(source, source)}）"
    record(store, actor, "tag", f"post:{post_id}", before, f"{tag_text(item)}（人工标注）", address)


def tag_text(item: int | None) -> str:
    return f"清单第 {item} 项" if item else "不属于清单"


SOURCE_ZH = {"rule": "规则", "model": "学习模型", "channel": "渠道设置", "manual": "人工标注", "review": "待复核"}


WHERE_ZH = {"title": "标题", "column": "栏目", "body": "正文开头", "channel": "渠道设置", "manual": "人工标注",
            "model": "学习模型（标题的字）", "review": "待复核", "none": "—"}


def explain_post(config: Config, store: Store, post: Post) -> Classification:
    """Why a stored post has its item: a manual tag, else what the rules (or the channel) say now."""
    from aggregator.qingdan.classify import Classification
    from aggregator.services.classify import classifier_of

    if post.item_source == "manual":
        return Classification(post.item, post.category, "manual tag", 100.0, (), "manual")
    channel = next((c for c in config.channels if c.id == post.channel_id), None)
    return classifier_of(config, store).classify(post.title, post.source_column, post.body,
                                           channel.item if channel else None)


# The rule names the code gives (the JSON keeps them; people read these); a rules file's are Chinese.
RULE_ZH = {"channel item": "渠道设置的清单事项", "manual tag": "人工标注", "no rule matched": "没有规则匹配"}


def rule_text(rule: str) -> str:
    return RULE_ZH.get(rule, rule)


def explain_text(c: Classification) -> str:
    """One line for people: `清单第 19 项（第 4 类）· 标题匹配：预算 · 规则 … · 得分 0.92`."""
    item = f"清单第 {c.item} 项（第 {c.category} 类）" if c.item else "不属于清单"
    words = "、".join(c.matched) if c.matched else "—"
    return (f"{item} · 依据：{WHERE_ZH.get(c.where, c.where)}；匹配词：{words} · 规则：{rule_text(c.rule)}"
            f" · 得分 {c.score:.2f}")
