"""Who is signed in: the signed session cookie and CSRF tokens. Accounts, roles, passwords and
the attempt limit are `aggregator.services.accounts`'.

The session names the account and its role; it is a cookie signed with HMAC-SHA256 (the key
from `XXGK_SECRET`, else one the store generates once and every process shares), HttpOnly,
SameSite=Strict, Secure over HTTPS, and expiring. Every write needs the form's CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass

from storage.store import Store

COOKIE = "xxgk_session"
SESSION_SECONDS = 8 * 3600
_SECRET_MARK = "web:secret"
_RANK = {"viewer": 0, "editor": 1, "admin": 2}


def secret_key(store: Store) -> bytes:
    """The signing key: `XXGK_SECRET`, else one generated once and kept in the store."""
    if os.environ.get("XXGK_SECRET"):
        return os.environ["XXGK_SECRET"].encode()
    store.marks.claim(_SECRET_MARK, secrets.token_hex(32))
    value = store.marks.get(_SECRET_MARK)
    assert value is not None
    return value.encode()


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    role: str  # viewer | editor | admin
    csrf: str
    expires: float

    def may(self, role: str) -> bool:
        """Whether the session's role reaches `role` (admin > editor > viewer)."""
        return _RANK.get(self.role, -1) >= _RANK[role]

    @property
    def admin(self) -> bool:
        return self.may("admin")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(session: Session, key: bytes) -> str:
    body = _b64(json.dumps({"u": session.user, "r": session.role, "c": session.csrf,
                            "e": session.expires}).encode())
    mac = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    return f"{body}.{mac}"


def read(cookie: str | None, key: bytes) -> Session | None:
    """The session a cookie carries, if its signature holds and it has not expired."""
    if not cookie or "." not in cookie:
        return None
    body, mac = cookie.rsplit(".", 1)
    want = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(mac, want):
        return None
    try:
        data = json.loads(_unb64(body))
        session = Session(str(data["u"]), str(data["r"]), str(data["c"]), float(data["e"]))
    except (ValueError, KeyError, TypeError):
        return None  # a cookie of an earlier version (one admin password) signs in again
    return session if session.expires > time.time() and session.role in _RANK else None


def new_session(user: str, role: str) -> Session:
    return Session(user, role, secrets.token_urlsafe(24), time.time() + SESSION_SECONDS)


def same_token(given: str, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given, expected)
