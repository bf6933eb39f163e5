"""One place that writes spreadsheet cells, for every writer (CLI export, statistics, coverage,
the workbook and monthly export, the web's downloads, the audit log): scraped text is hostile.

A cell whose text starts like a formula (`= + - @`, a tab or a carriage return) would run in
Excel or WPS ("CSV injection", OWASP). In CSV it is neutralised with a leading `'`; in XLSX it is
stored as text (its type set to string: the value is kept exactly, it is never a formula).
CSV is UTF-8 with a BOM and CRLF, so Excel and WPS open the Chinese without an import dialog.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """`=HYPERLINK(…)` → `'=HYPERLINK(…)`; numbers, dates and plain text as they are.

    >>> csv_cell('=HYPERLINK("http://x","y")'), csv_cell(-5), csv_cell("通知")
    ('\\'=HYPERLINK("http://x","y")', -5, '通知')
    """
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_START) else value


class SafeCsvWriter:
    """A CSV writer whose every cell goes through `csv_cell`."""

    def __init__(self, out: IO[str]) -> None:
        self._raw = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: Iterable[object]) -> None:
        self._raw.writerow([csv_cell(c) for c in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: IO[str]) -> SafeCsvWriter:
    """A CSV writer on `out` after the BOM; its rows' cells are neutralised (`csv_cell`)."""
    out.write("\ufeff")
    return SafeCsvWriter(out)


def csv_text(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A whole CSV as text: BOM, header, rows, every cell neutralised."""
    buf = io.StringIO()
    writer = csv_writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def as_text(cell: Any) -> Any:
    """Keep an XLSX cell's text a text, even when it starts like a formula."""
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
        cell.data_type = "s"
    return cell


def xlsx_cell(ws: Any, value: object, number_format: str | None = None) -> Any:
    """A cell for a write-only sheet: text kept text, dates as real dates with `number_format`."""
    from openpyxl.cell import WriteOnlyCell

    cell = as_text(WriteOnlyCell(ws, value=value))
    if number_format:
        cell.number_format = number_format
    return cell


def xlsx_rows(ws: Any, rows: Iterable[Sequence[object]]) -> None:
    """Append rows to a (normal) sheet with every formula-looking text stored as text."""
    for row in rows:
        ws.append(list(row))
        for cell in ws[ws.max_row]:
            as_text(cell)


def header_row(ws: Any, header: Sequence[str], widths: Sequence[float], *, write_only: bool = False) -> None:
    """A bold, filled header row with column widths, frozen, with filters (on a normal sheet)."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if write_only:
        cells = []
        for name in header:
            cell = xlsx_cell(ws, name)
            cell.font, cell.fill, cell.alignment = bold, fill, center
            cells.append(cell)
        ws.freeze_panes = "A2"
        ws.append(cells)
        return
    ws.append(list(header))
    for cell in ws[ws.max_row]:
        cell.font, cell.fill, cell.alignment = bold, fill, center
    ws.freeze_panes = "A2"


def filters(ws: Any, columns: int, rows: int) -> None:
    """Filter buttons on the header over the data written (`rows` below the header)."""
    from openpyxl.utils import get_column_letter

    ws.auto_filter.ref = f"A1:{get_column_letter(columns)}{rows + 1}"


def workbook_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence[object]], widths: Sequence[float],
                   formats: dict[int, str] | None = None) -> bytes:
    """One sheet as XLSX bytes (a download): styled frozen header with filters, text kept text,
    `formats` (column index → number format) for dates."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    header_row(ws, header, widths)
    n = 0
    for row in rows:
        ws.append(list(row))
        for i, cell in enumerate(ws[ws.max_row]):
            as_text(cell)
            if formats and i in formats:
                cell.number_format = formats[i]
        n += 1
    filters(ws, len(header), n)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
