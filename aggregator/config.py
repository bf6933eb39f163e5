"""Load and validate `config.toml` (the schema is DESIGN.md's config contract).

Every problem in a file is reported at once, one line each, naming the file,
the `[[channel]]` id, the key and what was expected — an office admin edits
this file by hand and should fix it in one pass.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aggregator.classify import Classifier, RulesError, load_classifier
from connectors.select import check_spec, selector_alternatives, split_selector  # noqa: F401 (re-exported)

TIMEZONE = "Asia/Shanghai"
DEFAULT_CONFIG = "config.toml"
DEFAULT_STORE_URL = "sqlite:///data/xxgk.db"
DEFAULT_SCHEDULE = "0 * * * *"  # hourly
PRESETS = ("vsb", "vsb-legacy", "webplus", "trs", "ccgp")


class ConfigError(Exception):
    """The config cannot be used; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _check_selector(spec: str | None) -> str | None:
    if spec is None:
        return None
    try:
        check_spec(spec)
    except ValueError as exc:
        raise ValueError(f"a CSS selector (optionally `@attr`), got {spec!r}: {exc}") from None
    return spec


Selector = Annotated[str | None, Field(default=None)]


class ListSelectors(_Strict):
    entry: str
    scope: Selector = None  # the main column; sidebars repeat the list's markup
    link: Selector = "a@href"
    title: Selector = None
    date: Selector = None
    next: Selector = None
    pages: str | None = None

    _v = field_validator("entry", "scope", "link", "title", "date", "next")(_check_selector)

    @field_validator("pages")
    @classmethod
    def _pages_template(cls, v: str | None) -> str | None:
        if v is not None and "{n}" not in v:
            raise ValueError(f'a page-URL template containing "{{n}}", got {v!r}')
        return v


class DetailSelectors(_Strict):
    title: Selector = None
    body: Selector = None
    date: Selector = None
    department: Selector = None
    attachments: Selector = None

    _v = field_validator("title", "body", "date", "department", "attachments")(_check_selector)


class ColumnMap(_Strict):
    """How a `table` channel's columns map to post fields."""

    title: str
    date: str
    key: str | None = None
    department: str | None = None
    body: str | None = None
    url: str | None = None


class StoreConfig(_Strict):
    url: str = DEFAULT_STORE_URL

    @field_validator("url")
    @classmethod
    def _known_dialect(cls, v: str) -> str:
        if not v.startswith(("sqlite:", "postgresql")):
            raise ValueError(f'"sqlite:///path.db" or "postgresql+psycopg://…", got {v!r}')
        if v.startswith("postgresql://") or v.startswith("postgres://"):
            # psycopg 3 is the driver we ship; spare the admin a driver-name lesson.
            v = "postgresql+psycopg://" + v.split("://", 1)[1]
        return v


class HttpConfig(_Strict):
    user_agent: str = "xxgk-aggregator (+mailto:xxgk@example.edu.cn)"
    timeout: float = Field(default=20.0, gt=0)
    concurrency: int = Field(default=4, ge=1, le=64)
    per_host_interval: float = Field(default=1.0, ge=0)
    retries: int = Field(default=3, ge=0, le=10)  # on connection errors, 429 and 5xx
    max_bytes: int = Field(default=10_000_000, ge=10_000)  # larger responses are refused
    obey_robots: bool = True


class ChannelConfig(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str | None = None
    kind: Literal["html", "procurement", "feed", "wechat", "table"]
    group: str | None = None
    url: str | None = None
    path: str | None = None
    schedule: str = DEFAULT_SCHEDULE
    item: int | None = Field(default=None, ge=1, le=50)
    preset: Literal["vsb", "vsb-legacy", "webplus", "trs", "ccgp"] | None = None
    enabled: bool = True
    hosts: tuple[str, ...] = ()
    since: date | None = None
    list_: ListSelectors | None = Field(default=None, alias="list")
    detail: DetailSelectors | None = None
    columns: ColumnMap | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is not None:
            parts = urlsplit(v)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"an http:// or https:// URL, got {v!r}")
        return v

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str) -> str:
        try:
            CronTrigger.from_crontab(v, timezone=TIMEZONE)
        except ValueError as exc:
            raise ValueError(f'a 5-field cron expression such as "*/30 * * * *", got {v!r} ({exc})')
        return v

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @property
    def group_name(self) -> str:
        return self.group or self.display_name


class RulesConfig(_Strict):
    """The office's own 清单 rules, added to the built-in ones (same name replaces)."""

    file: str | None = None  # a rules TOML file, relative to config.toml
    rule: tuple[dict[str, Any], ...] = ()  # inline [[rules.rule]] tables


class Config(_Strict):
    store: StoreConfig = StoreConfig()
    http: HttpConfig = HttpConfig()
    rules: RulesConfig = RulesConfig()
    channels: tuple[ChannelConfig, ...] = Field(default=(), alias="channel")
    # Where the file was read from; relative paths in it are resolved against it.
    source: Path = Field(default=Path(DEFAULT_CONFIG), exclude=True)

    def channel(self, channel_id: str) -> ChannelConfig:
        for ch in self.channels:
            if ch.id == channel_id:
                return ch
        raise KeyError(channel_id)


def _where(path: Path, raw: dict[str, Any], loc: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """`("channel", 2, "list", "entry")` → (`[[channel]] id="x"`, `("list", "entry")`)."""
    if loc and loc[0] == "channel" and len(loc) > 1 and isinstance(loc[1], int):
        channels = raw.get("channel")
        cid = None
        if isinstance(channels, list) and loc[1] < len(channels) and isinstance(channels[loc[1]], dict):
            cid = channels[loc[1]].get("id")
        label = f'[[channel]] id="{cid}"' if isinstance(cid, str) else f"[[channel]] #{loc[1] + 1}"
        return f"{path}: {label}", loc[2:]
    if loc and isinstance(loc[0], str) and loc[0] in ("store", "http", "rules"):
        return f"{path}: [{loc[0]}]", loc[1:]
    return f"{path}", loc


def _key_name(loc: Iterable[Any]) -> str:
    return ".".join(str(p) for p in loc)


def _expected_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items() if not f.exclude]


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that owns the key at `loc` (for 'expected one of' lists)."""
    shape = tuple("#" if isinstance(p, int) else p for p in loc[:-1])
    return {
        (): Config,
        ("store",): StoreConfig,
        ("http",): HttpConfig,
        ("rules",): RulesConfig,
        ("channel", "#"): ChannelConfig,
        ("channel", "#", "list"): ListSelectors,
        ("channel", "#", "detail"): DetailSelectors,
        ("channel", "#", "columns"): ColumnMap,
    }.get(shape)


def _describe(err: dict[str, Any], path: Path, raw: dict[str, Any]) -> str:
    loc = tuple(err["loc"])
    where, rel = _where(path, raw, loc)
    key = _key_name(rel)
    kind = err["type"]
    if kind == "extra_forbidden":
        owner = _model_at(loc)
        if owner is None:
            return f"{where}: unknown key `{key}`"
        names = _expected_keys(owner)
        close = difflib.get_close_matches(str(loc[-1]), names, n=1)
        hint = f" — did you mean `{close[0]}`?" if close else ""
        return f"{where}: unknown key `{key}`{hint} (expected one of: {', '.join(names)})"
    if kind == "missing":
        return f"{where}: missing required key `{key}`"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = "expected " + msg.removeprefix("Value error, ")
    else:
        msg = f"{msg}, got {err.get('input')!r}"
    return f"{where}: key `{key}`: {msg}" if key else f"{where}: {msg}"


def _cross_checks(cfg: Config, path: Path) -> list[str]:
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, ch in enumerate(cfg.channels, 1):
        where = f'{path}: [[channel]] id="{ch.id}"'
        if ch.id in seen:
            problems.append(f"{where}: duplicate channel id (also channel #{seen[ch.id]}); ids must be unique")
        seen.setdefault(ch.id, i)
        web = ch.kind in ("html", "procurement", "feed")
        if web and not ch.url:
            problems.append(f"{where}: missing required key `url` (a {ch.kind} channel reads a web address)")
        if not web and not ch.path:
            problems.append(f"{where}: missing required key `path` (a {ch.kind} channel reads a file or folder)")
        if ch.kind in ("html", "procurement") and ch.list_ is None and ch.preset is None:
            problems.append(
                f"{where}: missing `[channel.list]` selectors or `preset` "
                f"(one of: {', '.join(PRESETS)}) — the connector must know where the entries are"
            )
        if ch.kind == "table" and ch.columns is None:
            problems.append(f"{where}: missing `[channel.columns]` (a table channel needs at least `title` and `date`)")
        if ch.kind != "table" and ch.columns is not None:
            problems.append(f"{where}: key `columns` applies only to kind = \"table\"")
        if ch.kind in ("wechat", "table") and (ch.list_ or ch.detail or ch.preset):
            problems.append(f"{where}: `list`/`detail`/`preset` apply only to web channels, not kind = \"{ch.kind}\"")
    return problems


def _resolve(cfg: Config, path: Path) -> Config:
    """Relative store and channel paths are relative to the config file."""
    base = path.resolve().parent
    url = os.environ.get("XXGK_STORE_URL") or cfg.store.url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rel = url.removeprefix("sqlite:///")
        if rel and not rel.startswith(":memory:"):
            url = f"sqlite:///{(base / rel).as_posix()}"
    channels = tuple(
        ch.model_copy(update={"path": str((base / ch.path).resolve())}) if ch.path else ch
        for ch in cfg.channels
    )
    rules = cfg.rules
    if rules.file:
        rules = rules.model_copy(update={"file": str((base / rules.file).resolve())})
    return cfg.model_copy(update={"store": StoreConfig(url=url), "channels": channels, "source": path,
                                  "rules": rules})


def classifier_for(cfg: Config) -> Classifier:
    """The built-in rules plus the office's (`[rules]`); problems name the file and rule."""
    files = [Path(cfg.rules.file)] if cfg.rules.file else []
    try:
        return load_classifier(files, cfg.rules.rule)
    except FileNotFoundError as exc:
        raise ConfigError([f"{cfg.source}: [rules]: key `file`: no such file {exc.filename}"]) from None
    except RulesError as exc:
        raise ConfigError(str(exc).splitlines()) from None


def parse_config(text: str, path: Path) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError([_describe(e, path, raw) for e in exc.errors()]) from None
    problems = _cross_checks(cfg, path)
    if problems:
        raise ConfigError(problems)
    resolved = _resolve(cfg, path)
    if resolved.rules.file or resolved.rules.rule:
        classifier_for(resolved)  # refuse to start on a broken rule, like on any other key
    return resolved


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--config PATH`, else `$XXGK_CONFIG`, else `./config.toml`."""
    return Path(explicit or os.environ.get("XXGK_CONFIG") or DEFAULT_CONFIG)


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    path = config_path(explicit)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            [f"{path}: no such config file (give one with --config PATH or XXGK_CONFIG)"]
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"]) from None
    return parse_config(text, path)
