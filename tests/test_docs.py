"""The project carries its own reference (docs/): every command with its options, every config
key, and comments that point only at files the repository has."""

from __future__ import annotations

import re

import typer.main

from aggregator.cli import app
from aggregator.config import Config
from connectors import REGISTRY
from tests.helpers import ROOT

DOCS = ROOT / "docs"


def _commands() -> dict[str, list[str]]:
    """`xxgk <path>` → its option names (long form) and arguments, from the real CLI."""
    out: dict[str, list[str]] = {}

    def walk(command: object, prefix: str) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            path = f"{prefix} {name}".strip()
            if not getattr(sub, "commands", None):
                out[path] = [max(p.opts, key=len) for p in sub.params if getattr(p, "param_type_name", "") == "option"
                             and not p.hidden and "--help" not in p.opts]
            walk(sub, path)

    walk(typer.main.get_command(app), "")
    return out


def test_every_command_and_option_is_in_the_reference() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for path, options in _commands().items():
        heads = [h for h in re.findall(r"^### `xxgk ([^`]*)`", text, re.M)
                 if h == path or h.startswith(path + " ")]
        assert heads, f"`xxgk {path}` has no section in docs/cli.md"
        section = ""
        for head in heads:  # a command may have several sections (`report` and `report --check`)
            start = text.index(f"### `xxgk {head}`")
            nxt = text.find("\n##", start + 4)
            section += text[start: nxt if nxt > 0 else len(text)]
        missing = [o for o in options if o not in section]
        assert not missing, f"xxgk {path}: {missing} not in docs/cli.md"


def test_every_config_key_is_in_the_reference() -> None:
    text = (DOCS / "config.md").read_text(encoding="utf-8")
    for name, field in Config.model_fields.items():
        if field.exclude:
            continue
        assert f"## `[{name}]`" in text, name
        for key in field.annotation.model_fields:  # type: ignore[union-attr]
            assert f"`{key}`" in text, f"[{name}] {key}"
    for kind, connector in REGISTRY.items():
        assert f"`{kind}`" in text
        for name, field in connector.settings.model_fields.items():
            key = field.alias or name
            assert f"`{key}`" in text or f"`[channel.{key}]`" in text, f"[[channel]] {kind}: {key}"


def test_comments_point_at_files_that_exist() -> None:
    cited = re.compile(r"\b((?:docs/[a-z]+|[A-Z][A-Z_]+)\.md)\b")  # README.md, docs/cli.md
    for pkg in ("aggregator", "connectors", "storage", "bench", "tests"):
        for path in (ROOT / pkg).rglob("*.py"):
            for name in cited.findall(path.read_text(encoding="utf-8")):
                assert (ROOT / name).exists() or (DOCS / name).exists(), f"{path.relative_to(ROOT)} cites {name}"


def test_the_readmes_examples_find_data_in_the_demo(tmp_path: object) -> None:
    """The README's `search`, `stats` and `coverage` lines, run as written against a fresh demo: each
    answers with data (the demo covers the years the README names)."""
    import json
    import shlex
    from pathlib import Path

    from tests.helpers import run_xxgk

    folder = Path(str(tmp_path))
    assert run_xxgk("demo", "--dir", str(folder / "demo"), "--no-serve", timeout=300).returncode == 0
    cfg = ["--config", str(folder / "demo" / "config.toml")]
    block = (ROOT / "README.md").read_text(encoding="utf-8").split("## Using it", 1)[1].split("```")[1]
    lines = [shlex.split(line, comments=True) for line in block.splitlines()]
    tried = 0
    for words in lines:
        if not words or words[0] != "xxgk" or words[1] not in ("search", "stats", "coverage"):
            continue
        words = [str(folder / w) if w.endswith(".xlsx") else w for w in words[1:]]
        if "--format" in words:  # the workbook: written and non-empty
            done = run_xxgk(*cfg, *words, timeout=120)
            assert done.returncode == 0 and (folder / "统计.xlsx").stat().st_size > 0, (words, done.stderr)
        else:
            done = run_xxgk(*cfg, *words, *([] if "--json" in words else ["--format", "json"]
                                               if words[0] != "search" else ["--json"]), timeout=120)
            assert done.returncode == 0, (words, done.stderr)
            answer = json.loads(done.stdout)
            found = answer.get("total") or sum(r["count"] for r in answer.get("rows", answer.get("items", [])))
            assert found, (words, done.stdout[:500])
        tried += 1
    assert tried >= 5
