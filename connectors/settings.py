"""What every `[[channel]]` table says, whatever its kind; each kind extends it.

A connector kind declares its settings model next to its code (`HtmlSettings`
in `connectors/html.py`, `TableSettings` in `connectors/table.py`, …) and names
it as its connector's `settings`; `aggregator/config.py` validates each channel
table against the model of its `kind`. A new kind or preset therefore touches
only `connectors/`.

`problems()` holds the checks one field's type cannot express ("a web channel
needs a URL"); the config assembler prefixes each line with the file and the
channel id, so the office fixes everything in one pass.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.http import site_host
from connectors.messages import missing_key, not_a_url

DEFAULT_SCHEDULE = "0 * * * *"  # hourly


class Strict(BaseModel):
    """Unknown keys are refused (a misspelt key must never be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ChannelSettings(Strict):
    """The keys every channel kind shares (docs/config.md)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str | None = None
    kind: str
    group: str | None = None
    url: str | None = None
    path: str | None = None
    schedule: str = DEFAULT_SCHEDULE  # cron, Asia/Shanghai; checked by the config assembler (the scheduler's parser)
    item: int | None = Field(default=None, ge=1, le=50)
    enabled: bool = True
    hosts: tuple[str, ...] = ()
    since: date | None = None
    # Days without a new post after which the channel counts as stale (default per kind).
    expect_new_within: int | None = Field(default=None, ge=1, le=3650)
    # What to do with a post's attachments: "index" keeps a copy and makes its text searchable,
    # "list" keeps a copy only, "off" records the links the page gives and fetches nothing.
    attachments: Literal["index", "list", "off"] = "index"

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is not None:
            parts = urlsplit(v)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(not_a_url(v))
        return v

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @property
    def group_name(self) -> str:
        return self.group or self.display_name

    @property
    def allowed_hosts(self) -> list[str]:
        """The hosts this channel's fetcher may read: its URL's host (with a non-default port) and `hosts`."""
        return [site_host(self.url), *self.hosts] if self.url else list(self.hosts)

    @property
    def source(self) -> str | None:
        """Where the channel reads from: its URL or its file/folder."""
        return self.url or self.path

    def problems(self) -> list[str]:
        """Checks across keys; one readable line each (without the file/channel prefix)."""
        return []


class WebSettings(ChannelSettings):
    """A channel read over HTTP: it needs a URL."""

    def problems(self) -> list[str]:
        if not self.url:
            return [missing_key("url", f"（{self.kind} 渠道读取一个网址）")]
        return []


class FileSettings(ChannelSettings):
    """A channel read from a file or folder: it needs a path (relative to config.toml)."""

    def problems(self) -> list[str]:
        if not self.path:
            return [missing_key("path", f"（{self.kind} 渠道读取一个文件或文件夹，相对于 config.toml）")]
        return []
