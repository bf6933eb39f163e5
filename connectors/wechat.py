"""`wechat` channels: WeChat official-account articles from exported files.

WeChat has no public feed, so offices bring files: exporter JSON and XLSX
(with read/like counts) and saved article pages from mp.weixin.qq.com (raw
server HTML, or a browser-rendered save). `path` is a file or a folder; each
sync imports files whose content is new (by hash).

One article is one post, whatever file it came from: the key is
`__biz:mid:idx` from its link (short `/s/…` links and `&amp;`-escaped links
normalised). Counts are snapshots dated by the file's modification time: the
newest is the post's current count, the others stay as history. Deleted,
captcha and image-only articles are kept with their status.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qs, urlsplit

import connectors.wxdata as wxdata
from aggregator.clock import from_timestamp
from connectors.base import AccountDay, FetchContext, Item, RawPost, Skipped
from connectors.dates import MonthDay, parse_date
from connectors.dom import Element, select_node, select_value
from connectors.files import (
    Truncated,
    import_new_files,
    iter_json_records,
    iter_xlsx,
    mtime,
)
from connectors.html import block_text, parse_html, sanitize
from connectors.settings import ChannelSettings, FileSettings

SUFFIXES = (".json", ".xlsx", ".csv", ".xls", ".html", ".htm", ".mhtml")
XLSX_SHEET = "微信公众号文章"
# `var ct = "…"`, `window.ct = '…' || ''`, `ct: "…"` and `create_time: '…'` (the current template).
_VAR = r"(?:\bvar\s+|\bwindow\.|[{{,\s]){name}\s*[:=]\s*(?:\"\"\s*\|\|\s*)?[\"']([^\"']*)[\"']"
# Text shares (item_show_type 10) carry their text only in a script: `content_noencode: '…'`, JS-escaped.
_NOENCODE = re.compile(r"content_noencode\s*[:=]\s*(?:JsDecode\()?\s*(['\"])(?P<text>(?:\\.|(?!\1).)*)\1", re.S)
_JS_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)", re.S)
_DELETED = ("已被发布者删除", "该内容已被发布者删除", "此内容因违规无法查看", "该内容已被删除")
_CAPTCHA = ("环境异常", "wappoc_appmsgcaptcha", "完成验证后即可继续访问")


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(str(value).replace(",", "")))
    except ValueError:
        return None


def canonical_link(link: str) -> str:
    """Unescape `&amp;` and `\\x26`, drop tracking parameters; keep what identifies the article."""
    link = htmllib.unescape(link.strip()).replace("\\x26", "&").replace("\\/", "/")
    if link.startswith("//"):
        link = "https:" + link
    parts = urlsplit(link)
    if parts.path.startswith("/s/"):
        return f"https://mp.weixin.qq.com{parts.path}"
    q = parse_qs(parts.query)
    keep = [f"{k}={q[k][0]}" for k in ("__biz", "mid", "idx", "sn") if k in q]
    return f"https://mp.weixin.qq.com/s?{'&'.join(keep)}" if keep else link


def article_key(link: str | None, biz: str | None = None, mid: str | None = None,
                idx: str | None = None) -> str | None:
    """`__biz:mid:idx` (one push shares a mid), else the short link's token."""
    if link:
        parts = urlsplit(htmllib.unescape(link).replace("\\x26", "&"))
        q = parse_qs(parts.query)
        biz = biz or next(iter(q.get("__biz") or ()), None)
        mid = mid or next(iter(q.get("mid") or q.get("appmsgid") or ()), None)
        idx = idx or next(iter(q.get("idx") or q.get("itemidx") or ()), None)
        if not (biz and mid and idx) and parts.path.startswith("/s/") and len(parts.path) > 3:
            return "s:" + parts.path[3:].strip("/")
    if biz and mid and idx:
        return f"{biz}:{mid}:{idx}"
    return None


def _status(text: str, show_type: Any = None) -> str:
    if any(w in text for w in _CAPTCHA):
        return "captcha"
    if any(w in text for w in _DELETED):
        return "deleted"
    if str(show_type) == "8":
        return "image"
    return "ok"


def from_json(rec: dict[str, Any], observed: datetime) -> RawPost | str:
    """One exporter JSON record (wechat-article-exporter's fields)."""
    link = rec.get("link") or rec.get("url") or ""
    aid = str(rec.get("aid") or "")
    mid, _, idx = aid.partition("_")
    key = article_key(link, rec.get("_biz") or rec.get("biz"), mid or None, idx or None)
    title = (rec.get("title") or "").strip()
    if not key:
        return "没有链接或 aid，无法识别是哪篇文章，未保存"
    ts = rec.get("create_time") or rec.get("update_time")
    when = from_timestamp(int(str(ts))) if str(ts or "").isdigit() else None
    content = rec.get("content") or ""
    body = block_text(parse_html(f"<div>{content}</div>")) if content else (rec.get("digest") or "")
    status = _status(title + content, rec.get("item_show_type"))
    account = rec.get("_accountName") or rec.get("accountName") or rec.get("nickname")
    return RawPost(
        title=title or {"deleted": "（已被发布者删除）", "image": "（图片消息）"}.get(status, ""),
        url=canonical_link(link) if link else None, key=key, published_at=when, body=body,
        body_html=sanitize(content) if content else None, department=account,
        reads=_int(rec.get("readNum")), likes=_int(rec.get("oldLikeNum") or rec.get("likeNum")),
        counts_at=observed, complete=bool(content),
        extra={k: v for k, v in {"account": account, "status": status, "author": rec.get("author_name"),
                                 "digest": rec.get("digest"), "shares": _int(rec.get("shareNum")),
                                 "comments": _int(rec.get("commentNum"))}.items() if v is not None},
    )


def from_xlsx(row: dict[str, Any], observed: datetime) -> RawPost | str:
    """One row of the exporter's XLSX (sheet 微信公众号文章)."""
    link = str(row.get("链接") or "")
    key = article_key(link) or (f"id:{row['ID']}" if row.get("ID") else None)
    if not key:
        return "没有「链接」或「ID」，无法识别是哪篇文章，未保存"
    raw_when = row.get("发布时间") or row.get("创建时间")
    when = raw_when if isinstance(raw_when, datetime) else parse_date(str(raw_when or ""))
    if isinstance(when, MonthDay):
        when = None
    title = str(row.get("标题") or "").strip()
    account = row.get("公众号")
    return RawPost(
        title=title, url=canonical_link(link) if link else None, key=key, published_at=when,
        body=str(row.get("摘要") or ""), department=account, reads=_int(row.get("阅读")),
        likes=_int(row.get("点赞")), counts_at=observed, complete=False,
        extra={k: v for k, v in {"account": account, "status": _status(title, row.get("文章类型")),
                                 "author": row.get("作者"), "shares": _int(row.get("分享")),
                                 "comments": _int(row.get("留言"))}.items() if v is not None},
    )


def _js_text(page: str) -> str:
    """The text of `content_noencode: '…'` (JS string escapes undone), or ''."""
    m = _NOENCODE.search(page)
    if not m:
        return ""

    def unescape(e: re.Match[str]) -> str:
        code = e.group(1)
        if code[0] in "xu" and len(code) > 1:
            return chr(int(code[1:], 16))
        return {"n": "\n", "r": "", "t": " "}.get(code, code)

    text = htmllib.unescape(_JS_ESCAPE.sub(unescape, m["text"]))
    return block_text(parse_html(f"<div>{text.replace(chr(10), '<br>')}</div>"))


def _page_date(root: Element, var: dict[str, str | None]) -> datetime | None:
    """`ct` (Unix seconds), then `create_time`/`createTime`/`publish_time`, then the shown `#publish_time`."""
    if var["ct"] and var["ct"].isdigit():
        return from_timestamp(int(var["ct"]))
    for text in (var["create_time"], var["createTime"], var["publish_time"],
                 select_value(root, "#publish_time")):
        shown = parse_date(text)
        if isinstance(shown, datetime):
            return shown
        if isinstance(shown, date):
            return datetime.combine(shown, time())
    return None


def from_page(text: str) -> RawPost | str:
    """A saved mp.weixin.qq.com article page, raw or browser-rendered."""
    if "mp.weixin.qq.com" not in text and "rich_media" not in text and "js_content" not in text:
        return "不是微信文章页面（没有 mp.weixin.qq.com 的标记），未保存"
    root = parse_html(text)
    var = {n: (re.search(_VAR.format(name=n), text) or [None, None])[1]
           for n in ("biz", "mid", "idx", "ct", "msg_link", "create_time", "createTime", "publish_time",
                     "item_show_type", "msg_title")}
    og_url = select_value(root, "meta[property='og:url']@content") or var["msg_link"] or ""
    key = article_key(og_url, var["biz"] or None, var["mid"] or None, var["idx"] or None)
    status = _status(text, var["item_show_type"])
    if not key:
        if status == "ok":
            return "没有 __biz/mid/idx 或 og:url，无法识别是哪篇文章，未保存"
        gone = {"captcha": "验证码页面", "deleted": "已删除"}.get(status, status)
        return f"文章已不可见（{gone}），页面上也没有文章链接"
    title = (select_value(root, "meta[property='og:title']@content, #activity-name, h1.rich_media_title, h2")
             or htmllib.unescape(var["msg_title"] or ""))
    content = select_node(root, "#js_content, .rich_media_content")
    noencode = _js_text(text) if content is None or not block_text(content) else ""
    if not title and noencode:
        title = noencode.split("\n", 1)[0][:60]  # a text share has no title: its first line stands for one
    for img in (content.iter("img") if content is not None else ()):
        if img.get("data-src") and not img.get("src"):
            img.set("src", img.get("data-src"))  # raw pages lazy-load every image
    body = block_text(content) if content is not None else ""
    body = body or noencode
    if status == "ok" and content is not None and not body and any(True for _ in content.iter("img")):
        status = "image"
    account = select_value(root, "#js_name, .wx_follow_nickname, #profileBt a")
    from lxml.html import tostring

    return RawPost(
        title=title or {"deleted": "（已被发布者删除）", "captcha": "（需验证，未能读取）"}.get(status, ""),
        url=canonical_link(og_url) if og_url else None, key=key, published_at=_page_date(root, var), body=body,
        body_html=sanitize(tostring(content, encoding="unicode")) if content is not None and not noencode else None,
        department=account, extra={"account": account, "status": status} if account else {"status": status},
    )


class WechatSettings(FileSettings):
    """A `wechat` channel: a file or folder of exporter JSON/XLSX and saved article pages."""

    kind: Literal["wechat"] = "wechat"


class WechatConnector:
    kind: ClassVar[str] = "wechat"
    settings: ClassVar[type[ChannelSettings]] = WechatSettings

    def fetch(self, ctx: FetchContext) -> Iterator[Item]:
        yield from import_new_files(ctx, SUFFIXES, "导出工具的 JSON/XLSX、保存的文章页面、用户增长或视频号动态数据导出",
                                    self._file)

    def _file(self, path: Path) -> Iterator[RawPost | Skipped | AccountDay]:
        observed = mtime(path)
        suffix = path.suffix.lower()
        try:
            platform = wxdata.sniff(path) if suffix in (".csv", ".xlsx") else None
            if platform is not None:
                kind, _header, table = platform
                yield from (wxdata.follower_days(path.name, table) if kind == "followers"
                            else wxdata.video_posts(path.name, table, observed))
            elif suffix == ".xls":
                yield Skipped(path.name, "是旧版 Excel（.xls）文件，无法读取："
                                         "请在 Excel 或 WPS 中另存为 .xlsx 或 .csv 后放回该文件夹")
            elif suffix == ".csv":
                yield Skipped(path.name, "不是用户增长或视频号动态数据的导出：需要「时间」「累积关注人数」列，"
                                         "或「视频描述」「发表时间」「播放量」列")
            elif suffix == ".json":
                for n, rec in enumerate(iter_json_records(path), 1):
                    post = from_json(rec, observed) if isinstance(rec, dict) else "不是一篇文章的记录（应为对象）"
                    yield post if isinstance(post, RawPost) else Skipped(f"{path.name} 第 {n} 条记录", post)
            elif suffix == ".xlsx":
                header, rows = iter_xlsx(path, XLSX_SHEET)
                if "标题" not in header or not ({"链接", "ID"} & set(header)):
                    yield Skipped(path.name, "不是导出工具的 XLSX：需要「标题」列，以及「链接」或「ID」列"
                                             f"（表中的列：{', '.join(h for h in header if h)}）")
                    return
                for n, row in rows:
                    post = from_xlsx(row, observed)
                    yield post if isinstance(post, RawPost) else Skipped(f"{path.name} 第 {n} 行", post)
            else:
                text = path.read_bytes().decode("utf-8", "replace")
                post = from_page(text)
                yield post if isinstance(post, RawPost) else Skipped(path.name, post)
        except Truncated as exc:
            yield Skipped(path.name, f"{exc}；出错之前的文章已导入")
        except OSError as exc:
            yield Skipped(path.name, f"无法读取（{exc}）")
