"""`xxgk export`: every post with its fields, as JSON lines, CSV or XLSX.

Rows are streamed from the store, so exporting a million posts keeps memory
flat (openpyxl's write-only mode for XLSX).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, Literal

from aggregator.clock import iso_local
from aggregator.services.procurement import PROCUREMENT, procurement_of
from storage.records import AttachmentRow
from storage.store import Store

Format = Literal["jsonl", "csv", "xlsx"]

FIELDS = ("id", "channel", "key", "url", "title", "published_at", "item", "category",
          "type", "reads", "likes", "department")
# A procurement announcement's facts: the export's `procurement` object, one column each in CSV/XLSX.
SHEET_FIELDS = (*FIELDS, *PROCUREMENT)
# Headers of the spreadsheet an office worker opens, with column widths.
XLSX_HEADERS = {
    "id": ("编号", 8), "channel": ("渠道", 18), "key": ("标识", 24), "url": ("链接", 40),
    "title": ("标题", 60), "published_at": ("发布时间", 18), "item": ("清单事项", 9),
    "category": ("清单类别", 9), "type": ("公告类型", 12), "reads": ("阅读数", 9),
    "likes": ("点赞数", 9), "department": ("发布部门", 18), "project_no": ("项目编号", 20),
    "buyer": ("采购人", 24), "method": ("采购方式", 12), "budget": ("预算金额（元）", 16),
    "amount": ("中标/成交金额（元）", 18), "supplier": ("供应商", 30), "attachments": ("附件", 60),
}
AMOUNT_FORMAT = "#,##0.00"


def export_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored post as the contract's `export` object (with `attachments` when the rows carry them)."""
    out = {
        "id": row["id"],
        "channel": row["channel_id"],
        "key": row["key"],
        "url": row["url"],
        "title": row["title"],
        "published_at": iso_local(row["published_at"]),
        "item": row["item"],
        "category": row["category"],
        "type": row["type"],
        "reads": row["reads"],
        "likes": row["likes"],
        "department": row["department"],
    }
    facts = procurement_of(row.get("type"), row.get("extra"))
    if facts is not None:
        out["procurement"] = facts
    if "_attachments" in row:
        out["attachments"] = row["_attachments"]
    return out


def write_jsonl(rows: Iterable[Mapping[str, Any]], out: IO[str]) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(export_row(row), ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(rows: Iterable[Mapping[str, Any]], out: IO[str], fields: tuple[str, ...] = FIELDS) -> int:
    """UTF-8 with a BOM, so Excel and WPS read the Chinese without an import dialog; a cell that
    would run as a formula is neutralised (`services.sheets`)."""
    from aggregator.services.sheets import csv_writer

    writer = csv_writer(out)
    writer.writerow(fields)
    n = 0
    for row in rows:
        values = _sheet_row(row)
        writer.writerow([values.get(f) for f in fields])
        n += 1
    return n


def write_xlsx(rows: Iterable[Mapping[str, Any]], path: str, fields: tuple[str, ...] = FIELDS) -> int:
    """Streamed (write-only) XLSX: a bold frozen header with filters, real dates, text kept text."""
    from openpyxl import Workbook

    from aggregator.services.sheets import filters, header_row, xlsx_cell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("全部帖子")
    header_row(ws, [XLSX_HEADERS[f][0] for f in fields], [XLSX_HEADERS[f][1] for f in fields], write_only=True)
    n = 0
    for row in rows:
        values = _sheet_row(row)
        ws.append([xlsx_cell(ws, row["published_at"], "yyyy-mm-dd hh:mm") if f == "published_at"  # Shanghai time
                   else xlsx_cell(ws, values.get(f), AMOUNT_FORMAT if f in ("budget", "amount") else None)
                   for f in fields])
        n += 1
    filters(ws, len(fields), n)
    wb.save(path)
    return n


def export(store: Store, fmt: Format, out: IO[str] | None, path: str | None, *, attachments: bool = False) -> int:
    """Write every post; returns how many. XLSX needs a file path. With `attachments`, each
    post also lists its attachments (an extension of the contract's object: the field
    `attachments`; in CSV/XLSX one more column)."""
    rows: Iterable[Mapping[str, Any]] = store.posts.iter_rows()
    fields: tuple[str, ...] = SHEET_FIELDS
    if attachments:
        rows = with_attachments(store, rows)
        fields = (*SHEET_FIELDS, "attachments")
    if fmt == "xlsx":
        if path is None:
            raise ValueError("xlsx is a binary file: give it a name with -o FILE.xlsx")
        return write_xlsx(rows, path, fields)
    assert out is not None
    return write_jsonl(rows, out) if fmt == "jsonl" else write_csv(rows, out, fields)


def attachment_entry(a: AttachmentRow) -> dict[str, Any]:
    return {"name": a.name, "url": a.url, "status": a.status, "sha256": a.sha256, "size": a.size,
            "type": a.mime, "text": a.text_status if a.sha256 else None, "fetched_at": iso_local(a.fetched_at)}


def with_attachments(store: Store, rows: Iterable[Mapping[str, Any]], batch: int = 500
                     ) -> Iterator[dict[str, Any]]:
    """The posts, each with `_attachments`: its attachment rows (all versions), in batches."""
    chunk: list[Mapping[str, Any]] = []

    def flush() -> Iterator[dict[str, Any]]:
        found = store.attachments.of_posts([r["id"] for r in chunk])
        for r in chunk:
            yield {**r, "_attachments": [attachment_entry(a) for a in found.get(r["id"], [])]}
        chunk.clear()

    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch:
            yield from flush()
    yield from flush()


def _sheet_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """`export_row` for a spreadsheet: the attachments, if any, as one cell `名称（状态，大小）；…`."""
    values = export_row(row)
    values.update(values.pop("procurement", None) or {})  # one column each
    if "attachments" in values:
        values["attachments"] = _attachments_cell(values["attachments"])
    return values


def _attachments_cell(entries: list[dict[str, Any]]) -> str:
    return "；".join(f"{a['name']}（{a['status']}" + (f"，{a['size']:,} 字节" if a["size"] else "") + "）"
                    for a in entries)


# -- a search's result list, as the office downloads it ------------------------------------------
SEARCH_HEADER = ("标题", "渠道", "发布日期", "清单事项", "清单类别", "发布部门", "类型", "本站链接", "原文链接")
SEARCH_WIDTHS = (60, 24, 12, 40, 22, 18, 14, 36, 50)


def search_sheet(rows: Iterable[Mapping[str, Any]], names: Mapping[str, str], base: str) -> list[list[Any]]:
    """The rows of a search download: the item's number and name, the category's name, the date as a
    date (Shanghai), the post's page here and its source (`base`: this site's address)."""
    from aggregator.qingdan import items

    known = items()
    out = []
    for r in rows:
        item = known.get(r["item"]) if r["item"] else None
        out.append([r["title"], names.get(r["channel_id"], r["channel_id"]), r["published_at"],
                    f"{item.item}. {item.text}" if item else "不属于清单",
                    f"{item.category}. {item.category_name}" if item else "", r["department"] or "",
                    r["type"] or "", f"{base}/posts/{r['id']}", r["url"] or ""])
    return out


def search_file_name(q: str, stamp: str, ext: str) -> str:
    """`检索-拟录取名单-20250701-0930.xlsx`: named after the query (what a file system refuses dropped).

    >>> search_file_name('"拟录取 名单" channel:yjs/x', "20250701-0930", "csv")
    '检索-拟录取 名单 channel_yjs_x-20250701-0930.csv'
    >>> search_file_name("", "20250701-0930", "xlsx")
    '检索-全部-20250701-0930.xlsx'
    """
    cleaned = "".join("_" if c in '\\/:*?<>|' else c for c in q if c.isprintable() and c != '"')
    words = " ".join(cleaned.split())[:40].strip(" .") or "全部"
    return f"检索-{words}-{stamp}.{ext}"
