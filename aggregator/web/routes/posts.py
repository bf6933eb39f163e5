"""A post: its page (sanitised body, attachments, revisions, tag and why, 修改记录), the kept
copies of its attachments (always downloads), re-tagging, and `/api/posts/{id}`."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from aggregator.clock import iso_local
from aggregator.web.site import site_of
from aggregator.web.views import attachment_view, safe_body

router = APIRouter()


@router.get("/posts/{post_id}", response_class=HTMLResponse)
def page_post(request: Request, post_id: int) -> HTMLResponse:
    site = site_of(request)
    from aggregator.services.procurement import facts_view, same_project
    from aggregator.services.revisions import revision_diffs
    from aggregator.services.tags import explain_post, explain_text

    post = site.store.posts.by_id(post_id)
    if post is None:
        return site.render(request, "error.html", 404, message=f"没有编号为 {post_id} 的帖子")
    attachments = site.store.attachments.of_post(post_id)
    diffs = revision_diffs(post, site.store.posts.revisions(post_id), attachments)
    from aggregator.services.accounts import change_rows, changes

    return site.render(request, "post.html", post=post, body=safe_body(post.body_html, post.url),
                  explain=explain_text(explain_post(site.config, site.store, post)), diffs=diffs,
                  changes=change_rows(changes(site.store, f"post:{post_id}")),
                  iso=iso_local, channel=site.names.get(post.channel_id, post.channel_id),
                  files=[attachment_view(a) for a in attachments], procurement=facts_view(post),
                  project=same_project(site.store, post))


@router.get("/attachments/{link_id}")
def kept_copy(request: Request, link_id: int) -> Response:
    """The kept copy of an attachment, always as a download: never rendered, never sniffed."""
    site = site_of(request)
    from aggregator.attachments.names import clean_name
    from aggregator.services.attachments import file_path

    row = site.store.attachments.link(link_id)
    path = file_path(Path(site.config.attachments.dir), row.sha256) if row and row.sha256 else None
    if row is None or path is None or not path.exists():
        return PlainTextResponse("没有保存这个附件的副本", status_code=404)
    name = clean_name(row.name)
    return FileResponse(path, media_type=row.mime or "application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, max-age=86400"})


@router.post("/posts/{post_id}/tag")
def retag(request: Request, post_id: int, item: str = Form(...), csrf: str = Form(""),
          back: str = Form("")) -> Response:
    """Tag a post by hand (editors); back to its page, or to `back` — a path on this site (the review
    list tags in place)."""
    site = site_of(request)
    from aggregator.services.tags import TagError, parse_item, tag

    session = site.require(request, csrf, "editor")
    try:
        tag(site.store, post_id, parse_item(item), session.user, site.address_of(request))
    except TagError as exc:
        raise HTTPException(400, str(exc)) from None
    local = back.startswith("/") and not back.startswith(("//", "/\\"))  # never a redirect off this site
    return RedirectResponse(back if local else f"/posts/{post_id}?tagged=1", status_code=303)


@router.get("/api/posts/{post_id}")
def api_post(request: Request, post_id: int) -> JSONResponse:
    site = site_of(request)
    from aggregator.services.export import attachment_entry, export_row

    post = site.store.posts.by_id(post_id)
    if post is None:
        return JSONResponse({"error": f"没有编号为 {post_id} 的帖子"}, status_code=404)
    files = [{**attachment_entry(a), "download": f"/attachments/{a.id}" if a.sha256 else None}
             for a in site.store.attachments.of_post(post_id)]
    return JSONResponse({**export_row(post.model_dump()), "body": post.body, "attachments": post.attachments,
                         "attachment_files": files, "revisions": len(site.store.posts.revisions(post_id))})
