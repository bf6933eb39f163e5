"""`xxgk report --check FILE|URL`: read a finished 信息公开年度报告 — DOCX, PDF, HTML (the report
inline, or the page linking it as an attachment), plain text — and say what it holds: its
period, which of the seven parts it has, every figure it states, the links it gives and whether
they answer. The office runs it on its own draft before publishing; a province on anyone's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from aggregator.compliance.annual_report import ReportCheck, read
from aggregator.config import Config

MAX_LINKS = 30  # links tried per report (each with a short timeout)
MAX_CHARS = 2_000_000


class ReportUnreadable(ValueError):
    """The file or page could not be read (the message says what and why)."""


def _html_text(raw: bytes) -> tuple[str, list[tuple[str, str]]]:
    """A page's text and its links (href, text)."""
    import lxml.html

    root = lxml.html.document_fromstring(_decode(raw))
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    links = [(a.get("href") or "", a.text_content().strip()) for a in root.iter("a")]
    blocks = []
    for el in root.iter("h1", "h2", "h3", "h4", "p", "li", "div", "td", "br"):
        if el.tag == "div" and len(el):
            continue  # a container: its children give the lines
        text = el.text_content().strip()
        if text:
            blocks.append(text)
    return "\n".join(blocks), links


def _decode(raw: bytes) -> str:
    """A page's text: as its <meta> charset says when that is a GB one, else UTF-8, else GB18030."""
    head = raw[:2048].lower()
    if b"charset=gb" in head or b'charset="gb' in head:
        return raw.decode("gb18030", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def _file_text(path: Path, name: str, base: str | None = None) -> tuple[str, list[str], list[str]]:
    """A document's text, the hyperlinks it carries (a page's anchors, resolved against `base`, the
    page's address; DOCX relationships) besides URLs written in the text, and — for a page — the
    PDF/DOCX documents it links (where a page that only announces its report keeps it)."""
    from urllib.parse import urljoin

    from aggregator.attachments.extract import extract
    from aggregator.attachments.names import kind_of

    kind = kind_of(path, name)
    if _looks_html(path):
        text, anchors = _html_text(path.read_bytes())
        hrefs = [urljoin(base, h) if base else h for h, _ in anchors if h and not h.startswith(("#", "javascript:"))]
        hrefs = [h for h in hrefs if h.startswith(("http://", "https://"))]
        return text, hrefs, [h for h in hrefs if h.lower().endswith((".pdf", ".docx"))]
    if kind == "other" and b"\x00" not in path.read_bytes()[:4096]:
        kind = "text"  # .md, .txt under another name: plain text
    if kind not in ("pdf", "docx", "text"):
        raise ReportUnreadable(f"{name}：不是 DOCX、PDF、HTML 或纯文本（识别为 {kind}）；"
                               "DOC/WPS 请另存为 DOCX 后再检查")
    got = extract(path, kind, MAX_CHARS)
    if got.status != "text":
        raise ReportUnreadable(f"{name}：{got.note or '读不出文字'}")
    links: list[str] = []
    if kind == "docx":
        from docx import Document

        rels = Document(str(path)).part.rels.values()
        links = [r.target_ref for r in rels if r.reltype.endswith("/hyperlink") and r.is_external]
    return got.text, links, []


def _looks_html(path: Path) -> bool:
    head = path.read_bytes()[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def _fetch(client: object, url: str, folder: Path) -> tuple[Path, str]:
    import httpx

    assert isinstance(client, httpx.Client)
    try:
        resp = client.get(url)
    except httpx.HTTPError as exc:
        raise ReportUnreadable(f"{url}：无法访问（{type(exc).__name__}）；检查网址与网络") from None
    if resp.status_code >= 400:
        raise ReportUnreadable(f"{url}：网站返回 HTTP {resp.status_code}")
    name = url.rstrip("/").rsplit("/", 1)[-1] or "index.html"
    path = folder / f"doc{len(list(folder.iterdir()))}"
    path.write_bytes(resp.content[:50_000_000])
    return path, name


def _answering(client: object, links: list[str]) -> int:
    import httpx

    assert isinstance(client, httpx.Client)
    ok = 0
    for link in links[:MAX_LINKS]:
        try:
            ok += client.get(link).status_code < 400
        except httpx.HTTPError:
            continue
    return ok


def check(config: Config, source: str, *, links: bool = True) -> ReportCheck:
    """Read the report at `source` (a path or an http(s) URL)."""
    import httpx

    headers = {"User-Agent": config.http.user_agent}
    with httpx.Client(headers=headers, timeout=min(config.http.timeout, 10), follow_redirects=True) as client, \
            tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if source.startswith(("http://", "https://")):
            path, name = _fetch(client, source, folder)
        else:
            path, name = Path(source), Path(source).name
            if not path.is_file():
                raise ReportUnreadable(f"{source}：没有这个文件")
        text, found_links, documents = _file_text(path, name, source if source.startswith("http") else None)
        result = read(text, source)
        if documents and sum(1 for v in result.sections.values() if v) < 2:
            # A page that only announces its report and links it as an attachment: read the attachment.
            attached, attached_name = _fetch(client, documents[0], folder)
            text, found_links, _ = _file_text(attached, attached_name, documents[0])
            result = read(text, source)
            result.notes.append(f"报告正文读自页面所附的 {attached_name}")
        every = list(dict.fromkeys([*result.links, *found_links]))
        result.links = every
        if links and every:
            result.answering = _answering(client, every)
    return result
