"""Load and validate `config.toml` (the schema: docs/config.md).

Every problem in a file is reported at once, one line each, naming the file,
the `[[channel]]` id, the key and what was expected — an office admin edits
this file by hand and should fix it in one pass.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from aggregator.qingdan.classify import Classifier, RulesError, load_classifier
from aggregator.qingdan.model import TitleModel
from connectors import REGISTRY, messages, settings_for
from connectors.settings import ChannelSettings, Strict

TIMEZONE = "Asia/Shanghai"
DEFAULT_CONFIG = "config.toml"
DEFAULT_STORE_URL = "sqlite:///data/xxgk.db"

# A channel of any kind, as the faces see it; its own kind's model (connectors/) has the rest.
ChannelConfig = ChannelSettings


class ConfigError(Exception):
    """The config cannot be used; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class StoreConfig(Strict):
    url: str = DEFAULT_STORE_URL

    @field_validator("url")
    @classmethod
    def _known_dialect(cls, v: str) -> str:
        if not v.startswith(("sqlite:", "postgresql")):
            raise ValueError(f'应为 "sqlite:///路径.db" 或 "postgresql+psycopg://…"，实际为 {v!r}')
        if v.startswith("postgresql://") or v.startswith("postgres://"):
            # psycopg 3 is the driver we ship; spare the admin a driver-name lesson.
            v = "postgresql+psycopg://" + v.split("://", 1)[1]
        return v


class HttpConfig(Strict):
    user_agent: str = "xxgk-aggregator (+mailto:xxgk@example.edu.cn)"
    timeout: float = Field(default=20.0, gt=0)
    concurrency: int = Field(default=4, ge=1, le=64)
    per_host_interval: float = Field(default=1.0, ge=0)
    retries: int = Field(default=3, ge=0, le=10)  # on connection errors, 429 and 5xx
    max_bytes: int = Field(default=10_000_000, ge=10_000)  # larger responses are refused
    obey_robots: bool = True


def check_cron(expression: str) -> str | None:
    """Why `expression` is not a schedule the scheduler can run (None when it is)."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression, timezone=TIMEZONE)
    except ValueError as exc:
        return messages.not_a_cron(expression, exc)
    return None


class RulesConfig(Strict):
    """The office's own 清单 rules, added to the built-in ones (same name replaces)."""

    file: str | None = None  # a rules TOML file, relative to config.toml
    rule: tuple[dict[str, Any], ...] = ()  # inline [[rules.rule]] tables


class NotifyConfig(Strict):
    """`[notify]`: where health alerts and the weekly digest go (Apprise notification URLs)."""

    urls: tuple[str, ...] = ()  # "json://host/hook", "wecombot://…", "dingtalk://…", "mailtos://…"
    digest: str = "0 9 * * MON"  # cron, Asia/Shanghai; "" = no digest

    @field_validator("digest")
    @classmethod
    def _cron(cls, v: str) -> str:
        problem = check_cron(v) if v else None
        if problem:
            raise ValueError(problem)
        return v


class ServiceConfig(Strict):
    """`[service]`: how `xxgk serve` / `xxgk worker` schedule syncs."""

    tick: float = Field(default=30.0, ge=0.1, le=3600)  # seconds between looks for due channels
    workers: int = Field(default=2, ge=1, le=32)  # channels one process syncs at once
    jitter: int = Field(default=120, ge=0, le=3600)  # seconds: channels due together start spread out
    lease: float = Field(default=60.0, ge=1, le=3600)  # seconds a killed process keeps its channels locked
    backoff: float = Field(default=300.0, ge=1, le=86400)  # seconds before a failed channel's first retry (doubling)
    export_dir: str = "exports/monthly"  # last month's statistics land here on the 1st (relative to config.toml)


class AttachmentsConfig(Strict):
    """`[attachments]`: where kept attachments live and the limits on fetching and reading them."""

    dir: str = "attachments"  # content-addressed copies (relative to config.toml)
    max_bytes: int = Field(default=50_000_000, ge=10_000)  # larger attachments are refused, never read whole
    extract_seconds: float = Field(default=60.0, gt=0, le=3600)  # time cap per document's text extraction
    index_chars: int = Field(default=500_000, ge=1000)  # attachment text a post is searchable by (per post)


class ComplianceConfig(Strict):
    """`[compliance]`: the office's own disclosure-deadline rules over the shipped ones (same id replaces)."""

    rules: str | None = None  # a TOML file of [[rule]] tables, relative to config.toml


class ReportConfig(Strict):
    """`[report]`: what only the office knows, for the annual report's draft."""

    facts: str | None = None  # a CSV/XLSX of 学年, 部分, 内容 rows (relative to config.toml)
    school: str = ""  # the school's name, for the report's title


class WebConfig(Strict):
    """`[web]`: who may read the pages (writes always need an account: editors tag, admins the rest)."""

    login_required: bool = False  # true: reading needs a signed-in account too (off the intranet)
    login_attempts: int = Field(default=5, ge=1, le=100)  # failed sign-ins (per account, per address) before a wait


class Config(Strict):
    store: StoreConfig = StoreConfig()
    attachments: AttachmentsConfig = AttachmentsConfig()
    http: HttpConfig = HttpConfig()
    rules: RulesConfig = RulesConfig()
    notify: NotifyConfig = NotifyConfig()
    service: ServiceConfig = ServiceConfig()
    web: WebConfig = WebConfig()
    compliance: ComplianceConfig = ComplianceConfig()
    report: ReportConfig = ReportConfig()
    # Validated one by one against each kind's own model (parse_config), not by this model.
    channels: tuple[ChannelSettings, ...] = Field(default=(), exclude=True)
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
        return _channel_where(path, loc[1], cid), loc[2:]
    sections = ("store", "http", "rules", "notify", "service", "attachments", "web", "compliance", "report")
    if loc and isinstance(loc[0], str) and loc[0] in sections:
        return f"{path}: [{loc[0]}]", loc[1:]
    return f"{path}", loc


def _channel_where(path: Path, index: int, channel_id: object) -> str:
    label = f'[[channel]] id="{channel_id}"' if isinstance(channel_id, str) else f"[[channel]] #{index + 1}"
    return f"{path}: {label}"


def _key_name(loc: Iterable[Any]) -> str:
    return ".".join(str(p) for p in loc)


def _expected_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items() if not f.exclude]


def _model_at(loc: tuple[Any, ...], channel_model: type[BaseModel] | None) -> type[BaseModel] | None:
    """The model that owns the key at `loc` (for 'expected one of' lists)."""
    shape = tuple("#" if isinstance(p, int) else p for p in loc[:-1])
    top: dict[tuple[Any, ...], type[BaseModel]] = {(): Config, ("store",): StoreConfig, ("http",): HttpConfig,
                                                   ("rules",): RulesConfig, ("notify",): NotifyConfig,
                                                   ("service",): ServiceConfig, ("web",): WebConfig,
                                                   ("compliance",): ComplianceConfig, ("report",): ReportConfig,
                                                   ("attachments",): AttachmentsConfig}
    if shape in top:
        return top[shape]
    if channel_model is None or shape[:2] != ("channel", "#"):
        return None
    model: type[BaseModel] | None = channel_model
    for part in shape[2:]:  # down nested tables: list → ListSelectors, columns → ColumnMap
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None) if model else None
        inner = _model_of(field.annotation) if field else None
        model = inner
    return model


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """`ListSelectors | None` → ListSelectors."""
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _describe(err: Any, path: Path, raw: dict[str, Any], channel_model: type[BaseModel] | None = None) -> str:
    loc = tuple(err["loc"])
    where, rel = _where(path, raw, loc)
    key = _key_name(rel)
    kind = err["type"]
    if kind == "extra_forbidden":
        owner = _model_at(loc, channel_model)
        if owner is None:
            return f"{where}: {messages.unknown_key(key, None, [])}".removesuffix("（可用的键：）")
        names = _expected_keys(owner)
        close = difflib.get_close_matches(str(loc[-1]), names, n=1)
        return f"{where}: {messages.unknown_key(key, close[0] if close else None, names)}"
    if kind == "missing":
        return f"{where}: {messages.missing_key(key)}"
    return f"{where}: {messages.key_problem(key, messages.config_value(err))}"


def _validate_channels(raw: dict[str, Any], path: Path) -> tuple[list[ChannelSettings], list[str]]:
    """Each `[[channel]]` table against its own kind's model; every problem of every channel."""
    tables = raw.get("channel", [])
    if not isinstance(tables, list):
        return [], [f"{path}: `channel` 应写成 [[channel]] 表"]
    channels: list[ChannelSettings] = []
    problems: list[str] = []
    for i, table in enumerate(tables):
        if not isinstance(table, dict):
            problems.append(f"{path}: [[channel]] #{i + 1}: 应是一个表")
            continue
        where = _channel_where(path, i, table.get("id"))
        kind = table.get("kind")
        model = settings_for(kind) if isinstance(kind, str) else None
        kinds = ", ".join(REGISTRY)
        if model is None:
            problems.append(f"{where}: {messages.missing_key('kind', f'（可选：{kinds}）')}" if kind is None
                            else f"{where}: {messages.key_problem('kind', f'应为以下之一：{kinds}，实际为 {kind!r}')}")
            model = ChannelSettings  # still report the keys every kind shares
        schedule = table.get("schedule")
        cron = check_cron(schedule) if isinstance(schedule, str) else None
        if cron:
            problems.append(f"{where}: {messages.key_problem('schedule', cron)}")
        try:
            channel = model.model_validate(table if model is not ChannelSettings else
                                           {k: v for k, v in table.items() if k in ChannelSettings.model_fields})
        except ValidationError as exc:
            problems.extend(_describe({**e, "loc": ("channel", i, *e["loc"])}, path, raw, model) for e in exc.errors())
            continue
        if model is not ChannelSettings:
            problems.extend(f"{where}: {p}" for p in channel.problems())
            channels.append(channel)
    return channels, problems


def _duplicates(channels: Iterable[ChannelSettings], path: Path) -> list[str]:
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, ch in enumerate(channels, 1):
        if ch.id in seen:
            problems.append(f'{path}: [[channel]] id="{ch.id}": 渠道 id 重复（第 {seen[ch.id]} 个渠道也用了它）；'
                            "每个渠道的 id 必须不同")
        seen.setdefault(ch.id, i)
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
    service = cfg.service.model_copy(update={"export_dir": str((base / cfg.service.export_dir).resolve())})
    report = cfg.report
    if report.facts:
        report = report.model_copy(update={"facts": str((base / report.facts).resolve())})
    compliance = cfg.compliance
    if compliance.rules:
        compliance = compliance.model_copy(update={"rules": str((base / compliance.rules).resolve())})
    kept = os.environ.get("XXGK_ATTACHMENTS_DIR") or base / cfg.attachments.dir
    attachments = cfg.attachments.model_copy(update={"dir": str(Path(kept).resolve())})
    return cfg.model_copy(update={"store": StoreConfig(url=url), "channels": channels, "source": path,
                                  "rules": rules, "service": service, "attachments": attachments,
                                  "compliance": compliance, "report": report})


def classifier_for(cfg: Config, model: TitleModel | None = None) -> Classifier:
    """The built-in rules plus the office's (`[rules]`), with `model` as the learned second
    opinion (None: rules only); problems name the file and rule."""
    files = [Path(cfg.rules.file)] if cfg.rules.file else []
    try:
        return load_classifier(files, cfg.rules.rule, model)
    except FileNotFoundError as exc:
        raise ConfigError([f"{cfg.source}: [rules]: 键 `file`：文件不存在：{exc.filename}"]) from None
    except RulesError as exc:
        raise ConfigError(str(exc).splitlines()) from None


def parse_config(text: str, path: Path) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: 不是合法的 TOML（{exc}）：请按提示的行列改正"]) from None
    problems: list[str] = []
    if "channels" in raw:
        problems.append(f"{path}: {messages.unknown_key('channels', '[[channel]]', [])}".removesuffix("（可用的键：）"))
    try:
        cfg = Config.model_validate({k: v for k, v in raw.items() if k not in ("channel", "channels")})
    except ValidationError as exc:
        problems.extend(_describe(e, path, raw) for e in exc.errors())
    channels, channel_problems = _validate_channels(raw, path)
    problems += channel_problems + _duplicates(channels, path)
    if problems:
        raise ConfigError(problems)
    resolved = _resolve(cfg.model_copy(update={"channels": tuple(channels)}), path)
    if resolved.rules.file or resolved.rules.rule:
        classifier_for(resolved)  # refuse to start on a broken rule, like on any other key
    if resolved.compliance.rules:
        from aggregator.compliance.rules import RuleError, load_rules

        try:
            load_rules(Path(resolved.compliance.rules))
        except RuleError as exc:
            raise ConfigError([f"{path}: [compliance]: key `rules`: {exc}"]) from None
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
            [f"{path}: 配置文件不存在（用 --config 或环境变量 XXGK_CONFIG 指定；可先运行 xxgk demo 看示例配置）"]
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"]) from None
    return parse_config(text, path)
