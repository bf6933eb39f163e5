"""Channel connectors: one module per channel kind, each yielding `RawPost`s.

`REGISTRY` maps each channel kind of the config (DESIGN.md) to its connector class.
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

REGISTRY: dict[str, type[Connector]] = {}


def _register() -> None:
    # Imported here, after the base names, so connector modules may import them.
    from connectors.feed import FeedConnector
    from connectors.html import HtmlConnector
    from connectors.procurement import ProcurementConnector
    from connectors.table import TableConnector
    from connectors.wechat import WechatConnector

    REGISTRY.update({"html": HtmlConnector, "procurement": ProcurementConnector, "feed": FeedConnector,
                     "wechat": WechatConnector, "table": TableConnector})


_register()


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
    "ChannelState",
    "Checkpoint",
    "Connector",
    "FetchContext",
    "Item",
    "RawPost",
    "Skipped",
    "connector_for",
]
