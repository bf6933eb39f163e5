"""The people who write: named web accounts, the audit log of every write they make, and
failed sign-ins (for the attempt limit). A repository over the store's engine; `Store.people`
hands it out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from aggregator.clock import local_now
from storage.models import Change, LoginFailure, User

users_t: sa.Table = User.__table__  # type: ignore[attr-defined]
changes_t: sa.Table = Change.__table__  # type: ignore[attr-defined]
failures_t: sa.Table = LoginFailure.__table__  # type: ignore[attr-defined]

ROLES = ("viewer", "editor", "admin")


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: str  # viewer | editor | admin
    password_hash: str
    created_at: datetime
    disabled: bool


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """One write, as the audit log keeps it."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    before: str | None
    after: str | None
    address: str | None


class People:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- accounts ---------------------------------------------------------------------------
    def user(self, name: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users_t).where(users_t.c.name == name)).first()
        return None if row is None else Account(row.name, row.role, row.password_hash, row.created_at, row.disabled)

    def users(self) -> list[Account]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(users_t).order_by(users_t.c.name)).all()
        return [Account(r.name, r.role, r.password_hash, r.created_at, r.disabled) for r in rows]

    def save_user(self, name: str, role: str, password_hash: str | None) -> Account | None:
        """Add the account, or change its role (and its password when one is given); the account
        as it was before (None: it is new)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        before = self.user(name)
        with self.engine.begin() as conn:
            if before is None:
                if password_hash is None:
                    raise ValueError("a new account needs a password")
                conn.execute(users_t.insert().values(name=name, role=role, password_hash=password_hash,
                                                     created_at=local_now(), disabled=False))
            else:
                values: dict[str, object] = {"role": role, "disabled": False}
                if password_hash is not None:
                    values["password_hash"] = password_hash
                conn.execute(users_t.update().where(users_t.c.name == name).values(**values))
        return before

    def disable_user(self, name: str) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(users_t.update().where(users_t.c.name == name).values(disabled=True)).rowcount)

    # -- the audit log ----------------------------------------------------------------------
    def record(self, actor: str, action: str, target: str, before: str | None, after: str | None,
               address: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(changes_t.insert().values(at=local_now(), actor=actor, action=action, target=target,
                                                   before=before, after=after, address=address))

    def changes(self, target: str | None = None, limit: int = 1000) -> list[ChangeRecord]:
        """The newest writes first (of one target — `post:12`, `channel:news`, `user:wang` — when given)."""
        q = sa.select(changes_t).order_by(changes_t.c.id.desc()).limit(limit)
        if target is not None:
            q = q.where(changes_t.c.target == target)
        with self.engine.connect() as conn:
            return [ChangeRecord(r.id, r.at, r.actor, r.action, r.target, r.before, r.after, r.address)
                    for r in conn.execute(q)]

    # -- failed sign-ins --------------------------------------------------------------------
    def failed_login(self, account: str, address: str) -> None:
        now = local_now()
        with self.engine.begin() as conn:
            conn.execute(failures_t.insert().values(at=now, account=account[:64], address=address[:64]))
            conn.execute(failures_t.delete().where(failures_t.c.at < now - timedelta(days=1)))

    def recent_failures(self, account: str, address: str, within: timedelta) -> tuple[int, int, datetime | None]:
        """Failed sign-ins within `within`: for the account, from the address, and the newest one's time."""
        since = local_now() - within
        recent = failures_t.c.at >= since
        with self.engine.connect() as conn:
            by_account = conn.execute(sa.select(sa.func.count()).where(recent, failures_t.c.account == account)
                                      ).scalar_one()
            by_address = conn.execute(sa.select(sa.func.count()).where(recent, failures_t.c.address == address)
                                      ).scalar_one()
            newest = conn.execute(sa.select(sa.func.max(failures_t.c.at)).where(
                recent, sa.or_(failures_t.c.account == account, failures_t.c.address == address))).scalar_one()
        return int(by_account), int(by_address), newest

    def clear_failures(self, account: str, address: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(failures_t.delete().where(failures_t.c.account == account, failures_t.c.address == address))
