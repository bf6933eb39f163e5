"""Attachment links and the files kept for them, with their text (`Attachments`), a repository
over the store's engine; `Store.attachments` hands it out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from aggregator.clock import local_now
from storage.records import AttachmentRow, AttachmentUsage, PendingFile
from storage.search import backend_for, execute
from storage.tables import KEY_CHUNK, files_t, links_t, posts_t, revisions_t, upsert


class Attachments:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- links -----------------------------------------------------------------------------------
    def posts_with(self, channel_id: str) -> list[tuple[int, list[dict[str, str]]]]:
        """`(post_id, attachment links as the page gave them)` for the channel's posts that have any."""
        q = sa.select(posts_t.c.id, posts_t.c.attachments).where(posts_t.c.channel_id == channel_id)
        with self.engine.connect() as conn:
            return [(r.id, list(r.attachments)) for r in conn.execute(q) if r.attachments]

    def add_link(self, post_id: int, url: str, name: str, status: str, **fields: Any) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(links_t.insert().values(post_id=post_id, url=url, name=name, status=status,
                                                            **fields).returning(links_t.c.id)).scalar_one())

    def update_link(self, link_id: int, **fields: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(links_t.update().where(links_t.c.id == link_id).values(**fields))

    def of_post(self, post_id: int) -> list[AttachmentRow]:
        """The post's attachment rows with their files (size, type, text status), oldest first."""
        return self.of_posts([post_id]).get(post_id, [])

    def of_posts(self, post_ids: Sequence[int]) -> dict[int, list[AttachmentRow]]:
        """`of_post` for many posts, one query per chunk (keeping, exports)."""
        out: dict[int, list[AttachmentRow]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(post_ids), KEY_CHUNK):
                q = _links_with_files().where(links_t.c.post_id.in_(post_ids[i : i + KEY_CHUNK])).order_by(links_t.c.id)
                for r in conn.execute(q).mappings():
                    out.setdefault(r["post_id"], []).append(AttachmentRow(**r))
        return out

    def link(self, link_id: int) -> AttachmentRow | None:
        """One attachment row with its file (the web's download)."""
        with self.engine.connect() as conn:
            row = conn.execute(_links_with_files().where(links_t.c.id == link_id)).mappings().first()
            return None if row is None else AttachmentRow(**row)

    def record_change(self, post_id: int, before: list[dict[str, Any]], since: datetime | None) -> None:
        """A revision of the post whose attachments are `before` (with each file's sha256): what
        was published until now, kept as evidence after an attachment changed or went."""
        now = local_now()
        with self.engine.begin() as conn:
            post = conn.execute(sa.select(posts_t).where(posts_t.c.id == post_id)).mappings().first()
            if post is None:
                return
            conn.execute(revisions_t.insert().values(
                post_id=post_id, title=post["title"], body=post["body"], published_at=post["published_at"],
                department=post["department"], attachments=before, content_hash=post["content_hash"],
                valid_from=since or post["updated_at"], valid_to=now))

    # -- files and their text --------------------------------------------------------------------
    def add_file(self, sha256: str, *, size: int, mime: str, kind: str, text_status: str) -> None:
        """Record a kept file once; a file kept "list only" before is queued for text when
        a channel that indexes links it."""
        insert = upsert(self.engine.dialect.name, files_t).values(
            sha256=sha256, size=size, mime=mime, kind=kind, stored_at=local_now(), text_status=text_status)
        with self.engine.begin() as conn:
            conn.execute(insert.on_conflict_do_nothing(index_elements=[files_t.c.sha256]))
            if text_status == "pending":
                conn.execute(files_t.update().where(files_t.c.sha256 == sha256, files_t.c.text_status == "off")
                             .values(text_status="pending"))

    def queue_texts(self, channel_id: str) -> None:
        """Queue for reading the files of a channel's posts kept without their text."""
        of_channel = (sa.select(links_t.c.sha256).join(posts_t, posts_t.c.id == links_t.c.post_id)
                      .where(posts_t.c.channel_id == channel_id, links_t.c.sha256.is_not(None)))
        with self.engine.begin() as conn:
            conn.execute(files_t.update().where(files_t.c.text_status == "off", files_t.c.sha256.in_(of_channel))
                         .values(text_status="pending"))

    def pending_texts(self, limit: int = 100) -> list[PendingFile]:
        """Kept files whose text is still to be read, oldest first."""
        q = (sa.select(files_t.c.sha256, files_t.c.kind, files_t.c.size)
             .where(files_t.c.text_status == "pending").order_by(files_t.c.stored_at, files_t.c.sha256).limit(limit))
        with self.engine.connect() as conn:
            return [PendingFile(*r) for r in conn.execute(q)]

    def set_text(self, sha256: str, status: str, text: str | None, pages: int | None, note: str | None, *,
                 index_chars: int) -> list[int]:
        """Record a file's text, and make every post that keeps it searchable by it (in one
        transaction: the post leaves the index with its old text and returns with the new).
        Returns those posts' ids."""
        with self.engine.begin() as conn:
            conn.execute(files_t.update().where(files_t.c.sha256 == sha256)
                         .values(text_status=status, text=text, pages=pages, note=note))
            ids = sorted({r.post_id for r in conn.execute(
                sa.select(links_t.c.post_id).where(links_t.c.sha256 == sha256, links_t.c.status == "kept"))})
            _refresh_text(conn, ids, index_chars)
        return ids

    def refresh_text(self, post_ids: Sequence[int], *, index_chars: int) -> None:
        with self.engine.begin() as conn:
            _refresh_text(conn, list(post_ids), index_chars)

    def usage(self) -> AttachmentUsage:
        """Files kept, their bytes, and the attachment rows that point at them."""
        with self.engine.connect() as conn:
            files, size = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(files_t.c.size), 0))
                                       ).one()
            links = conn.execute(sa.select(sa.func.count()).select_from(links_t)
                                 .where(links_t.c.sha256.is_not(None))).scalar_one()
        return AttachmentUsage(files=int(files), bytes=int(size), links=int(links))


def _links_with_files() -> sa.Select[Any]:
    """Attachment rows with what their kept file is (none for a link not kept)."""
    return (sa.select(links_t, files_t.c.size, files_t.c.mime, files_t.c.kind, files_t.c.text_status,
                      files_t.c.pages, files_t.c.note)
            .select_from(links_t.outerjoin(files_t, files_t.c.sha256 == links_t.c.sha256)))


def _refresh_text(conn: sa.Connection, post_ids: list[int], index_chars: int) -> None:
    """Each post's searchable attachment text: its kept attachments' text, in sections."""
    if not post_ids:
        return
    q = (sa.select(links_t.c.post_id, links_t.c.name, files_t.c.text)
         .join(files_t, files_t.c.sha256 == links_t.c.sha256)
         .where(links_t.c.post_id.in_(post_ids), links_t.c.status == "kept", files_t.c.text_status == "text")
         .order_by(links_t.c.post_id, links_t.c.id))
    sections: dict[int, list[str]] = {}
    for r in conn.execute(q):
        sections.setdefault(r.post_id, []).append(f"【附件：{r.name}】\n{r.text or ''}")
    cols = (posts_t.c.id, posts_t.c.title, posts_t.c.body, posts_t.c.department, posts_t.c.attachments,
            posts_t.c.attachment_text)
    old = conn.execute(sa.select(*cols).where(posts_t.c.id.in_(post_ids))).mappings().all()
    new = {i: ("\n".join(sections[i])[:index_chars] if i in sections else None) for i in post_ids}
    moved = [r for r in old if r["attachment_text"] != new[r["id"]]]
    if not moved:
        return
    backend = backend_for(conn.dialect.name)
    execute(conn, backend.unindex(moved))
    conn.execute(posts_t.update().where(posts_t.c.id == sa.bindparam("b_id"))
                 .values(attachment_text=sa.bindparam("b_text")),
                 [{"b_id": r["id"], "b_text": new[r["id"]]} for r in moved])
    execute(conn, backend.index([{**r, "attachment_text": new[r["id"]]} for r in moved]))
