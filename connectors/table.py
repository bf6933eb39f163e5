"""`table` channels: CSV / XLSX / JSON exports (the OA, 视频号 back ends, legacy
spreadsheets), mapped to posts by the channel's `[channel.columns]`.

Each sync imports the files whose content it has not imported before (by
hash; `--full` re-reads them all). A row that cannot be read is skipped and
named with its file and line; the rest of the file is imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

from connectors.base import ChannelError, FetchContext, Item, RawPost, Skipped
from connectors.dates import MonthDay, parse_date
from connectors.files import (
    Truncated,
    csv_headers,
    import_new_files,
    iter_csv,
    iter_json_records,
    iter_xlsx,
)
from connectors.settings import ChannelSettings, FileSettings, Strict

SUFFIXES = (".csv", ".xlsx", ".json")
_EXCEL_EPOCH = datetime(1899, 12, 30)


def cell_date(value: Any) -> datetime | date | None:
    """A date as a spreadsheet or export holds it: a datetime, an Excel serial, or text."""
    if isinstance(value, (datetime, date)):
        return value
    if isinstance(value, (int, float)) and 20000 < value < 80000:  # Excel serial day numbers (1954–2119)
        return _EXCEL_EPOCH + timedelta(days=float(value))
    if value is None:
        return None
    parsed = parse_date(str(value))
    return None if isinstance(parsed, MonthDay) else parsed


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class ColumnMap(Strict):
    """`[channel.columns]`: which column holds which post field."""

    title: str
    date: str
    key: str | None = None
    department: str | None = None
    body: str | None = None
    url: str | None = None


class TableSettings(FileSettings):
    """A `table` channel: CSV, XLSX or JSON exports mapped to posts by `[channel.columns]`."""

    kind: Literal["table"] = "table"
    columns: ColumnMap | None = None

    def problems(self) -> list[str]:
        found = super().problems()
        if self.columns is None:
            found.append("missing `[channel.columns]` (a table channel needs at least `title` and `date`)")
        return found


class TableConnector:
    kind: ClassVar[str] = "table"
    settings: ClassVar[type[ChannelSettings]] = TableSettings

    def fetch(self, ctx: FetchContext) -> Iterator[Item]:
        columns = ctx.channel.columns if isinstance(ctx.channel, TableSettings) else None
        if columns is None:
            raise ChannelError("table 渠道需要设置 [channel.columns]")
        mapping = {k: v for k, v in columns.model_dump().items() if v}
        yield from import_new_files(ctx, SUFFIXES, " .csv、.xlsx 或 .json 文件",
                                    lambda path: self._file(path, mapping))

    def _file(self, path: Path, mapping: dict[str, str]) -> Iterator[RawPost | Skipped]:
        name = path.name
        required = [mapping["title"], mapping["date"]]
        try:
            if path.suffix.lower() == ".csv":
                headers = csv_headers(path)
                rows: Iterator[tuple[int, dict[str, Any]]] = iter_csv(path)
                where = "第 {n} 行"  # the file's own line, as an editor shows it
            elif path.suffix.lower() == ".xlsx":
                headers, rows = iter_xlsx(path)
                where = "第 {n} 行"  # the sheet's own row number
            else:
                headers, rows = [], ((i, r) for i, r in enumerate(iter_json_records(path), 1))
                where = "第 {n} 条记录"
            missing = [c for c in required if headers and c not in headers]
            if missing:
                yield Skipped(name, f"缺少列 {'、'.join(missing)}（表中的列：{'、'.join(headers)}）："
                                    "请修改 [channel.columns] 或导出文件")
                return
            for n, row in rows:
                if not isinstance(row, dict):
                    yield Skipped(f"{name} {where.format(n=n)}", "不是带字段名的记录，未导入")
                    continue
                yield self._row(row, mapping, f"{name} {where.format(n=n)}")
        except Truncated as exc:
            yield Skipped(name, f"{exc}；出错之前的行已导入")
        except (OSError, UnicodeDecodeError) as exc:
            yield Skipped(name, f"无法读取（{exc}）")

    def _row(self, row: dict[str, Any], m: dict[str, str], where: str) -> RawPost | Skipped:
        title = _text(row.get(m["title"]))
        if not title:
            return Skipped(where, f"「{m['title']}」为空，未导入")
        raw_date = row.get(m["date"])
        published = cell_date(raw_date)
        if published is None:
            return Skipped(where, f"「{m['date']}」{_text(raw_date)!r} 不是日期（应写作 2023-05-12），未导入")
        key = _text(row.get(m["key"])) if "key" in m else ""
        if not key:  # no key column: title and date identify the row
            key = f"{title}|{published.isoformat()}"
        return RawPost(
            title=title,
            key=key,
            url=_text(row.get(m["url"])) or None if "url" in m else None,
            published_at=published,
            department=_text(row.get(m["department"])) or None if "department" in m else None,
            body=_text(row.get(m["body"])) if "body" in m else "",
        )
