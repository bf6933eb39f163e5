"""`xxgk export`: every post with its fields, as JSON lines, CSV or XLSX.

Rows are streamed from the store, so exporting a million posts keeps memory
flat (openpyxl's write-only mode for XLSX).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from typing import IO, Any, Literal

from aggregator.clock import iso_local
from storage.store import Store

Format = Literal["jsonl", "csv", "xlsx"]

FIELDS = ("id", "channel", "key", "url", "title", "published_at", "item", "category",
          "type", "reads", "likes", "department")
# Headers of the spreadsheet an office worker opens, with column widths.
XLSX_HEADERS = {
    "id": ("编号", 8), "channel": ("渠道", 18), "key": ("标识", 24), "url": ("链接", 40),
    "title": ("标题", 60), "published_at": ("发布时间", 18), "item": ("清单事项", 9),
    "category": ("清单类别", 9), "type": ("公告类型", 12), "reads": ("阅读数", 9),
    "likes": ("点赞数", 9), "department": ("发布部门", 18),
}


def export_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored post as the contract's `export` object."""
    return {
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


def write_jsonl(rows: Iterable[Mapping[str, Any]], out: IO[str]) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(export_row(row), ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(rows: Iterable[Mapping[str, Any]], out: IO[str]) -> int:
    """UTF-8 with a BOM, so Excel and WPS read the Chinese without an import dialog."""
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\r\n")
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow(export_row(row))
        n += 1
    return n


def write_xlsx(rows: Iterable[Mapping[str, Any]], path: str) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("全部帖子")
    for i, name in enumerate(FIELDS, 1):
        ws.column_dimensions[get_column_letter(i)].width = XLSX_HEADERS[name][1]
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in FIELDS:
        cell = WriteOnlyCell(ws, value=XLSX_HEADERS[name][0])
        cell.font = bold
        header.append(cell)
    ws.append(header)
    n = 0
    for row in rows:
        values = export_row(row)
        date_cell = WriteOnlyCell(ws, value=row["published_at"])  # a real date, Shanghai time
        date_cell.number_format = "yyyy-mm-dd hh:mm"
        ws.append([date_cell if f == "published_at" else values[f] for f in FIELDS])
        n += 1
    wb.save(path)
    return n


def export(store: Store, fmt: Format, out: IO[str] | None, path: str | None) -> int:
    """Write every post; returns how many. XLSX needs a file path."""
    rows = store.iter_posts()
    if fmt == "xlsx":
        if path is None:
            raise ValueError("xlsx is a binary file: give it a name with -o FILE.xlsx")
        return write_xlsx(rows, path)
    assert out is not None
    return write_jsonl(rows, out) if fmt == "jsonl" else write_csv(rows, out)
