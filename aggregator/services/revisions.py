"""What changed between the versions of a post (its page's 「历史版本」): one diff per stored
revision, each against the version that replaced it."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from storage.models import Post, PostRevision
from storage.records import AttachmentRow


@dataclass(frozen=True, slots=True)
class Version:
    title: str
    published_at: datetime | None
    body: str
    attachments: list[dict[str, Any]]  # as the page gave them, or (an attachment revision) with sha256

    @classmethod
    def of(cls, row: Post | PostRevision) -> Version:
        return cls(row.title, row.published_at, row.body or "", list(row.attachments or []))

    @property
    def has_files(self) -> bool:
        return any(a.get("sha256") for a in self.attachments)

    def attachment_lines(self, with_sha: bool) -> list[str]:
        return [f"附件：{a.get('name', '')}" + (f"（sha256 {a['sha256'][:12]}…）" if with_sha and a.get("sha256")
                                                else "") for a in self.attachments]


@dataclass(frozen=True, slots=True)
class Diff:
    valid_from: datetime
    valid_to: datetime
    lines: list[tuple[str, str]]  # ("-", removed), ("+", added), (" ", context), ("@", "…")


def revision_diffs(post: Post, revisions: Sequence[PostRevision], attachments: Sequence[AttachmentRow]) -> list[Diff]:
    """Newest first: each revision against the version that replaced it. A revision an attachment
    change made lists files (with sha256): it is compared with the files kept now; a content
    revision lists the page's links, like the post."""
    kept = [{"name": a.name, "url": a.url, "sha256": a.sha256} for a in attachments if a.status in ("kept", "gone")]
    diffs = []
    newer = Version.of(post)
    for rev in reversed(revisions):
        old = Version.of(rev)
        target = replace(newer, attachments=kept) if kept and old.has_files and not newer.has_files else newer
        diffs.append(Diff(rev.valid_from, rev.valid_to, diff_lines(old, target)))
        newer = old
    return diffs


def diff_lines(old: Version, new: Version) -> list[tuple[str, str]]:
    """The changed lines between two versions of a post: ("-", line) removed, ("+", line) added."""
    out: list[tuple[str, str]] = []
    with_sha = old.has_files and new.has_files
    before, after = old.attachment_lines(with_sha), new.attachment_lines(with_sha)
    out += [("-", line) for line in before if line not in after] + [("+", line) for line in after if line not in before]
    if old.title != new.title:
        out += [("-", f"标题：{old.title}"), ("+", f"标题：{new.title}")]
    if old.published_at != new.published_at:
        out += [("-", f"发布时间：{old.published_at}"), ("+", f"发布时间：{new.published_at}")]
    for line in difflib.unified_diff(old.body.splitlines(), new.body.splitlines(), lineterm="", n=1):
        if line.startswith(("---", "+++")):
            continue
        out.append((line[:1] if line[:1] in "+-@" else " ", line[1:] if line[:1] in "+- " else "…"))
    return out
