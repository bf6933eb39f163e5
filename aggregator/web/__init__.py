"""The web face: the ASGI app `xxgk serve` runs (`app.create_app`).

Server-rendered pages (Jinja2 in `templates/`, one stylesheet in `static/`, no
JavaScript) — `/` search with facets, `/posts/{id}`, `/stats`, `/coverage`,
`/channels`, `/feed.atom` — and the JSON API under `/api/`. Like the CLI, it
calls `aggregator.services` (and `aggregator.config`); `auth.py` keeps the
admin password, the signed session and CSRF. No core module imports it.
"""
