"""Normalisation of connector output: canonical URLs, clean titles and bodies,
Asia/Shanghai dates, content hashes. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re

from aggregator.clock import to_store
from connectors.base import RawPost
from connectors.urls import NO_HOSTS, Identity, canonical_url, key_of
from storage.store import PostRecord

# NUL too: PostgreSQL refuses text holding it, and one such post would fail its whole batch.
_INVISIBLE = dict.fromkeys(map(ord, "\x00\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_SPACES = re.compile(r"[\s\u00a0\u3000]+")
_LINE_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def clean_title(text: str) -> str:
    """Whitespace folded, invisible characters removed; full-width （） and
    other characters stay exactly as published."""
    return _SPACES.sub(" ", text.translate(_INVISIBLE)).strip()


def clean_body(text: str) -> str:
    """Paragraphs kept, runs of blanks and blank lines folded."""
    text = text.translate(_INVISIBLE).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_LINE_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def content_hash(record: PostRecord) -> str:
    """What makes a new revision: title, body, date, department, attachments."""
    payload = json.dumps(
        [
            record.title,
            record.body,
            record.published_at.isoformat() if record.published_at else None,
            record.department,
            record.attachments,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def post_key(raw: RawPost, identity: Identity = NO_HOSTS) -> str | None:
    return key_of(raw.key, raw.url, identity)


class InvalidPost(ValueError):
    """A connector yielded a post that cannot be stored (no title, no key)."""


def normalise(raw: RawPost, identity: Identity = NO_HOSTS) -> PostRecord:
    """RawPost → PostRecord (classification fields are left for the pipeline); the key as the
    channel's `identity` spells addresses."""
    title = clean_title(raw.title or "")
    key = post_key(raw, identity)
    where = raw.url or raw.key or repr(raw.title)
    if not key:
        raise InvalidPost(f"{where}：帖子既没有标识也没有网址，未保存")
    if not title:
        raise InvalidPost(f"{where}：帖子没有标题，未保存")
    department = clean_title(raw.department) if raw.department else None
    record = PostRecord(
        key=key,
        title=title,
        content_hash="",
        url=canonical_url(raw.url) if raw.url else None,
        body=clean_body(raw.body or ""),
        body_html=raw.body_html,
        published_at=to_store(raw.published_at),
        department=department or None,
        attachments=[{"name": clean_title(a.name), "url": a.url} for a in raw.attachments],
        source_column=clean_title(raw.column) if raw.column else None,
        type=raw.type,
        reads=raw.reads,
        likes=raw.likes,
        counts_at=to_store(raw.counts_at),
        complete=raw.complete,
        extra=dict(raw.extra),
    )
    record.content_hash = content_hash(record)
    return record
