"""The Atom feed of a search: any search the office saved, read in any feed reader."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from aggregator.clock import iso_local, local_now

ATOM = "http://www.w3.org/2005/Atom"


def atom_feed(rows: Sequence[Mapping[str, Any]], *, base: str, params: Mapping[str, Any],
              names: Mapping[str, str]) -> str:
    """The feed document: one entry per found post, newest first, linking to the post's own page
    (`base` is the site's address, `params` the search's, `names` the channels' names)."""
    now = iso_local(local_now())
    root = ET.Element("feed", xmlns=ATOM)
    ET.SubElement(root, "title").text = f"信息公开聚合：{params.get('q') or '全部'}"
    ET.SubElement(root, "id").text = f"{base}/feed.atom?{urlencode(params)}"
    ET.SubElement(root, "updated").text = now
    ET.SubElement(root, "link", href=f"{base}/?{urlencode(params)}")
    for r in rows:
        entry = ET.SubElement(root, "entry")
        ET.SubElement(entry, "title").text = r["title"]
        ET.SubElement(entry, "id").text = f"{base}/posts/{r['id']}"
        ET.SubElement(entry, "link", href=f"{base}/posts/{r['id']}")
        ET.SubElement(entry, "updated").text = iso_local(r["published_at"]) or now
        author = ET.SubElement(entry, "author")
        ET.SubElement(author, "name").text = names.get(r["channel_id"], r["channel_id"])
    body = ET.tostring(root, encoding="unicode", xml_declaration=False)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body
