"""Reading export files, shared by the `table` and `wechat` kinds: which files a
channel's `path` holds, their content hash, streamed JSON arrays, CSV in any
of the encodings offices save, and XLSX rows — all without loading a large
file whole.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from aggregator.clock import from_timestamp
from connectors.base import ChannelError, Checkpoint, FetchContext, Item

CHUNK = 1 << 16


def channel_files(path: str | None, suffixes: tuple[str, ...]) -> list[Path]:
    """The files a channel reads, oldest first (so the newest file's counts win)."""
    if not path:
        raise ChannelError("渠道没有设置 path（导出文件所在的文件或文件夹）")
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.exists():
        raise ChannelError(f"{p} 不存在：请建好该文件夹，或修改渠道的 path",
                           failure="unreachable")
    files = [f for f in p.rglob("*")
             if f.is_file() and f.suffix.lower() in suffixes and not f.name.startswith(("~$", "."))]
    return sorted(files, key=lambda f: (f.stat().st_mtime, f.name))


def import_new_files(ctx: FetchContext, suffixes: tuple[str, ...], what: str,
                     read: Callable[[Path], Iterator[Item]]) -> Iterator[Item]:
    """Read each file of the channel whose content was not imported before (all with
    `--full`), and checkpoint its hash once its posts are yielded."""
    files = channel_files(ctx.channel.path, suffixes)
    if not files:
        raise ChannelError(f"{ctx.channel.path} 中没有找到{what}：导出文件放进去了吗？")
    seen = list(ctx.state.seen)
    for path in files:
        digest = file_digest(path)
        if digest in seen and not ctx.full:
            continue
        yield from read(path)
        if digest not in seen:
            seen.append(digest)
        yield Checkpoint(replace(ctx.state, seen=tuple(seen)))


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def mtime(path: Path) -> datetime:
    """When the file was last written, in Shanghai wall time (not the machine's zone)."""
    return from_timestamp(path.stat().st_mtime)


class Truncated(Exception):
    """The JSON stopped in the middle; the rows before it were read."""


def iter_json_records(path: Path, chunk: int = CHUNK) -> Iterator[Any]:
    """The elements of a JSON array (or of the first list under `data`/`rows`/`list`
    in an object), decoded one by one from a streamed file."""
    decoder = json.JSONDecoder()
    with open(path, encoding="utf-8-sig") as fh:
        buf = fh.read(chunk)
        pos = len(buf) - len(buf.lstrip())
        if buf[pos : pos + 1] == "{":
            # An exporter's wrapper object: small enough to load (the big ones are arrays).
            whole = buf + fh.read()
            try:
                obj = json.loads(whole)
            except json.JSONDecodeError as exc:
                raise Truncated(f"不是有效的 JSON（第 {exc.lineno} 行：{exc.msg}）") from None
            for key in ("data", "rows", "list", "articles", "items"):
                if isinstance(obj.get(key), list):
                    yield from obj[key]
                    return
            raise Truncated("JSON 对象中没有记录列表（应为数组，或 data/rows/list 字段）")
        if buf[pos : pos + 1] != "[":
            raise Truncated("不是 JSON 数组")
        pos += 1
        while True:
            while True:  # skip whitespace and commas, refilling as needed
                while pos < len(buf) and buf[pos] in " \t\r\n,":
                    pos += 1
                if pos < len(buf):
                    break
                more = fh.read(chunk)
                if not more:
                    raise Truncated("文件在数组结束前就截断了")
                buf, pos = buf[pos:] + more, 0
            if buf[pos] == "]":
                return
            while True:
                try:
                    value, end = decoder.raw_decode(buf, pos)
                    break
                except json.JSONDecodeError as exc:
                    more = fh.read(chunk)
                    if not more:
                        raise Truncated(f"文件在一条记录中间截断了（{exc.msg}）") from None
                    buf, pos = buf[pos:] + more, 0
            yield value
            buf, pos = buf[end:], 0
            if len(buf) < chunk:
                buf += fh.read(chunk)


def detect_text_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) unless the first 64 KB are not, then GB18030 (GBK's superset)."""
    with open(path, "rb") as fh:
        head = fh.read(CHUNK)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def iter_csv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; the header is line 1."""
    encoding = detect_text_encoding(path)
    with open(path, encoding=encoding, newline="", errors="replace") as fh:
        sample = fh.read(8192)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
        except csv.Error:
            dialect = csv.excel
        reader = csv.DictReader(fh, dialect=dialect)
        for row in reader:
            yield reader.line_num, {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}


def csv_headers(path: Path) -> list[str]:
    encoding = detect_text_encoding(path)
    with open(path, encoding=encoding, newline="", errors="replace") as fh:
        first = fh.readline()
    return [h.strip().strip('"') for h in next(csv.reader([first]), [])]


def iter_xlsx(path: Path, sheet: str | None = None) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """The header of the sheet (or the first one) and its rows, read-only and streamed."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, … : not a workbook
        raise Truncated(f"不是可读取的 XLSX 工作簿（{type(exc).__name__}: {exc}）") from None
    ws = wb[sheet] if sheet and sheet in wb.sheetnames else wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]

    def body() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for n, values in enumerate(rows, 2):
                if values is None or all(v is None or str(v).strip() == "" for v in values):
                    continue
                yield n, dict(zip(header, values, strict=False))
        finally:
            wb.close()

    return header, body()
