"""A mistyped command line, said in Chinese: what was wrong, what is close, where the help is.

Click words its usage errors in English ("No such option: --yaer"); an office user reads the
same facts here, with the option or value as typed kept beside the words. A value our own
callbacks refused already carries its Chinese reason and is kept as it is.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import typer

# Typer ≥ 0.2x carries its own copy of Click (typer._click); older ones use Click itself.
try:
    errors: Any = importlib.import_module("typer._click.exceptions")
except ImportError:  # pragma: no cover - an older Typer
    errors = importlib.import_module("click.exceptions")

_VALUE_WORDS = [
    (re.compile(r"^No such command '(.*)'\.(?: Did you mean (.*)\?)?$"), "没有 {0} 这个命令（是不是 {1}？）"),
    (re.compile(r"^Input should be a valid integer.*$"), "应为整数"),
    (re.compile(r"^Input should be a valid number.*$"), "应为数字"),
    (re.compile(r"^Input should be a valid boolean.*$"), "应为 true/false"),
    (re.compile(r"^Input should be a valid date.*$"), "应为日期，如 2025-09-01"),
    (re.compile(r"^Input should be greater than or equal to (.*)$"), "应不小于 {0}"),
    (re.compile(r"^Input should be greater than (.*)$"), "应大于 {0}"),
    (re.compile(r"^Input should be less than or equal to (.*)$"), "应不大于 {0}"),
    (re.compile(r"^Input should be less than (.*)$"), "应小于 {0}"),
    (re.compile(r"^'(.*)' is not a valid integer(?: range)?\.?$"), "{0!r} 不是整数"),
    (re.compile(r"^'(.*)' is not a valid float(?: range)?\.?$"), "{0!r} 不是数字"),
    (re.compile(r"^'(.*)' is not a valid boolean\.?$"), "{0!r} 不是 true/false"),
    (re.compile(r"^'(.*)' does not match the formats? (.*)\.$"), "{0!r} 不符合日期格式 {1}"),
    (re.compile(r"^'(.*)' is not (?:one of )?(.*?)\.?$"), "{0!r} 不是可选的值（可选：{1}）"),
    (re.compile(r"^(?:File|Path|Directory) '(.*)' does not exist\.?$"), "路径 {0!r} 不存在"),
    (re.compile(r"^(.*) is not in the range (.*)\.$"), "{0} 超出范围 {1}"),
    (re.compile(r"^Option '(.*)' requires an argument\.?$"), "选项 {0} 后面要给一个值"),
    (re.compile(r"^Option '(.*)' does not take a value\.?$"), "选项 {0} 不带值"),
    (re.compile(r"^Got unexpected extra argument(?:s|\(s\))? \((.*)\)$"), "多余的参数：{0}"),
]


def _value(message: str) -> str:
    text = message.removeprefix("Value error, ").strip()
    for pattern, words in _VALUE_WORDS:
        m = pattern.match(text)
        if m:
            parts = [(g or "").replace("', '", "、").strip("'") for g in m.groups()]
            return words.format(*parts).replace("（是不是 ？）", "")
    return text


def _hint(exc: Any) -> str:
    if exc.param_hint:
        hint = exc.param_hint
        return " / ".join(hint) if isinstance(hint, list | tuple) else str(hint)
    param = exc.param
    if param is None:
        return ""
    opts = getattr(param, "opts", None)
    if getattr(param, "param_type_name", "") == "option" and opts:
        return " / ".join(opts)
    return str(getattr(param, "human_readable_name", None) or param.name)


def _close(words: list[str] | None) -> str:
    return f"（是不是 {'、'.join(words)}？）" if words else ""


def explain(exc: Any) -> str:
    """One Chinese line for a usage error."""
    no_command: Any = getattr(errors, "NoSuchCommand", ())  # Click has it; Typer's copy says it in words
    if isinstance(exc, no_command):
        return f"没有 {exc.command_name} 这个命令{_close(exc.possibilities)}"
    if isinstance(exc, errors.NoSuchOption):
        return f"没有 {exc.option_name} 这个选项{_close(exc.possibilities)}"
    if isinstance(exc, errors.MissingParameter):
        hint = _hint(exc).strip("'")
        argument = getattr(exc.param, "param_type_name", "") == "argument"
        return f"缺少{'参数' if argument else '选项'} {hint}"
    if isinstance(exc, errors.BadParameter):
        return f"{_hint(exc)} 的值不对：{_value(exc.message)}"
    return _value(exc.message)


def show(exc: Any) -> None:
    """The error, the command's usage line and where its help is, on standard error."""
    ctx = exc.ctx
    lines = [f"错误：{explain(exc)}"]
    if ctx is not None:
        lines.append(f"用法：{ctx.get_usage().removeprefix('Usage: ')}")
        lines.append(f"查看帮助：{ctx.command_path} -h")
    typer.echo("\n".join(lines), err=True)


def run(app: typer.Typer) -> int:
    """`app` as a command line: its exit code, a usage error said in Chinese (exit code 2)."""
    try:
        code = app(standalone_mode=False)
    except errors.NoArgsIsHelpError as exc:
        typer.echo(exc.format_message(), err=True)
        return 2
    except errors.UsageError as exc:
        show(exc)
        return int(exc.exit_code)
    except errors.ClickException as exc:  # a file that cannot be opened, …
        typer.echo(f"错误：{exc.format_message()}", err=True)
        return int(exc.exit_code)
    except errors.Abort:
        typer.echo("已中止。", err=True)
        return 130
    return code if isinstance(code, int) else 0
