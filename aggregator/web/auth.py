"""Who may write: the admin password, the signed session cookie and CSRF tokens.

Reading is open on the bound interface; every write (a tag, "sync now") needs
the admin signed in and the form's CSRF token. The password is kept as a
scrypt hash — from `XXGK_ADMIN_PASSWORD_HASH`, else the store (set with
`xxgk admin set-password`). The session is a cookie signed with HMAC-SHA256
(the key from `XXGK_SECRET`, else one the store generates once and every
process shares), HttpOnly, SameSite=Strict, Secure over HTTPS, and expiring.
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
_PASSWORD_MARK = "admin:password"
_SECRET_MARK = "web:secret"
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """`scrypt$16384$8$1$<salt>$<hash>` (hashlib's scrypt, a fresh salt each time)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        found = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                               dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found.hex(), digest)


def set_password(store: Store, password: str) -> None:
    store.set_mark(_PASSWORD_MARK, hash_password(password))


def password_hash(store: Store) -> str | None:
    return os.environ.get("XXGK_ADMIN_PASSWORD_HASH") or store.mark(_PASSWORD_MARK)


def secret_key(store: Store) -> bytes:
    """The signing key: `XXGK_SECRET`, else one generated once and kept in the store."""
    if os.environ.get("XXGK_SECRET"):
        return os.environ["XXGK_SECRET"].encode()
    store.claim_mark(_SECRET_MARK, secrets.token_hex(32))
    value = store.mark(_SECRET_MARK)
    assert value is not None
    return value.encode()


@dataclass(frozen=True, slots=True)
class Session:
    admin: bool
    csrf: str
    expires: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(session: Session, key: bytes) -> str:
    body = _b64(json.dumps({"a": session.admin, "c": session.csrf, "e": session.expires}).encode())
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
        session = Session(bool(data["a"]), str(data["c"]), float(data["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > time.time() else None


def new_session(admin: bool) -> Session:
    return Session(admin, secrets.token_urlsafe(24), time.time() + SESSION_SECONDS)
