"""Channel connectors: one module per channel kind, each yielding `RawPost`s.

`REGISTRY` maps each channel kind of the config (docs/config.md) to its connector
class; each class names its settings model (`settings`), which is what the
config assembler validates that kind's `[[channel]]` tables against.
"""

from collections.abc import Mapping

from connectors.base import (
    Attachment,
    ChannelError,
    ChannelState,
    Checkpoint,
    Connector,
    FetchContext,
    Item,
    RawPost,
    Skipped,
)
from connectors.settings import ChannelSettings

REGISTRY: dict[str, type[Connector]] = {}


def _register() -> None:
    # Imported here, after the base names, so connector modules may import them.
    from connectors.feed import FeedConnector
    from connectors.html import HtmlConnector
    from connectors.procurement import ProcurementConnector
    from connectors.table import TableConnector
    from connectors.wechat import WechatConnector

    kinds: tuple[type[Connector], ...] = (HtmlConnector, ProcurementConnector, FeedConnector, WechatConnector,
                                          TableConnector)
    for connector in kinds:
        REGISTRY[connector.kind] = connector


_register()


def settings_for(kind: str) -> type[ChannelSettings] | None:
    """The settings model of a channel kind (None for a kind no connector reads)."""
    connector = REGISTRY.get(kind)
    return connector.settings if connector is not None else None


def connector_for(kind: str, registry: Mapping[str, type[Connector]] | None = None) -> Connector:
    """The connector for a channel kind, or a `ChannelError` saying it is missing."""
    registry = REGISTRY if registry is None else registry
    try:
        return registry[kind]()
    except KeyError:
        raise ChannelError(
            f"channel kind `{kind}` has no connector in this version of xxgk "
            f"(implemented: {', '.join(sorted(registry)) or 'none yet'}); "
            "disable the channel with `enabled = false` until it does"
        ) from None


__all__ = [
    "REGISTRY",
    "Attachment",
    "ChannelError",
    "ChannelSettings",
    "ChannelState",
    "Checkpoint",
    "Connector",
    "FetchContext",
    "Item",
    "RawPost",
    "Skipped",
    "connector_for",
    "settings_for",
]
