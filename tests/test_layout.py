"""The house rules, checked: which part may import which, the public names of each
package, and the CLI's surface (every command has help; --version; start-up time
is kept by importing heavy parts inside the commands)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.clock import SHANGHAI
from aggregator.services.channels import next_run
from connectors.settings import ChannelSettings
from tests.helpers import ROOT, run_xxgk

PACKAGES = ("aggregator", "connectors", "storage")
FACES = ("aggregator.cli", "aggregator.web", "aggregator.scheduler", "aggregator.__main__")
LEAVES = ("aggregator.clock", "storage.records")  # import nothing of ours; anyone may import them


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _our_imports(path: Path) -> set[str]:
    """Every module of ours `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found |= {n for n in names if n.split(".")[0] in PACKAGES}
    return found


MODULES = {_module_name(p): _our_imports(p) for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _breaks(rule: str, importer: str, imported: str) -> bool:
    if _within(imported, *LEAVES) and not _within(importer, *LEAVES):
        return False
    if rule == "leaf":
        return _within(importer, *LEAVES)
    if rule == "connectors":  # a connector knows nothing of the store or of the config assembler
        return _within(importer, "connectors") and not _within(imported, "connectors")
    if rule == "storage":  # the store knows nothing above it
        return _within(importer, "storage") and not _within(imported, "storage")
    if rule == "faces":  # no core module imports a face
        return not _within(importer, *FACES) and _within(imported, *FACES)
    if rule == "pipeline":  # the pipeline serves the services, never the other way round
        return _within(importer, "aggregator.pipeline") and _within(imported, "aggregator.services")
    if rule == "attachments":  # extraction hands its text to the pipeline; it never writes the store
        return _within(importer, "aggregator.attachments") and _within(imported, "storage")
    if rule == "compliance":  # rules, dates and working days are pure: the service brings the posts
        return _within(importer, "aggregator.compliance") and not _within(imported, "aggregator.compliance")
    raise AssertionError(rule)


@pytest.mark.parametrize("rule", ["leaf", "connectors", "storage", "faces", "pipeline", "attachments", "compliance"])
def test_every_arrow_runs_one_way(rule: str) -> None:
    broken = sorted(f"{importer} imports {imported}" for importer, imports in MODULES.items()
                    for imported in imports if _breaks(rule, importer, imported))
    assert broken == []


def test_the_import_check_sees_imports_inside_functions() -> None:
    # The CLI imports its heavy parts inside commands: the check must still see them.
    assert "aggregator.services.stats" in MODULES["aggregator.cli.reports"]
    assert _breaks("connectors", "connectors.html", "storage.store")
    assert not _breaks("connectors", "connectors.html", "aggregator.clock")


# -- the size of a function, cycles, and what a face may do ----------------------------------------------

MAX_LINES = 60
# Migrations and the demo's page builders are data, not logic, and are not counted.
NOT_COUNTED = ("storage/migrations/", "aggregator/demo/")


def _functions() -> dict[str, int]:
    found = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(NOT_COUNTED):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
                    key = f"{rel}:{node.name}"
                    found[key] = max(found.get(key, 0), node.end_lineno - node.lineno + 1)
    return found


def test_no_function_grows_past_sixty_lines() -> None:
    lengths = _functions()
    too_long = {k: n for k, n in lengths.items() if n > MAX_LINES}
    assert too_long == {}, "split these (or shorten them back): " + ", ".join(f"{k} {n}" for k, n in too_long.items())
    assert max(n for k, n in lengths.items() if k.startswith("aggregator/web/")) <= MAX_LINES


def test_no_two_modules_import_each_other() -> None:
    """Imports inside functions included: what two modules share lives in a module below both
    (as `connectors/dom.py` is below `html.py` and `detect.py`)."""
    ours = {m: {i for i in imports if i in MODULES} for m, imports in MODULES.items()}
    cycles = {frozenset({a, b}) for a, deps in ours.items() for b in deps if a != b and a in ours.get(b, set())}
    assert cycles == set()


def test_the_faces_write_no_sql_and_no_spreadsheets() -> None:
    """A page or a command calls a service for its data and its files: no SQL, no CSV/XLSX writer."""
    faces = [p for face in ("aggregator/web", "aggregator/cli") for p in sorted((ROOT / face).rglob("*.py"))]
    for path in faces:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in ("csv", "openpyxl", "xlsxwriter", "docx"), (path, name)
            if isinstance(node, ast.Attribute) and node.attr in ("select", "insert", "update", "delete", "text") \
                    and isinstance(node.value, ast.Name) and node.value.id == "sa":
                raise AssertionError(f"{path}: SQL in a face (sa.{node.attr})")


PUBLIC = {
    "connectors": ["REGISTRY", "Attachment", "ChannelError", "ChannelSettings", "ChannelState", "Checkpoint",
                   "Connector", "FetchContext", "Item", "RawPost", "Skipped", "connector_for", "settings_for"],
    "storage": ["ChannelOverview", "ChannelRecord", "PostRecord", "RunCounts", "Store", "StoreError", "StoredState",
                "WriteResult", "make_engine", "migrate"],
    "aggregator.pipeline": ["BATCH_SIZE", "Progress", "ProgressFn", "RequestCounter", "RunResult",
                            "make_http_client", "sync_channel"],
}


@pytest.mark.parametrize("package", list(PUBLIC))
def test_each_package_keeps_its_public_names(package: str) -> None:
    module = __import__(package, fromlist=["__all__"])
    assert sorted(module.__all__) == sorted(PUBLIC[package])
    assert all(hasattr(module, name) for name in module.__all__)


def test_every_connector_kind_declares_its_settings() -> None:
    from connectors import REGISTRY

    assert set(REGISTRY) == {"html", "procurement", "feed", "wechat", "table"}
    for kind, connector in REGISTRY.items():
        assert issubclass(connector.settings, ChannelSettings)
        assert connector.settings.model_fields["kind"].default == kind


# The command groups (`classify`, `admin`) come after the plain commands, as typer lists them.
COMMANDS = ["sync", "channels", "search", "reindex", "export", "stats", "coverage", "report", "compliance",
            "tag", "reclassify", "probe", "audit", "accept", "serve", "worker", "demo", "classify", "admin"]
SUBCOMMANDS = {"classify": ["explain", "title", "train", "retrain", "suggest"],
               "admin": ["set-password", "add-user", "users", "log"]}


def test_every_command_is_listed_and_has_help_with_an_example() -> None:
    top = CliRunner().invoke(app, ["--help"])
    assert top.exit_code == 0
    listed = re.findall(r"^  (\w+)\s", top.stdout.split("Commands:")[1], re.M)
    assert listed == COMMANDS
    for command in COMMANDS:
        result = CliRunner().invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "例：" in result.stdout, command
        for sub in SUBCOMMANDS.get(command, []):
            result = CliRunner().invoke(app, [command, sub, "--help"])
            assert result.exit_code == 0 and "例：" in result.stdout, f"{command} {sub}"


def test_version_is_the_package_version() -> None:
    from aggregator import __version__

    result = run_xxgk("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"xxgk-aggregator {__version__}"


def test_help_loads_no_database_html_or_spreadsheet_library() -> None:
    code = ("import sys, runpy; sys.argv = ['xxgk', '--help']\n"
            "try: runpy.run_module('aggregator', run_name='__main__')\n"
            "except SystemExit: pass\n"
            "heavy = sorted(m for m in ('sqlalchemy', 'alembic', 'lxml', 'openpyxl', 'httpx', 'pydantic', 'docx')"
            " if m in sys.modules)\n"
            "print('HEAVY', heavy, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "HEAVY []" in result.stderr, result.stderr


def test_next_run_is_the_cron_time_in_shanghai_and_none_when_disabled() -> None:
    ch = ChannelSettings(id="x", kind="html", schedule="0 8 * * MON")
    now = datetime(2024, 9, 4, 12, 0, tzinfo=SHANGHAI)  # a Wednesday
    assert next_run(ch, now) == datetime(2024, 9, 9, 8, 0, tzinfo=SHANGHAI)
    assert next_run(ch.model_copy(update={"enabled": False}), now) is None


@pytest.mark.slow
def test_demo_syncs_every_sample_channel_into_a_fresh_store(tmp_path: Path) -> None:
    result = run_xxgk("demo", "--dir", str(tmp_path / "demo"), "--no-serve")
    assert result.returncode == 0, result.stderr
    assert "示例同步结果" in result.stdout and (tmp_path / "demo" / "xxgk.db").exists()
    listed = run_xxgk("--config", str(tmp_path / "demo" / "config.toml"), "channels", "--json")
    rows = json.loads(listed.stdout)["channels"]
    assert len(rows) >= 10 and all(r["status"] == "ok" and r["posts"] > 0 for r in rows)
    # The first round's missing detail page was stored from the list, then completed — not duplicated —
    # and every channel whose site states a count holds exactly that many posts.
    assert "部分成功" in result.stdout and "第二轮补全 1 条，无重复" in result.stdout
    counted = [r for r in rows if r["site_total"] is not None]
    assert len(counted) >= 4 and all(r["gap"] == 0 and r["details_missing"] == 0 for r in counted)
