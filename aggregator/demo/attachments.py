"""The sample sites' attachments as real files: a PDF (reportlab, with a CJK font it needs
no file for), a DOCX (python-docx) and an XLSX (openpyxl) for each link the sample pages
carry, served as real sites serve them — VSB `download.jsp` links without an extension,
named only by `Content-Disposition` (RFC 5987, percent-encoded UTF-8); plain `.pdf` links
with just a Content-Type."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache, wraps
from pathlib import PurePosixPath
from typing import ParamSpec
from urllib.parse import quote, urljoin, urlsplit

from lxml import html as lxml_html

from aggregator.demo.server import Resource

Pages = dict[str, Resource]
P = ParamSpec("P")

_TYPES = {".pdf": "application/pdf",
          ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def pdf_bytes(lines: list[str], pages: int = 1) -> bytes:
    """A PDF whose pages carry `lines` as real text (a text layer pypdf reads back)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=True)  # invariant: the same bytes every time
    for page in range(pages):
        c.setFont("STSong-Light", 12)
        for i, line in enumerate(lines):
            c.drawString(60, 780 - 18 * i, f"{line}" if page == 0 else f"（第{page + 1}页）{line}")
        c.showPage()
    c.save()
    return buf.getvalue()


def scanned_pdf_bytes(pages: int = 1) -> bytes:
    """A PDF of pages with only drawings (as a scanner's images): no text layer."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=True)
    for _ in range(pages):
        c.rect(60, 400, 400, 300, fill=1)
        c.showPage()
    c.save()
    return buf.getvalue()


def docx_bytes(lines: list[str], table: list[list[str]] | None = None) -> bytes:
    from docx import Document

    doc = Document()
    for line in lines:
        doc.add_paragraph(line)
    if table:
        t = doc.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def xlsx_bytes(rows: list[list[object]], sheet: str = "Sheet1") -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@cache
def sample_file(name: str) -> bytes:
    """A small document fit for `name` (by its extension), saying what it is."""
    stem, ext = PurePosixPath(name).stem, PurePosixPath(name).suffix.lower()
    if ext == ".xlsx":
        return xlsx_bytes([["序号", "名称", "说明"], [1, stem, "示例数据"]])
    if ext == ".docx":
        return docx_bytes([stem, "本文件为示例附件，内容仅供演示。"])
    return pdf_bytes([stem, "本文件为示例附件，内容仅供演示。"])


def disposition(name: str) -> str:
    """`attachment; filename*=UTF-8''…` as VSB sends it (with an ASCII fallback)."""
    return f"attachment; filename=\"{quote(name)}\"; filename*=UTF-8''{quote(name)}"


def attachment_resources(pages: dict[str, Resource]) -> dict[str, Resource]:
    """A Resource for every same-site attachment link of the sample pages: `download.jsp`
    links answer with a `Content-Disposition` name; `.pdf`/`.docx`/`.xlsx` links by type."""
    out: dict[str, Resource] = {}
    for path, res in pages.items():
        if not res.content_type.startswith("text/html") or b"download.jsp" not in res.body and b".pdf" not in res.body:
            continue
        for a in lxml_html.fromstring(res.body).iter("a"):
            href = a.get("href") or ""
            target = urljoin(path, href)
            parts = urlsplit(target)
            if parts.netloc:
                continue  # another host: the channel's fetcher does not go there
            name = " ".join(a.text_content().split()).strip("【】[] ")
            key = parts.path + (f"?{parts.query}" if parts.query else "")
            ext = PurePosixPath(parts.path).suffix.lower()
            if "download.jsp" in parts.path and name:
                clean = name.split("：", 1)[-1] if name.startswith("附件") else name
                out[key] = Resource(sample_file(clean), "application/octet-stream",
                                    headers={"Content-Disposition": disposition(clean)})
            elif ext in _TYPES:
                out[key] = Resource(sample_file(name or PurePosixPath(parts.path).name), _TYPES[ext])
    return out


def with_attachments(build: Callable[P, Pages]) -> Callable[P, Pages]:
    """A site builder whose pages come with their attachments served (as a real site's do)."""
    @wraps(build)
    def built(*args: P.args, **kwargs: P.kwargs) -> Pages:
        pages = build(*args, **kwargs)
        pages.update(attachment_resources(pages))
        return pages
    return built

