"""The page-tree helpers list detection and the html connector share (a module below both, so
neither imports the other): selectors run against a tree, a node's text, and whether a node sits
in a sidebar, menu, header or footer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TypeAlias

import lxml.html

from connectors.select import compile_spec

Element: TypeAlias = lxml.html.HtmlElement

SIDEBAR_TAGS = ("aside", "nav", "header", "footer")
# "side", "sidebar", "leftside", "right_side" — but not "inside" (`insideCon` is a common main column).
_SIDE_NAME = re.compile(r"(?<!in)side", re.I)


def node_text(node: Element) -> str:
    """A node's text, whitespace folded."""
    return " ".join(node.text_content().split())


def candidates(root: Element, spec: str) -> Iterator[tuple[Element, str | None]]:
    """The nodes a selector spec (`a, b@attr`) matches, each with the attribute it names."""
    for xpath, attr in compile_spec(spec):
        if xpath is None:
            yield root, attr
        else:
            for node in xpath(root):
                yield node, attr


def select_value(root: Element, spec: str | None) -> str | None:
    """The first alternative of `spec` that yields non-empty text or attribute."""
    if not spec:
        return None
    for node, attr in candidates(root, spec):
        value = node.get(attr) if attr else node_text(node)
        if value and value.strip():
            return value.strip()
    return None


def select_node(root: Element, spec: str | None) -> Element | None:
    if not spec:
        return None
    return next((node for node, _ in candidates(root, spec)), None)


def in_sidebar(node: Element) -> bool:
    """Whether the node sits in an aside/nav/header/footer, or a block named like a side column."""
    for parent in node.iterancestors():
        if parent.tag in SIDEBAR_TAGS:
            return True
        if _SIDE_NAME.search(f"{parent.get('class', '')} {parent.get('id', '')}"):
            return True
    return False
