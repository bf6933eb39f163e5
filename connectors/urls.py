"""One spelling per address, shared by connectors (keys) and the pipeline."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Query parameters that say how a link was shared, not what it points to.
_TRACKING = re.compile(r"^(utm_\w+|spm|isappinstalled)$")

def canonical_url(url: str, base: str | None = None) -> str:
    """One spelling per address: absolute, lower-case scheme and host, no default
    port, no fragment, no share-tracking parameters; path and the remaining
    query kept as published (some CMSs care about parameter order).

    >>> canonical_url("HTTPS://WWW.Example.edu.cn:443/info/1010/2345.htm?utm_source=x#top")
    'https://www.example.edu.cn/info/1010/2345.htm'
    """
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    netloc = host
    if parts.port and parts.port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not _TRACKING.match(k)]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


_URL_KEY = re.compile(r"^https?://", re.I)


def key_of(key: str | None, url: str | None) -> str | None:
    """The key a post is stored under: the connector's own key (canonicalised when it is a
    URL, as feed guids often are), else the post's canonical URL. The one place a post key
    is made: the pipeline stores under it and `is_known` asks with it.

    >>> key_of("HTTPS://WWW.Example.edu.cn/info/1/2.htm?utm_source=rss#comments", None)
    'https://www.example.edu.cn/info/1/2.htm'
    >>> key_of("MzA3:2650:1", "https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1")
    'MzA3:2650:1'
    """
    if key and key.strip():
        key = key.strip()
        return canonical_url(key) if _URL_KEY.match(key) else key
    if url and url.strip():
        return canonical_url(url)
    return None
