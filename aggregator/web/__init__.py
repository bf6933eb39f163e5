"""The web face: the ASGI app `xxgk serve` runs (`app.create_app`, which only assembles).

Server-rendered pages (Jinja2 in `templates/`, one stylesheet in `static/`, no JavaScript) and the
JSON API under `/api/`, one router per page group in `routes/` (search, posts, reports,
channels, accounts); `site.py` the context every route reaches through its request (config,
store, templates, the signed-in account, the write checks); `views.py` what pages show (snippets,
safe links, sanitised bodies, diffs, facets, the chart). Like the CLI, it calls
`aggregator.services`; `auth.py` keeps the signed session and CSRF. No core module imports it.
"""
