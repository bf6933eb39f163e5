"""The web face (issue: the office's web pages) — not built yet; this is its room.

What goes here: the ASGI app (FastAPI + Jinja2) serving `/`, `/posts/{id}`,
`/stats`, `/coverage`, `/channels`, the JSON API under `/api/` and
`/feed.atom`; server-rendered pages in `templates/`, a few KB of vendored
progressive enhancement in `static/`. Like the CLI, it calls only
`aggregator.services` (and `aggregator.config`), never storage or connectors
directly for what a service already does; no core module imports it.
"""
