"""Signing in and out (named accounts, the attempt limit: `services.accounts`)."""

from __future__ import annotations

import math
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aggregator.web import auth
from aggregator.web.site import site_of

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def page_login(request: Request) -> HTMLResponse:
    site = site_of(request)
    from aggregator.services.accounts import configured

    return site.render(request, "login.html", configured=configured(site.store),
                  next=request.query_params.get("next", "/"))


@router.post("/login")
def login(request: Request, user: str = Form(""), password: str = Form(""), next: str = Form("/")) -> Response:
    site = site_of(request)
    from aggregator.services.accounts import configured, sign_in

    result = sign_in(site.store, site.config, user, password, site.address_of(request))
    if result.account is None:
        status = 429 if result.wait else 401
        page = site.render(request, "login.html", status, configured=configured(site.store), failed=result.refused,
                      login_name=user, next=next)
        if result.wait:
            page.headers["Retry-After"] = str(math.ceil(result.wait))
        return page
    response = RedirectResponse(next if next.startswith("/") and not next.startswith("//") else "/",
                                status_code=303)
    session = auth.new_session(result.account.name, result.account.role)
    response.set_cookie(auth.COOKIE, auth.sign(session, site.key), max_age=auth.SESSION_SECONDS,
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    site = site_of(request)
    session = site.session_of(request)
    if session and auth.same_token(csrf, session.csrf):
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(auth.COOKIE)
        return response
    raise HTTPException(403, "CSRF 校验失败")


@router.get("/users", response_class=HTMLResponse)
def page_users(request: Request) -> HTMLResponse:
    """The accounts and their roles, with the form to add one or change a role (admins)."""
    from aggregator.services.accounts import ROLE_ZH, change_rows, changes

    site = site_of(request)
    session = site.session_of(request)
    if session is None or not session.admin:
        raise HTTPException(403, "账号管理只对管理员开放：请以管理员账号登录")
    log = [c for c in change_rows(changes(site.store)) if str(c["target"]).startswith("user:")][:50]
    return site.render(request, "users.html", accounts=site.store.people.users(), roles=ROLE_ZH, log=log,
                       saved=request.query_params.get("saved"))


@router.post("/users")
def save_user(request: Request, name: str = Form(""), role: str = Form("editor"), password: str = Form(""),
              csrf: str = Form("")) -> Response:
    """Add an account, or change its role (and its password, when one is given); recorded."""
    from aggregator.services.accounts import AccountError
    from aggregator.services.accounts import save_user as save

    site = site_of(request)
    session = site.require(request, csrf, "admin")
    try:
        save(site.store, name.strip(), role, password or None, session.user, site.address_of(request))
    except AccountError as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse(f"/users?saved={quote(name.strip())}", status_code=303)
