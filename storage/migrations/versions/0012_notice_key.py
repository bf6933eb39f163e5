"""The same notice on several channels (the 研究生院's 拟录取名单 and the official account's post
of it; the procurement centre's announcement and 中国政府采购网's copy) is shown as one search
result with 「另见」 links: each post keeps a key of its title's core, indexed, so a page finds
its results' copies in one lookup.

The core is written out here as it was (a migration never calls live code): NFKC and case
folded; leading column prefixes (【图说】, 权威发布｜, 关于) and the school's name dropped; trailing
batch notes (（第一批）), 发布, 公开, 的通知 and 的公告 dropped; punctuation and spaces removed;
the key is the first 16 hex digits of its SHA-1, none under 8 characters.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import hashlib
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_PREFIX = re.compile(r"^(?:【[^】]{1,10}】|[^｜|]{1,8}[｜|]|关于)+")
_ORG = re.compile(r"^(?:(?![与和及在的])[\u4e00-\u9fff]){2,12}?(?:大学|学院)(?=.)")
_TAIL = re.compile(r"(?:[（(][^）)]{1,10}[)）]|发布|公开|的通知|的公告)+$")
_NOISE = re.compile(r"[\s\W_]+")


def _key(title: str) -> str | None:
    core = unicodedata.normalize("NFKC", title).casefold()
    core = _NOISE.sub("", _TAIL.sub("", _ORG.sub("", _PREFIX.sub("", core))))
    return hashlib.sha1(core.encode()).hexdigest()[:16] if len(core) >= 8 else None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("notice_key", sa.String(length=16), nullable=True))
    conn = op.get_bind()
    posts = sa.table("posts", sa.column("id", sa.Integer), sa.column("title", sa.String),
                     sa.column("notice_key", sa.String))
    last = 0
    while True:
        rows = conn.execute(sa.select(posts.c.id, posts.c.title).where(posts.c.id > last)
                            .order_by(posts.c.id).limit(5000)).all()
        if not rows:
            break
        keyed = [{"i": r.id, "k": _key(r.title or "")} for r in rows]
        keyed = [k for k in keyed if k["k"]]
        if keyed:
            conn.execute(posts.update().where(posts.c.id == sa.bindparam("i")).values(notice_key=sa.bindparam("k")),
                         keyed)
        last = rows[-1].id
    op.create_index("ix_posts_notice_key", "posts", ["notice_key"])


def downgrade() -> None:
    op.drop_index("ix_posts_notice_key", table_name="posts")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("notice_key")
