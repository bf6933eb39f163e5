"""The WeChat platforms' own statistics exports, read in a `wechat` channel's folder beside
the article exports:

- 公众号后台「用户分析 → 用户增长」(XLSX or CSV): one row a day, 时间 · 新关注人数 ·
  取消关注人数 · 净增关注人数 · 累积关注人数 → `AccountDay`s (the followers series);
- 视频号助手「数据中心 → 动态数据」(XLSX or CSV): one row a video, 视频描述 · 发表时间 ·
  播放量 · 喜欢/点赞 · 评论 · 分享 → one post per video, its 播放量 as the post's views.

Both have a title or a note above the header in some versions, so the header is the first row
(of the first ten) that names the columns; headers vary by version, so each field has its
aliases. An `.xls` (the back end's older format) is named with what to do, never guessed.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from connectors.base import AccountDay, RawPost, Skipped
from connectors.files import Truncated, detect_text_encoding
from connectors.table import cell_date

FOLLOWERS = ("累积关注人数", "累计关注人数", "累积用户数", "总用户数")
_DAY = ("时间", "日期", "统计日期")
_GAINED = ("新关注人数", "新增关注人数", "新关注")
_LOST = ("取消关注人数", "取消关注")

VIEWS = ("播放量", "播放次数", "浏览量", "观看次数", "浏览次数")
_DESCRIPTION = ("视频描述", "视频标题", "动态描述", "描述", "标题")
_PUBLISHED = ("发表时间", "发布时间", "创建时间")
_LIKES = ("喜欢", "点赞", "点赞量", "喜欢量")
_COMMENTS = ("评论", "评论量", "评论数")
_SHARES = ("分享", "分享量", "转发", "转发量")
_ID = ("视频ID", "动态ID", "ID", "id")


def _first(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((row[n] for n in names if row.get(n) not in (None, "")), None)


def _count(value: Any) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).replace(",", "").strip()
    try:
        if text.endswith("万"):
            return round(float(text[:-1]) * 10_000)
        return int(float(text))
    except ValueError:
        return None


def _rows(path: Path) -> list[list[Any]]:
    if path.suffix.lower() == ".csv":
        with open(path, encoding=detect_text_encoding(path), newline="", errors="replace") as fh:
            return [row for row in csv.reader(fh)]
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not a workbook
        raise Truncated(f"不是可读取的 XLSX 工作簿（{type(exc).__name__}: {exc}）") from None
    try:
        return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()


def table_kind(header: list[str]) -> str | None:
    """"followers", "videos" or None for a header row."""
    names = {str(h).strip() for h in header if h is not None}
    if names & set(FOLLOWERS) and names & set(_DAY):
        return "followers"
    if names & set(VIEWS) and names & set(_DESCRIPTION) and names & set(_PUBLISHED):
        return "videos"
    return None


def sniff(path: Path) -> tuple[str, list[str], list[tuple[int, dict[str, Any]]]] | None:
    """The export's kind, its header and its rows (numbered as a spreadsheet numbers them), or
    None when `path` is no platform statistics export."""
    if path.suffix.lower() not in (".xlsx", ".csv"):
        return None
    rows = _rows(path)
    for n, row in enumerate(rows[:10]):
        header = [str(h).strip() if h is not None else "" for h in row]
        kind = table_kind(header)
        if kind:
            body = [(n + 2 + i, dict(zip(header, values, strict=False))) for i, values in enumerate(rows[n + 1:])
                    if any(v not in (None, "") for v in values)]
            return kind, header, body
    return None


def follower_days(name: str, rows: list[tuple[int, dict[str, Any]]]) -> Iterator[AccountDay | Skipped]:
    for n, row in rows:
        when = cell_date(_first(row, _DAY))
        day = when.date() if isinstance(when, datetime) else when
        if not isinstance(day, date):
            if str(_first(row, _DAY) or "").strip() in ("合计", "总计", "汇总"):
                continue
            yield Skipped(f"{name} 第 {n} 行", f"「时间」不是日期（{_first(row, _DAY)!r}）：这一天的关注人数未导入")
            continue
        yield AccountDay(day, _count(_first(row, FOLLOWERS)), _count(_first(row, _GAINED)), _count(_first(row, _LOST)))


def video_posts(name: str, rows: list[tuple[int, dict[str, Any]]], observed: datetime) -> Iterator[RawPost | Skipped]:
    for n, row in rows:
        text = str(_first(row, _DESCRIPTION) or "").strip()
        published = cell_date(_first(row, _PUBLISHED))
        if not text and published is None:
            yield Skipped(f"{name} 第 {n} 行", "既没有视频描述也没有发表时间：无法识别是哪条视频，未导入")
            continue
        ident = _first(row, _ID)
        key = f"video:{ident}" if ident else "video:" + hashlib.sha1(
            f"{published}|{text}".encode()).hexdigest()[:16]
        title = text.splitlines()[0][:80] if text else "（视频，无描述）"
        yield RawPost(
            title=title, key=key, published_at=published, body=text, reads=_count(_first(row, VIEWS)),
            likes=_count(_first(row, _LIKES)), counts_at=observed, complete=bool(text),
            extra={k: v for k, v in {"media": "video", "comments": _count(_first(row, _COMMENTS)),
                                     "shares": _count(_first(row, _SHARES))}.items() if v is not None},
        )
