"""Post keys that are URLs are stored in their canonical spelling.

Feed connectors kept an entry's guid as published (`…?utm_source=rss#comments`,
an upper-case host) while `is_known` asked with the canonical URL, so such
posts were never "known" and were fetched again each sync. From this version
the one key function canonicalises URL-shaped keys (`connectors.urls.key_of`);
this migration re-keys the posts already stored that way, so the next sync
finds them instead of storing them twice. A re-key that would collide with a
post already under the canonical key is left alone (both rows stay, as before).

The canonical form is written out here as it was (a migration never calls
live code): lower-case scheme and host, no default port, no fragment, no
utm_*/spm/isappinstalled parameters.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TRACKING = re.compile(r"^(utm_\w+|spm|isappinstalled)$")
_PORTS = {"http": 80, "https": 443}


def _canonical(url: str) -> str:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    netloc = host if not parts.port or parts.port == _PORTS.get(scheme) else f"{host}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not _TRACKING.match(k)]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def upgrade() -> None:
    bind = op.get_bind()
    posts = sa.table("posts", sa.column("id", sa.Integer), sa.column("channel_id", sa.String),
                     sa.column("key", sa.String))
    rows = bind.execute(sa.select(posts.c.id, posts.c.channel_id, posts.c.key)
                        .where(sa.or_(posts.c.key.like("http://%"), posts.c.key.like("https://%"),
                                      posts.c.key.like("HTTP%")))).all()
    for row in rows:
        new = _canonical(row.key)
        if new == row.key:
            continue
        taken = bind.execute(sa.select(posts.c.id).where(posts.c.channel_id == row.channel_id,
                                                         posts.c.key == new)).first()
        if taken is None:
            bind.execute(posts.update().where(posts.c.id == row.id).values(key=new))


def downgrade() -> None:
    pass  # the canonical keys are valid keys for the earlier version too
