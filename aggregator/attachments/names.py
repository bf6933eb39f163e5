"""An attachment's name, kind and MIME type, from what the server and the page say.

VSB `download.jsp?…wbfileid=` links carry no extension: the real name is in the
`Content-Disposition` header — RFC 6266/5987 `filename*=UTF-8''%E9%99%84…`, or a
`filename="…"` that some servers percent-encode and others send as raw UTF-8 or GBK
bytes — or in the link text (`附件1：…docx`). The kind is read from the file's first
bytes (a PDF says `%PDF`, a DOCX is a ZIP holding `word/document.xml`), never from a
name alone. Names are only ever shown and offered as a download name: the kept copy
is stored under its sha256, so no name touches the filesystem.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from email.message import Message
from pathlib import Path
from urllib.parse import unquote, urlsplit

MIME = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "wps": "application/vnd.ms-works",
    "zip": "application/zip",
    "rar": "application/vnd.rar",
    "text": "text/plain; charset=utf-8",
    "other": "application/octet-stream",
}
KIND_ZH = {"pdf": "PDF", "docx": "Word", "xlsx": "Excel", "doc": "Word（旧版）", "xls": "Excel（旧版）",
           "wps": "WPS", "zip": "压缩包", "rar": "压缩包", "image": "图片", "text": "文本", "other": "其他"}
_EXT_KIND = {".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx", ".doc": "doc", ".xls": "xls", ".wps": "wps",
             ".et": "xls", ".zip": "zip", ".rar": "rar", ".7z": "zip", ".txt": "text", ".csv": "text",
             ".jpg": "image", ".jpeg": "image", ".png": "image", ".gif": "image", ".bmp": "image"}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
MAX_NAME = 120


def name_from_disposition(value: str | None) -> str | None:
    """The file name a `Content-Disposition` header gives, decoded.

    >>> name_from_disposition("attachment; filename*=UTF-8''%E6%8B%9F%E5%BD%95%E5%8F%96.pdf")
    '拟录取.pdf'
    >>> name_from_disposition('attachment; filename="%E9%99%84%E4%BB%B6.docx"')
    '附件.docx'
    >>> name_from_disposition('attachment; filename="\\xe9\\x99\\x84\\xe4\\xbb\\xb6.xlsx"')
    '附件.xlsx'
    """
    if not value:
        return None
    msg = Message()
    msg["content-disposition"] = value
    name = msg.get_filename()
    if not name:
        return None
    if re.search(r"%[0-9A-Fa-f]{2}", name):
        name = unquote(name, encoding="utf-8", errors="replace")
    try:  # raw bytes that the HTTP library read as Latin-1
        raw = name.encode("latin-1")
    except UnicodeEncodeError:
        return name
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return name


def clean_name(name: str | None) -> str:
    """A name safe to show and to offer as a download name: no path, no control or
    reserved characters, at most `MAX_NAME` characters (the extension kept).

    >>> clean_name("../../etc/passwd"), clean_name("附件1：招生章程.pdf"), clean_name("  ")
    ('passwd', '附件1：招生章程.pdf', '附件')
    """
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("_", text).strip(" ._")
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        text = (stem[: MAX_NAME - len(ext) - 1] + "." + ext) if dot and len(ext) <= 8 else text[:MAX_NAME]
    return text or "附件"


def best_name(disposition: str | None, link_text: str | None, url: str) -> str:
    """The header's name, else the link text (`附件【…】` trimmed), else the URL's last part."""
    from_header = name_from_disposition(disposition)
    if from_header:
        return clean_name(from_header)
    text = re.sub(r"^(附件\s*\d*\s*[:：]?\s*)", "", (link_text or "").strip("【】[] "))
    if text:
        return clean_name(text)
    return clean_name(unquote(Path(urlsplit(url).path).name))


def kind_of(path: Path, name: str) -> str:
    """What the file is, by its first bytes (the name decides only among look-alikes)."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    ext_kind = _EXT_KIND.get(Path(name).suffix.lower(), "other")
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            return "other"
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE: .doc, .xls, .wps
        return ext_kind if ext_kind in ("doc", "xls", "wps") else "doc"
    if head.startswith(b"Rar!"):
        return "rar"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")):
        return "image"
    if ext_kind == "text" and b"\x00" not in head:
        return "text"
    return "other"


def mime_of(kind: str, declared: str | None) -> str:
    """The declared type when it is specific and agrees; otherwise the kind's. Never HTML:
    a kept copy is never rendered as a page."""
    declared = (declared or "").split(";")[0].strip().lower()
    if kind == "image" and declared.startswith("image/") and declared != "image/svg+xml":
        return declared
    return MIME.get(kind, MIME["other"])
