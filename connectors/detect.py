"""Finding a list page's entries without being told where they are.

Used by `xxgk probe` (onboarding a column in one command) and by the html
connector when a configured list selector matches nothing (a redesign that
moved the list). The idea is feedless's: score groups of sibling elements that
each hold a link, and keep the best — adapted to Chinese lists: titles are
measured in characters, not space-separated words, and dates are read from
the text beside each link, not only from `<time>`. CMS fingerprints (VSB,
WebPlus, TRS, ccgp) choose a preset, whose selectors are kept when they
already find the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from connectors.dates import MonthDay, parse_date
from connectors.dom import Element, in_sidebar, node_text, select_node, select_value

# Markers each CMS leaves in its pages (docs/sites.md), strongest first.
FINGERPRINTS: dict[str, tuple[str, ...]] = {
    "vsb-legacy": ('class="winstyle', "class=\"timestyle"),
    "vsb": ("_showDynClickBatch", "pb_sys_common", 'frag="窗口', "vsb_content", "/system/resource/", "line_u"),
    "webplus": ("wp_article_list", "wp_paging", "list.psp", "_sitegray", "Article_PublishDate"),
    "trs": ("createPageHTML", "TRS_Editor", "trs_", "Custom_UnionStyle"),
    "ccgp": ("c_list_bid", "ccgp.gov.cn", "vF_detail"),
}
_ENTRY_TAGS = ("li", "tr", "dd", "div", "p", "article", "section")
_NEXT_WORDS = ("下一页", "下页", "后页", "Next", "next", "›", "»")
_NOT_ENTRY = ("nav", "header", "footer", "aside")


def fingerprint(text: str) -> str | None:
    """The CMS a page comes from, by the markers it leaves (None when none is recognised).

    >>> fingerprint('<div class="pb_sys_common pb_sys_normal">')
    'vsb'
    """
    for cms, marks in FINGERPRINTS.items():
        if any(m in text for m in marks):
            return cms
    return None


@dataclass(frozen=True, slots=True)
class DetectedList:
    """A list found by its shape: selectors in the config's language, and how sure."""

    entry: str
    title: str | None  # `a@title` when the anchors carry whole titles
    date: str | None  # None: the date is read from the entry's text beside the link
    next: str | None
    entries: int
    dated: int

    def as_config(self) -> dict[str, str]:
        out = {"entry": self.entry, "link": "a@href"}
        if self.title:
            out["title"] = self.title
        if self.date:
            out["date"] = self.date
        if self.next:
            out["next"] = self.next
        return out


def _css_class(el: Element) -> str:
    classes = [c for c in (el.get("class") or "").split()
               if c.isascii() and c.replace("-", "").replace("_", "").isalnum()]
    return "." + classes[0] if classes else ""


def _css_for(el: Element) -> str:
    """A short CSS path to `el`: its nearest ancestor with an id or class, then tags down."""
    parts: list[str] = []
    node: Element | None = el
    while node is not None and isinstance(node.tag, str) and node.tag not in ("html", "body"):
        ident = node.get("id")
        if ident and ident.isascii() and not any(ch.isdigit() for ch in ident[-3:]):
            parts.append(f"{node.tag}#{ident}")
            break
        cls = _css_class(node)
        parts.append(node.tag + cls)
        if cls and len(parts) >= 2:
            break
        node = node.getparent()
    return " > ".join(reversed(parts))


def _entry_of(a: Element, stop: Element) -> Element | None:
    """The repeated element an anchor belongs to: its nearest ancestor (or itself) among
    siblings of the same tag."""
    node: Element | None = a
    while node is not None and node is not stop:
        parent = node.getparent()
        if parent is None:
            return None
        if node.tag in _ENTRY_TAGS or node.tag == "a":
            same = [c for c in parent if c.tag == node.tag]
            if len(same) >= 3:
                return node
        node = parent
    return None


def _date_in(text: str) -> bool:
    found = parse_date(text)
    return isinstance(found, (datetime, date, MonthDay))


def detect_list(root: Element) -> DetectedList | None:
    """The page's main list: the group of ≥3 sibling entries with links that scores best
    (entries × (1 + dated share) × title length in characters), outside sidebars and nav."""
    groups: dict[tuple[int, str, str], list[Element]] = {}
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        if any(p.tag in _NOT_ENTRY for p in a.iterancestors()) or in_sidebar(a):
            continue
        entry = _entry_of(a, root)
        if entry is None:
            continue
        parent = entry.getparent()
        key = (id(parent), entry.tag, _css_class(entry))
        members = groups.setdefault(key, [])
        if not any(m is entry for m in members):
            members.append(entry)
    best: tuple[float, list[Element]] | None = None
    for members in groups.values():
        if len(members) < 3:
            continue
        titles = [_anchor_title(m) for m in members]
        mean_chars = sum(len(t) for t in titles) / len(titles)
        if mean_chars < 6:
            continue  # menus and pagers: short words
        dated = sum(_date_in(node_text(m).replace(t, " ")) for m, t in zip(members, titles, strict=True))
        score = len(members) * (1 + dated / len(members)) * min(mean_chars, 40)
        if best is None or score > best[0]:
            best = (score, members)
    if best is None:
        return None
    members = best[1]
    first = members[0]
    parent = first.getparent()
    assert parent is not None
    entry_css = f"{_css_for(parent)} > {first.tag}{_css_class(first)}"
    anchors = [m if m.tag == "a" else next(m.iter("a"), None) for m in members]
    with_title = sum(1 for a in anchors if a is not None and (a.get("title") or "").strip())
    dated = sum(_date_in(node_text(m).replace(_anchor_title(m), " ")) for m in members)
    return DetectedList(
        entry=entry_css,
        title="a@title" if with_title >= 0.8 * len(members) else None,
        date=_date_selector(members),
        next=_next_selector(root),
        entries=len(members),
        dated=dated,
    )


def _anchor_title(entry: Element) -> str:
    a = entry if entry.tag == "a" else next(entry.iter("a"), None)
    if a is None:
        return ""
    return (a.get("title") or "").strip() or node_text(a)


def _date_selector(members: list[Element]) -> str | None:
    """A child selector that holds each entry's date on its own (`span.date`, `em`), or None
    when the date is spread over several elements or sits beside the link as bare text."""
    votes: dict[str, int] = {}
    for m in members:
        for el in m.iter():
            if el is m or not isinstance(el.tag, str) or el.tag == "a":
                continue
            if _date_in(node_text(el)) and len(node_text(el)) <= 25:
                for css in (el.tag + _css_class(el), f"{el.tag}:last-child"):
                    votes[css] = votes.get(css, 0) + 1
                break
    # A selector is kept only if its *first* match in each entry is the date (a bare `td`
    # would read the title's cell first).
    for css, _n in sorted(votes.items(), key=lambda kv: -kv[1]):
        if sum(_date_in(select_value(m, css) or "") for m in members) >= 0.8 * len(members):
            return css
    return None


def _next_selector(root: Element) -> str | None:
    for a in root.iter("a"):
        text = node_text(a)
        if text in _NEXT_WORDS or text.startswith(("下一页", "下页")):
            return "a:-soup-contains('下一页')@href, a:-soup-contains('下页')@href"
    return None


_TEXT_TAGS = ("p", "td", "li", "span", "font", "div", "section", "article", "pre", "blockquote")


def detect_body(root: Element) -> str | None:
    """A CSS selector for the article text of a detail page the generic selectors miss: the element
    under which most paragraph text (not link text) gathers, outside sidebars and navigation
    (Readability's idea, measured in characters). None when no block holds 100 characters."""
    scores: dict[int, float] = {}
    nodes: dict[int, Element] = {}
    for el in root.iter("p", "br", "td", "li", "div", "span", "font"):
        if not isinstance(el.tag, str) or any(p.tag in _NOT_ENTRY for p in el.iterancestors()) or in_sidebar(el):
            continue
        own = "".join(el.xpath("text()")).strip()
        if el.tag == "p" or len(own) >= 20:
            weight = float(len(node_text(el)) if el.tag == "p" else len(own))
            links = sum(len(node_text(a)) for a in el.iter("a"))
            weight -= links
            parent = el.getparent()
            for up, share in ((parent, 1.0), (parent.getparent() if parent is not None else None, 0.5)):
                if up is not None and up.tag in _TEXT_TAGS + ("form",):
                    scores[id(up)] = scores.get(id(up), 0.0) + weight * share
                    nodes[id(up)] = up
    if not scores:
        return None
    best_id = max(scores, key=lambda k: scores[k])
    if scores[best_id] < 100:
        return None
    best = nodes[best_id]
    css = _css_for(best)
    return css if select_node(root, css) is best else None
