"""What the pages show, made the same way everywhere: escaped snippets, safe links, sanitised
bodies, revision diffs, facet lists, the monthly bar chart (inline SVG), attachment rows, and a
short-lived cache for counts."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import TYPE_CHECKING, Any

import nh3
from markupsafe import Markup, escape

if TYPE_CHECKING:
    from storage.records import AttachmentRow

PAGE_SIZE = 20
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https: http:; "
       "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
FILTERS = ("channel", "group", "item", "category", "type", "from", "to", "year", "month")


def highlight(text: str) -> Markup:
    """A snippet with its hit in 【】 → escaped text with the hit in <mark>."""
    out = str(escape(text))
    return Markup(out.replace("【", "<mark>").replace("】", "</mark>"))


def href(url: object) -> str:
    """A scraped link as an `href`: http(s) only (`javascript:`, `data:`, `file:` become empty)."""
    from urllib.parse import urlsplit

    text = str(url or "").strip()
    return text if urlsplit(text).scheme.lower() in ("http", "https") else ""


def safe_body(html: str | None, base: str | None = None) -> Markup:
    """Scraped HTML as the page shows it: links and images made absolute against the post's own
    address (they point at the university's site, not at us), then sanitised again (nh3 allow-list)."""
    if not html:
        return Markup("")
    if base:
        import lxml.html

        try:
            doc = lxml.html.fragment_fromstring(html, create_parent="div")
            doc.make_links_absolute(base, resolve_base_href=False)
            html = lxml.html.tostring(doc, encoding="unicode")
        except (ValueError, TypeError):
            pass  # unparseable: sanitised as it is
    return Markup(nh3.clean(html, url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow"))


PAGE_ROWS = 300  # findings listed per status on /compliance


def academic_years(today: date) -> list[str]:
    start = today.year if today.month >= 9 else today.year - 1
    return [f"{y}-{y + 1}" for y in range(start, start - 6, -1)]




class TtlCache:
    """A few hundred recent results, each kept `seconds` (counts a page may show a moment late).
    A result being computed is computed once: the requests asking for it meanwhile wait for it
    (when a common query's facets expired under 20 clients, each of them grouped 78k matches at
    once and the pages stalled for seconds)."""

    def __init__(self, seconds: float, size: int = 256) -> None:
        self.seconds = seconds
        self.size = size
        self._data: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._computing: dict[tuple[Any, ...], threading.Event] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], compute: Any) -> Any:
        while True:
            with self._lock:
                hit = self._data.get(key)
                if hit is not None and time.monotonic() - hit[0] < self.seconds:
                    return hit[1]
                running = self._computing.get(key)
                if running is None:
                    self._computing[key] = threading.Event()
                    break
            running.wait()  # then read what it stored (or, if it failed, compute it here)
        try:
            value = compute()
            with self._lock:
                if len(self._data) >= self.size:
                    for old in sorted(self._data, key=lambda k: self._data[k][0])[: self.size // 4]:
                        del self._data[old]
                self._data[key] = (time.monotonic(), value)
        finally:
            with self._lock:
                self._computing.pop(key).set()
        return value


def list_param(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def attachment_header(filename: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"download.{filename.rsplit('.', 1)[-1]}\"; filename*=UTF-8''{quote(filename)}"


ATTACHMENT_STATUS_ZH = {"kept": "已保存", "changed": "旧版本（来源已更换）", "gone": "来源已删除，副本保留",
                        "removed": "页面已不再链接，副本保留", "failed": "下载失败", "refused": "已拒绝",
                        "offhost": "站外链接，未下载", "listed": "未下载"}
TEXT_STATUS_ZH = {"text": "文字已可检索", "pending": "文字待读取", "no_text_layer": "无文字层（扫描件）",
                  "unsupported": "此格式不提取文字", "failed": "文字读取失败", "off": "未读取文字（本渠道只保存）"}


def size_text(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{max(1, round(n / 1000))} KB"


def attachment_view(a: AttachmentRow) -> dict[str, Any]:
    from aggregator.attachments.names import KIND_ZH

    status = ATTACHMENT_STATUS_ZH.get(a.status, a.status)
    text = TEXT_STATUS_ZH.get(a.text_status or "", "") if a.sha256 else ""
    return {"id": a.id, "name": a.name, "url": a.url, "kept": bool(a.sha256), "size": size_text(a.size),
            "kind": KIND_ZH.get(a.kind or "", "—"), "status": status, "text": text,
            "note": a.note if a.text_status in ("no_text_layer", "failed") else a.error,
            "fetched_at": a.fetched_at, "old": a.status == "changed"}


def short(text: str, n: int) -> str:
    """`text` cut to `n` characters, saying so with 「…」.

    >>> short("仪器设备、图书、药品等物资设备采购", 8), short("招生章程", 8)
    ('仪器设备、图书…', '招生章程')
    """
    return text if len(text) <= n else text[: n - 1] + "…"


def facet_view(facets: dict[str, list[tuple[object, int]]], names: dict[str, str],
               groups: dict[str, str]) -> dict[str, list[tuple[str, str, int, str]]]:
    """Facets as (value, label, count, full label) lists: channels grouped under their group, items
    and categories with their names (a label cut short ends in 「…」; the full one is its tooltip)."""
    from aggregator.qingdan import items

    qd = items()
    cat_names = {i.category: i.category_name for i in qd.values()}
    by_group: dict[str, int] = {}
    for cid, n in facets.get("channel", []):
        by_group[groups.get(str(cid), "其他")] = by_group.get(groups.get(str(cid), "其他"), 0) + n
    full: dict[str, list[tuple[str, str, int]]] = {
        "group": [(g, g, n) for g, n in sorted(by_group.items(), key=lambda x: -x[1])],
        "channel": [(str(c), names.get(str(c), str(c)), n) for c, n in facets.get("channel", [])],
        "category": [(str(c), f"{c}. {cat_names.get(int(str(c)), '')}", n) for c, n in facets.get("category", []) if c],
        "item": [(str(i), f"{i}. {qd[int(str(i))].text}", n) for i, n in facets.get("item", []) if i][:15],
        "year": [(str(y), f"{y} 年", n) for y, n in sorted(facets.get("year", []), key=lambda x: str(x[0]),
                                                          reverse=True) if y],
        "month": [(str(m), str(m), n) for m, n in sorted(facets.get("month", []), key=lambda x: str(x[0]),
                                                        reverse=True) if m][:12],
        "type": [(str(t), str(t), n) for t, n in facets.get("type", []) if t],
    }
    return {k: [(v, short(label, 20), n, label) for v, label, n in rows] for k, rows in full.items()}


CHIP_KEYS = {"group": "分组", "channel": "渠道", "category": "类别", "item": "事项", "type": "公告类型",
             "year": "学年", "month": "月份", "from": "起", "to": "止"}


def chip_text(key: str, value: str, names: dict[str, str]) -> str:
    """An active filter as its chip reads: 「事项：19. 部门预算…」, 「渠道：学校门户·学校要闻」."""
    from aggregator.qingdan import items

    label = value
    if key == "channel":
        label = names.get(value, value)
    elif key in ("item", "category") and value.isdigit():
        found = items()
        if key == "item" and int(value) in found:
            label = f"{value}. {short(found[int(value)].text, 16)}"
        elif key == "category":
            label = next((f"{value}. {i.category_name}" for i in found.values() if i.category == int(value)), value)
    return f"{CHIP_KEYS[key]}：{label}"


def bar_chart(labels: list[str], values: list[int], width: int = 720, height: int = 200) -> Markup:
    """Monthly totals as an inline SVG bar chart (server-rendered, readable without JavaScript)."""
    if not values:
        return Markup("")
    top = max(values) or 1
    step = width / len(values)
    bars = []
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        h = (height - 40) * v / top
        x = i * step + step * 0.15
        y = height - 20 - h
        bars.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" class="bar">'
                    f"<title>{escape(label)}：{v} 条</title></rect>"
                    f'<text x="{x + step * 0.35:.1f}" y="{y - 4:.1f}" class="v">{v}</text>'
                    f'<text x="{x + step * 0.35:.1f}" y="{height - 5}" class="l">{escape(label[5:])}月</text>')
    return Markup(f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="每月发布条数" class="chart">'
                  + "".join(bars) + "</svg>")



