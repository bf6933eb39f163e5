"""Shared fixtures: a store on SQLite *and* on PostgreSQL for every store test.

PostgreSQL is the machine's own server (127.0.0.1:5432, trust auth, database
`test`; override with XXGK_TEST_PG_URL). Each test gets a fresh schema, so
tests never see each other's rows. Locally, PostgreSQL tests skip with the
reason when no server answers; under CI (CI=true) that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage.store import Store

PG_CANDIDATES = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)
_pg_url: str | None = None
_pg_error: str | None = None


def _find_pg() -> tuple[str | None, str | None]:
    candidates = [os.environ["XXGK_TEST_PG_URL"]] if os.environ.get("XXGK_TEST_PG_URL") else PG_CANDIDATES
    errors = []
    for url in candidates:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
            return url, None
        except Exception as exc:  # any failure means "not usable here"
            errors.append(f"{url}: {str(exc).splitlines()[0]}")
        finally:
            engine.dispose()
    return None, "; ".join(errors)


def pytest_sessionstart(session: pytest.Session) -> None:
    global _pg_url, _pg_error
    _pg_url, _pg_error = _find_pg()
    if _pg_url is None and os.environ.get("CI", "").lower() in ("true", "1"):
        raise pytest.UsageError(
            f"PostgreSQL is unreachable under CI, and the store tests must run on it: {_pg_error}"
        )


def pytest_report_header() -> str:
    return f"postgresql: {_pg_url or 'UNAVAILABLE — ' + str(_pg_error)}"


def _pg_schema_url(schema: str) -> str:
    assert _pg_url is not None
    sep = "&" if "?" in _pg_url else "?"
    return f"{_pg_url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty store: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'xxgk.db'}"
        return
    if _pg_url is None:
        pytest.skip(f"PostgreSQL unavailable: {_pg_error}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(autouse=True)
def _attachments_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kept attachments land in the test's own folder, whatever config path a test gives
    (many parse a config text under a made-up relative path)."""
    monkeypatch.setenv("XXGK_ATTACHMENTS_DIR", str(tmp_path / "attachments"))



@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's headless Chromium for a module's browser tests (tests.helpers.chromium)."""
    from tests.helpers import chromium

    with chromium() as b:
        yield b
