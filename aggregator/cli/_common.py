"""What every command module shares: consoles, failing with one clear line,
loading the config and opening the store."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from aggregator.config import Config
    from storage.store import Store


class _Consoles:
    """Rich consoles made on first use, so they write to whatever stdout/stderr
    are then; when output is not a terminal (a pipe, a log file, cron mail)
    tables are laid out wide instead of being cut at 80 columns."""

    @staticmethod
    def make(stderr: bool) -> Console:
        from rich.console import Console

        stream = sys.stderr if stderr else sys.stdout
        width = None if stream.isatty() else 250
        return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)

    @property
    def err(self) -> Console:
        return self.make(True)

    @property
    def out(self) -> Console:
        return self.make(False)


consoles = _Consoles()


def escape(text: str) -> str:
    """Text shown through rich, never read as markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def fail(message: str, code: int = 2) -> NoReturn:
    consoles.err.print(f"[red]错误：[/red]{escape(message)}")
    raise typer.Exit(code)


def load(ctx: typer.Context) -> Config:
    """The config named by --config / $XXGK_CONFIG / ./config.toml, or exit 2 naming every problem."""
    from aggregator.config import ConfigError, load_config

    try:
        return load_config(ctx.obj.get("config") if ctx.obj else None)
    except ConfigError as exc:
        consoles.err.print(f"[red]配置文件有误，xxgk 未启动（{len(exc.problems)} 处）：[/red]")
        for line in exc.problems:
            consoles.err.print(f"  - {escape(line)}")
        raise typer.Exit(2) from None


def safe_url(url: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file `url` names when it does not exist yet (None for PostgreSQL or an existing file)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


@contextmanager
def open_store(cfg: Config, *, create: bool = True) -> Iterator[Store]:
    """The configured store, closed afterwards; an unreachable one exits 2 saying what to check.
    A command that only reads (`create=False`) never makes a SQLite file that is not there: it exits 2
    naming the file it looked for and the config that named it."""
    import sqlalchemy as sa

    from storage.engine import StoreError
    from storage.store import Store

    missing = None if create else missing_sqlite_file(cfg.store.url)
    if missing is not None:
        fail(f"数据库 {missing} 还不存在（{cfg.source} 中 [store] url 指向它）：先运行 xxgk sync 同步各渠道；"
             "如果数据库在别处，请用 --config 指定正确的配置文件。")
    try:
        store = Store.open(cfg.store.url)
    except (sa.exc.SQLAlchemyError, StoreError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(
            f"无法打开数据库 {safe_url(cfg.store.url)}（{reason}）。"
            f"请检查 {cfg.source} 中 [store] url，或数据库服务是否在运行。"
        )
    with store:
        yield store


def emit(text: str, output: Path | None) -> None:
    """Text to standard output, or to `output` (its folder made if missing)."""
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        consoles.err.print(f"已写入 {output}")


def writable(output: Path) -> Path:
    """`output`'s folder made if missing; a path that cannot be written exits 2 saying why and what to do."""
    import os

    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if output.is_dir():
            raise IsADirectoryError(21, "是一个文件夹")
        if not os.access(output if output.exists() else output.parent, os.W_OK):
            raise PermissionError(13, "没有写权限")
    except OSError as exc:
        fail(f"无法写入 {output}（{exc.strerror or exc}）：请换一个有写权限的文件路径")
    return output
