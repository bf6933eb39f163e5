"""People, not a password: named web accounts with roles, the audit log every write goes to,
and sign-in with a limit on attempts.

Roles: `viewer` reads (needed only where `[web] login_required`), `editor` also tags posts,
`admin` also syncs, accepts detected selectors and manages users. The first admin comes from
the password set before accounts existed (`xxgk admin set-password`): signing in as `admin`
with it makes the account. Every write — by the web or the CLI — is recorded with who, when,
what, before → after, and the records are never rewritten by a sync or a re-classification.

Sign-in: after `[web] login_attempts` failures within 15 minutes for an account or from an
address, further attempts are refused before any password is checked (no scrypt is run) for
a minute, doubling with each further failure up to an hour; the burst is logged and alerted once.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import logging
import os
import re
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta

from aggregator.clock import local_now
from aggregator.config import Config
from storage.people import ROLES, Account, ChangeRecord
from storage.store import Store

log = logging.getLogger(__name__)

ROLE_ZH = {"viewer": "只读", "editor": "编辑", "admin": "管理员"}
ACTION_ZH = {"tag": "修改清单标注", "sync": "立即同步", "accept": "接受自动识别的选择器", "add-user": "添加账号",
             "set-role": "修改角色", "set-password": "修改密码", "disable-user": "停用账号"}
WINDOW = timedelta(minutes=15)
FIRST_WAIT, LONGEST_WAIT = 60.0, 3600.0
_LEGACY_MARK = "admin:password"  # the one admin password of earlier versions
_NAME = re.compile(r"^[\w.@-]{1,64}$")
_N, _R, _P = 2**14, 8, 1


class AccountError(ValueError):
    """A user name, role or password the office typed wrong (the message says which)."""


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


_DUMMY = hash_password("an account that does not exist")  # unknown names cost the same time as known ones


def cli_actor() -> str:
    """Who a command-line write is recorded as: the system user and the machine."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"命令行 {user}@{socket.gethostname()}"


def record(store: Store, actor: str, action: str, target: str, before: str | None, after: str | None,
           address: str | None = None) -> None:
    """One write into the audit log."""
    store.people.record(actor, action, target, before, after, address)


def changes(store: Store, target: str | None = None) -> list[ChangeRecord]:
    return store.people.changes(target)


def change_rows(records: list[ChangeRecord]) -> list[dict[str, str | None]]:
    """The audit log as `admin log --json` and the post page show it (times in Asia/Shanghai)."""
    from aggregator.clock import iso_local

    return [{"at": iso_local(c.at), "actor": c.actor, "action": c.action,
             "action_zh": ACTION_ZH.get(c.action, c.action), "target": c.target, "before": c.before,
             "after": c.after, "address": c.address} for c in records]


_CSV_FIELDS = (("at", "时间"), ("actor", "操作人"), ("action_zh", "操作"), ("target", "对象"), ("before", "修改前"),
               ("after", "修改后"), ("address", "来源地址"))


def changes_csv(rows: list[dict[str, str | None]]) -> str:
    """UTF-8 with a BOM (Excel and WPS open it as is), formula-looking cells neutralised."""
    from aggregator.services.sheets import csv_text

    return csv_text([zh for _, zh in _CSV_FIELDS], ([r[k] for k, _ in _CSV_FIELDS] for r in rows))


def changes_text(rows: list[dict[str, str | None]]) -> str:
    return "\n".join(f"{r['at']}  {r['actor']}  {r['action_zh']}  {r['target']}  {r['before'] or '—'} → "
                     f"{r['after'] or '—'}" for r in rows) or "（没有修改记录）"


def _legacy_hash(store: Store) -> str | None:
    return os.environ.get("XXGK_ADMIN_PASSWORD_HASH") or store.marks.get(_LEGACY_MARK)


def configured(store: Store) -> bool:
    """Whether anyone can sign in at all."""
    return bool(store.people.users()) or _legacy_hash(store) is not None


def _check_new(name: str, role: str, password: str | None) -> None:
    if not _NAME.match(name):
        raise AccountError(f"用户名只能由字母、数字、下划线、点、@ 和 - 组成（1–64 个字符），收到 {name!r}")
    if role not in ROLES:
        raise AccountError(f"角色应为 {' / '.join(ROLES)}（{'、'.join(ROLE_ZH.values())}），收到 {role!r}")
    if password is not None and len(password) < 8:
        raise AccountError("密码至少 8 个字符")


def save_user(store: Store, name: str, role: str, password: str | None, actor: str,
              address: str | None = None) -> Account | None:
    """Add an account or change its role (and password when given); recorded. The account as it was."""
    _check_new(name, role, password)
    before = store.people.user(name)
    if before is None and password is None:
        raise AccountError(f"新账号 {name} 需要密码")
    try:
        store.people.save_user(name, role, hash_password(password) if password is not None else None)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    target = f"user:{name}"
    if before is None:
        record(store, actor, "add-user", target, None, ROLE_ZH[role], address)
    else:
        if before.role != role or before.disabled:
            record(store, actor, "set-role", target, ROLE_ZH.get(before.role, before.role)
                   + ("（已停用）" if before.disabled else ""), ROLE_ZH[role], address)
        if password is not None:
            record(store, actor, "set-password", target, None, "（已更改）", address)
    return before


def set_admin_password(store: Store, password: str, actor: str, name: str = "admin") -> None:
    """`xxgk admin set-password`: the password of an account (made an admin when it is new)."""
    existing = store.people.user(name)
    save_user(store, name, existing.role if existing else "admin", password, actor)


@dataclass(frozen=True, slots=True)
class SignIn:
    account: Account | None  # signed in as
    refused: str | None = None  # why not, for the page
    wait: float = 0.0  # seconds before another try is heard (attempts limited)


def _wait(store: Store, config: Config, name: str, address: str) -> float:
    by_account, by_address, newest = store.people.recent_failures(name, address, WINDOW)
    failures = max(by_account, by_address)
    limit = config.web.login_attempts
    if failures < limit or newest is None:
        return 0.0
    wait = min(FIRST_WAIT * 2 ** (failures - limit), LONGEST_WAIT)
    return max(0.0, (newest + timedelta(seconds=wait) - local_now()).total_seconds())


def sign_in(store: Store, config: Config, name: str, password: str, address: str) -> SignIn:
    """Check a sign-in, within the attempt limit (checked before any password is)."""
    name = name.strip() or "admin"
    wait = _wait(store, config, name, address)
    if wait > 0:
        log.warning("sign-in refused without a check: %s from %s (attempt limit; %.0f s left)", name, address, wait)
        return SignIn(None, f"登录失败次数过多，请 {int(wait) + 1} 秒后再试", wait)
    account = store.people.user(name)
    legacy = _legacy_hash(store) if account is None and name == "admin" else None
    stored = account.password_hash if account else legacy
    ok = check_password(password, stored or _DUMMY) and stored is not None
    if ok and account is not None and account.disabled:
        ok = False
    if not ok:
        store.people.failed_login(name, address)
        _burst(store, config, name, address)
        return SignIn(None, "用户名或密码不正确")
    store.people.clear_failures(name, address)
    if account is None:  # the first admin, from the password of earlier versions
        store.people.save_user("admin", "admin", legacy)
        record(store, "admin", "add-user", "user:admin", None, "管理员（由原管理员密码创建）", address)
        account = store.people.user("admin")
    return SignIn(account)


def _burst(store: Store, config: Config, name: str, address: str) -> None:
    """Log every failure; alert once per account and hour when one reaches the limit."""
    by_account, by_address, _ = store.people.recent_failures(name, address, WINDOW)
    log.warning("sign-in failed: %s from %s (%d for the account, %d from the address in 15 min)",
                name, address, by_account, by_address)
    if max(by_account, by_address) != config.web.login_attempts or not config.notify.urls:
        return
    if not store.marks.claim(f"login-burst:{name}:{local_now():%Y-%m-%d %H}", address):
        return
    from aggregator.services.notify import send

    send(config, "【信息公开聚合】登录失败次数过多",
         f"账号 {name} 在 15 分钟内登录失败 {by_account} 次，来自 {address} 的失败 {by_address} 次；"
         "已暂停其登录尝试。如非本人操作，请检查是否有人在猜测密码。")
