"""A list found from its URL alone: the selectors a bare-URL channel syncs with and `xxgk probe`
proposes, tried against the page before anyone relies on them.

`discover` reads page 1, ranks the candidate lists (`connectors.detect`), fetches one more page
of the site — page 2 when the pager names it, else the best candidate's first link — to set
aside what repeats there (menus, same-template sidebars, footers), then checks the CMS's preset
against the page: a preset is used only when it reads the list the shape found. Whatever it
proposes it has run: the entries it reports are what `list_entries` reads with those selectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import connectors.messages as msg
from connectors.detect import Group, describe, detect_pager, fingerprint, mark_chrome, ranked_groups, unique_css
from connectors.dom import Element, candidates
from connectors.http import Page
from connectors.listpage import column_name, is_json, list_count, list_entries, next_page, parse_html, read_entries
from connectors.listwalk import Entry
from connectors.presets import PRESETS, Selectors, selectors_from

# What a discovery records (the channel state's `auto`, `channels --json`'s `detected`).
LIST_KEYS = ("entry", "scope", "link", "title", "date", "next", "pages")


@dataclass(slots=True)
class Discovery:
    """The selectors found for a list page, the entries they read there, and what was noticed."""

    cms: str | None
    preset: str | None  # a preset the page confirmed; its selectors read the list
    selectors: dict[str, str]  # `[channel.list]` keys found by shape (empty when the preset reads it)
    entries: list[Entry]
    page2: str | None = None
    second: list[Entry] | None = None  # what the selectors read on page 2 (None: no page 2 was read)
    notes: list[str] = field(default_factory=list)
    name: str | None = None  # the column's name as the page states it (breadcrumb, `<title>`)

    def as_record(self) -> dict[str, Any]:
        return {"preset": self.preset, **self.selectors, "entries": len(self.entries), "cms": self.cms,
                "name": self.name}

    def config(self) -> dict[str, Any]:
        """The `[[channel]]` keys that make a channel read what this found (`preset`, `[channel.list]`)."""
        out: dict[str, Any] = {}
        if self.preset:
            out["preset"] = self.preset
        if self.selectors:
            out["list"] = dict(self.selectors)
        return out


def discover(page: Page, fetch: Callable[[str], Page | None]) -> Discovery | None:
    """The list on `page` (None when it holds no list of three or more entries). `fetch` reads one
    more page of the site (None when it cannot)."""
    root = parse_html(page.text)
    cms = fingerprint(page.text)
    count = list_count(root, page.text)
    groups = ranked_groups(root, page.url)
    if not groups:
        return None
    nxt, template, page2 = detect_pager(root, page.text, page.url, count.pages)
    host = urlsplit(page.url).netloc
    links = [*groups[0].links, *(urljoin(page.url, a.get("href", "")) for a in root.iter("a"))]
    same_site = [u for u in links if urlsplit(u).netloc == host and urlsplit(u).scheme in ("http", "https")
                 and u.split("#")[0] != page.url]
    first_link = same_site[0] if same_site else None
    other_url = page2 or first_link
    other = fetch(other_url) if other_url else None
    second = other
    if other is not None and is_json(other) and first_link:  # a JSON page 2 shows no chrome: a detail page does
        other = fetch(first_link)
    other_root = parse_html(other.text) if other is not None and other.status == 200 else None
    if other_root is not None and other is not None:
        mark_chrome(groups, other_root, other.url)
        groups.sort(key=lambda g: -g.score)
    best = groups[0]
    if best.chrome:
        return None  # every candidate repeats on another page: menus and links, no list
    notes = [msg.chrome_set_aside(g.shape, len(g.members)) for g in groups if g.chrome][:3]
    found = describe(best, root, (nxt, template))
    shape_sel = {k: v for k, v in found.as_config().items() if v}
    preset = _confirmed_preset(cms, root, page.url, best.links)
    chosen = selectors_from(preset, None) if preset else selectors_from(None, shape_sel)
    if preset:
        notes.append(msg.preset_confirmed(preset, len(best.links)))
        shape_sel = _scope(root, preset, best)
        if not chosen.next and not chosen.pages and (nxt or template):
            shape_sel.update({k: v for k, v in (("next", nxt), ("pages", template)) if v})
        chosen = selectors_from(preset, shape_sel)
    elif cms in PRESETS:
        notes.append(msg.preset_unconfirmed(cms))
    entries = list_entries(root, page.url, chosen)
    result = Discovery(cms, preset, shape_sel, entries, notes=notes, name=column_name(root))
    if count.pages not in (None, 1) and not (chosen.next or chosen.pages):
        notes.append(msg.pager_not_found(count.pages))
    _check_page_two(result, root, page, chosen, second if other_url == page2 else None, count.pages, count.total)
    return result


def _confirmed_preset(cms: str | None, root: Element, url: str, links: list[str]) -> str | None:
    """The CMS's preset, when it reads (at least 80 % of) the list the shape found."""
    if cms not in PRESETS:
        return None
    sel = selectors_from(cms, None)
    read = {e.url for e in list_entries(root, url, sel)} if sel.entry else set()
    return cms if len(read) >= 3 and sum(u in read for u in links) >= 0.8 * len(links) else None


def _scope(root: Element, preset: str, best: Group) -> dict[str, str]:
    """`{"scope": …}` when the preset's selector also matches entries outside the list (a 热点 block
    built from the same template): the widest block around the list that holds none of them."""
    members = {id(m) for m in best.members}
    sel = selectors_from(preset, None)
    foreign = [n for n, _ in candidates(root, sel.entry) if id(n) not in members]
    if not foreign:
        return {}
    container = best.members[0].getparent()
    scope: Element | None = None
    node = container.getparent() if container is not None else None
    while node is not None and node.tag not in ("body", "html"):
        if any(f in node.iterdescendants() for f in foreign):
            break
        scope, node = node, node.getparent()
    if scope is None:
        return {}
    return {"scope": unique_css(scope, root)}


def _check_page_two(result: Discovery, root: Element, page: Page, sel: Selectors, second: Page | None,
                    pages: int | None, total: int | None) -> None:
    """Run the selectors' pager: page 2 must be a list the same selectors read."""
    result.page2 = next_page(root, page, page.url, sel, 1, pages, size=len(result.entries), total=total)
    if result.page2 is None or second is None or second.url.split("#")[0] != result.page2.split("#")[0]:
        return
    result.second = read_entries(second, sel) if second.status == 200 else []
    if not result.second:
        result.notes.append(msg.page_two_unread(result.page2))
