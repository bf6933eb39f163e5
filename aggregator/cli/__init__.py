"""The `xxgk` command (docs/cli.md): a thin face over `aggregator.services`.

One module per command group; each imports its heavy parts (SQLAlchemy, lxml,
openpyxl, …) inside the command, so `xxgk --help` and a cron line that fails
early start in a fraction of a second. Output goes to standard output;
progress and messages to standard error, so `--json` output is pure JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aggregator import __version__
from aggregator.cli import classify, demo, onboard, reports, search, service, sync
from aggregator.cli._common import consoles

app = typer.Typer(
    help="xxgk — 高校信息公开聚合：同步各渠道发布、按清单归类、检索与统计。",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    # Eager, so `xxgk --version` answers without a command (a plain option would need one).
    if value:
        consoles.out.print(f"xxgk-aggregator {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="配置文件（默认 $XXGK_CONFIG，否则 ./config.toml）", show_default=False),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", help="显示版本号", callback=_version, is_eager=True, expose_value=True)
    ] = False,
) -> None:
    """xxgk — 高校信息公开聚合。"""
    ctx.obj = {"config": config}


for group in (sync, search, reports, classify, onboard, service, demo):
    group.register(app)


def main() -> None:
    """`xxgk`: the command line, with usage errors said in Chinese (aggregator/cli/usage.py)."""
    import sys

    from aggregator.cli import usage

    sys.exit(usage.run(app))
