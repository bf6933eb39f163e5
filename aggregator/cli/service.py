"""`xxgk serve` and `xxgk worker`: the web app and the scheduler, as a service."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from aggregator.cli._common import consoles, load, open_store


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
) -> None:
    """运行服务：网页与 JSON API（/api/channels、/healthz），以及按各渠道 schedule 定时同步的调度器
    （每渠道同一时刻只有一个写入者；每月 1 日导出上月统计；渠道异常时发送告警）。SIGTERM 时保存已获取内容后退出。

    例：xxgk --config /etc/xxgk/config.toml serve --host 0.0.0.0 --port 8000
    """
    import uvicorn

    from aggregator.scheduler.service import Scheduler
    from aggregator.web.app import create_app

    _log_to_stderr()
    cfg = load(ctx)
    stopping = threading.Event()
    _on_term(stopping)  # uvicorn re-raises the signal to this handler once it has shut down
    with open_store(cfg) as store:
        scheduler = None if no_scheduler else Scheduler(cfg, store, role="xxgk serve")
        app = create_app(cfg, store, scheduler)
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False))
        consoles.err.print(f"xxgk serve：http://{host}:{port}/ （配置：{cfg.source}）"
                           + ("" if scheduler else "，未启用调度器"))
        if scheduler is not None:
            scheduler.start()
        try:
            server.run()
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


admin = typer.Typer(help="管理员：设置网页写操作（改标注、立即同步）所需的密码。例：xxgk admin set-password",
                    no_args_is_help=True)


@admin.command("set-password")
def set_password(
    ctx: typer.Context,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取密码（脚本用）")] = False,
) -> None:
    """设置管理员密码（以 scrypt 哈希存入库中；也可用环境变量 XXGK_ADMIN_PASSWORD_HASH 提供哈希）。

    例：xxgk admin set-password；echo 'secret' | xxgk admin set-password --password-stdin
    """
    import sys

    from aggregator.cli._common import fail
    from aggregator.web.auth import set_password as store_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("新密码", hide_input=True, confirmation_prompt="再输入一次")
    if len(password) < 8:
        fail("密码至少 8 个字符")
    cfg = load(ctx)
    with open_store(cfg) as store:
        store_password(store, password)
    consoles.err.print("管理员密码已设置。")


COMMANDS = (serve, worker)


def register(app: typer.Typer) -> None:
    for command in COMMANDS:
        app.command()(command)
    app.add_typer(admin, name="admin")
