"""`xxgk serve` and `xxgk worker`: the web app and the scheduler, as a service."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from aggregator.cli._common import consoles, load, open_store

if TYPE_CHECKING:
    from aggregator.config import Config
    from storage.store import Store


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per tick


def _on_term(event: threading.Event) -> None:
    """SIGTERM and SIGINT set `event`: running syncs store what they have and stop."""
    def handler(_signum: int, _frame: object) -> None:
        event.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="监听地址（默认仅本机）")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口")] = 8000,
    no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="只提供网页与 API，不定时同步")] = False,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                                         help="网页服务进程数（多核机器与大库用；调度器只在主进程运行一份）")] = 1,
) -> None:
    """运行服务：网页与 JSON API（/api/channels、/healthz），以及按各渠道 schedule 定时同步的调度器
    （每渠道同一时刻只有一个写入者；每月 1 日导出上月统计；渠道异常时发送告警）。SIGTERM 时保存已获取内容后退出。

    例：xxgk --config /etc/xxgk/config.toml serve --host 0.0.0.0 --port 8000
    """
    _log_to_stderr()
    cfg = load(ctx)
    with open_store(cfg) as store:
        banner = (f"xxgk serve：http://{host}:{port}/ （配置：{cfg.source}）{'，未启用调度器' if no_scheduler else ''}"
                  + (f"，{workers} 个网页进程" if workers > 1 else ""))
        run_service(cfg, store, host, port, None if no_scheduler else "xxgk serve", banner, workers=workers)


def run_service(cfg: Config, store: Store, host: str, port: int, role: str | None, banner: str,
                log_level: str = "info", workers: int = 1) -> None:
    """The web pages and, unless `role` is None, the scheduler under that name, until SIGTERM/Ctrl-C.
    With `workers` > 1 the pages are served by that many processes, each with its own connection to
    the store (`web.app.app_from_environment`); the scheduler runs once, in this process."""
    import os

    import uvicorn

    from aggregator.scheduler.service import Scheduler
    from aggregator.web.app import create_app, settle

    stopping = threading.Event()
    _on_term(stopping)  # uvicorn re-raises the signal to this handler once it has shut down
    scheduler = None if role is None else Scheduler(cfg, store, role=role)
    consoles.err.print(banner)
    if scheduler is not None:
        scheduler.start()
    try:
        if workers > 1:
            from aggregator.web import processes

            os.environ["XXGK_CONFIG"] = str(cfg.source.resolve())  # what each serving process loads
            if processes.balanced():  # a socket each, connections spread by the kernel
                try:
                    processes.supervise(host, port, workers, log_level, stopping, consoles.err.print)
                except (OSError, RuntimeError) as exc:
                    from aggregator.cli._common import fail

                    fail(f"无法在 {host}:{port} 提供网页：{exc}（换一个 --port，或先停掉占用它的程序）", code=1)
            else:
                uvicorn.run(processes.APP, factory=True, host=host, port=port, workers=workers,
                            log_level=log_level, access_log=False)
        else:
            app = create_app(cfg, store, scheduler)
            settle()
            uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False)).run()
    finally:
        if scheduler is not None:
            scheduler.stop()


def worker(ctx: typer.Context) -> None:
    """只运行调度器（不提供网页），可在多台机器上对同一 PostgreSQL 库运行多个；每个渠道同一时刻只有一个写入者。

    例：xxgk --config /etc/xxgk/config.toml worker
    """
    from aggregator.scheduler.service import Scheduler

    _log_to_stderr()
    cfg = load(ctx)
    stopping = threading.Event()
    _on_term(stopping)
    with open_store(cfg) as store:
        scheduler = Scheduler(cfg, store, role="xxgk worker")
        consoles.err.print(f"xxgk worker：{scheduler.holder}（配置：{cfg.source}）")
        scheduler.start()
        try:
            while not stopping.wait(0.5):
                pass
        finally:
            scheduler.stop()
        consoles.err.print("xxgk worker：已停止")


admin = typer.Typer(help="账号与修改记录：网页写操作需要账号（编辑可改标注；管理员还可同步、接受选择器、管理账号）。"
                         "例：xxgk admin add-user wang --role editor", no_args_is_help=True)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("新密码", hide_input=True, confirmation_prompt="再输入一次"))


@admin.command("set-password")
def set_password(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", help="账号（默认 admin；不存在时创建为管理员）")] = "admin",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取密码（脚本用）")] = False,
) -> None:
    """设置账号密码（scrypt 哈希存入库中），默认为管理员账号 admin；记入修改记录。

    例：xxgk admin set-password；echo 'secret' | xxgk admin set-password --user wang --password-stdin
    """
    from aggregator.cli._common import fail
    from aggregator.services.accounts import AccountError, cli_actor, set_admin_password

    password = _read_password(password_stdin)
    cfg = load(ctx)
    with open_store(cfg) as store:
        try:
            set_admin_password(store, password, cli_actor(), user)
        except AccountError as exc:
            fail(str(exc))
    consoles.err.print(f"账号 {user} 的密码已设置。")


@admin.command("add-user")
def add_user(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="用户名，如 wang")],
    role: Annotated[str, typer.Option("--role", help="editor（编辑：改清单标注）、admin（管理员）或 viewer（只读）")]
    = "editor",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取密码（脚本用）")] = False,
) -> None:
    """添加网页账号（已存在则改角色与密码）；记入修改记录。

    例：xxgk admin add-user wang --role editor；echo 'secret' | xxgk admin add-user li --role admin --password-stdin
    """
    from aggregator.cli._common import fail
    from aggregator.services.accounts import ROLE_ZH, AccountError, cli_actor, save_user

    if role not in ROLE_ZH:
        fail(f"--role 应为 editor、admin 或 viewer（收到 {role!r}）")
    password = _read_password(password_stdin)
    cfg = load(ctx)
    with open_store(cfg) as store:
        try:
            before = save_user(store, name, role, password, cli_actor())
        except AccountError as exc:
            fail(str(exc))
    consoles.err.print(f"账号 {name}（{ROLE_ZH[role]}）已{'添加' if before is None else '更新'}。")


@admin.command("users")
def users(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False) -> None:
    """列出网页账号与角色。例：xxgk admin users"""
    import json

    from aggregator.services.accounts import ROLE_ZH

    cfg = load(ctx)
    with open_store(cfg, create=False) as store:
        accounts = store.people.users()
    if as_json:
        print(json.dumps({"users": [{"name": a.name, "role": a.role, "disabled": a.disabled,
                                     "created_at": a.created_at.isoformat()} for a in accounts]}, ensure_ascii=False))
        return
    for a in accounts:
        consoles.out.print(f"{a.name}\t{ROLE_ZH.get(a.role, a.role)}{'（已停用）' if a.disabled else ''}")


@admin.command("log")
def log(
    ctx: typer.Context,
    target: Annotated[str | None, typer.Option("--target", help="只看一项：post:123、channel:ID、user:NAME")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table、json 或 csv（带 BOM，可直接用 Excel/WPS 打开）")]
    = "table",
    output: Annotated[str | None, typer.Option("-o", "--output", help="写入文件（默认标准输出）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（同 --format json）")] = False,
) -> None:
    """修改记录：每次人工写操作的操作人、时间、对象、修改前 → 修改后（改标注、立即同步、接受选择器、账号）。

    例：xxgk admin log；xxgk admin log --target post:123；xxgk admin log --format csv -o 修改记录.csv
    """
    from aggregator.cli._common import fail
    from aggregator.services.accounts import change_rows, changes, changes_csv, changes_text

    fmt = "json" if as_json else fmt
    if fmt not in ("table", "json", "csv"):
        fail(f"--format 应为 table、json 或 csv（收到 {fmt!r}）")
    cfg = load(ctx)
    with open_store(cfg, create=False) as store:
        rows = change_rows(changes(store, target))
    if fmt == "json":
        import json

        text = json.dumps({"changes": rows}, ensure_ascii=False) + "\n"
    else:
        text = changes_csv(rows) if fmt == "csv" else changes_text(rows) + "\n"
    if output:
        from pathlib import Path

        Path(output).write_text(text, encoding="utf-8")
        consoles.err.print(f"已写入 {output}（{len(rows)} 条）")
    else:
        sys.stdout.write(text)


COMMANDS = (serve, worker)


def register(app: typer.Typer) -> None:
    for command in COMMANDS:
        app.command()(command)
    app.add_typer(admin, name="admin")
