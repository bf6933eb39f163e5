"""One spelling per address, shared by connectors (keys) and the pipeline."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
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


_URL_KEY = re.compile(r"^(https?:)?//", re.I)


def _netloc(entry: str) -> str:
    """A `hosts` entry as a canonical URL spells its host: lower case, no default port."""
    host = entry.strip().lower()
    for default in (":80", ":443"):
        if host.endswith(default):
            return host[: -len(default)]
    return host


def _www_pair(host: str) -> str:
    return host[4:] if host.startswith("www.") else f"www.{host}"


@dataclass(frozen=True, slots=True)
class Identity:
    """How one channel tells its posts apart: by address, whatever the spelling of the site's.

    An address key loses its scheme (a site moving from http:// to https:// keeps its posts:
    `host/path?query`), and a host that is one of the channel's own — its URL's, its `hosts`,
    and the `www.`/bare twin of each — becomes the channel's home host (its URL's): a site that
    moves to a new domain listed in `hosts`, or drops its `www.`, keeps its posts too. Other
    hosts keep their names; keys that are not addresses (WeChat's, a document number) are
    left as they are.

    >>> site = Identity.of(["www.example.edu.cn", "example.cn", "127.0.0.1:8080"])
    >>> site.key("https://www.example.edu.cn/info/1/2.htm"), site.key("http://example.edu.cn/info/1/2.htm")
    ('www.example.edu.cn/info/1/2.htm', 'www.example.edu.cn/info/1/2.htm')
    >>> site.key("http://www.example.cn/a?id=3"), site.key("127.0.0.1:8080/a"), site.key("https://mp.weixin.qq.com/s?x=1")
    ('www.example.edu.cn/a?id=3', 'www.example.edu.cn/a', 'mp.weixin.qq.com/s?x=1')
    >>> site.key("MzA3:2650:1"), site.key("news-1")
    ('MzA3:2650:1', 'news-1')
    """

    home: str | None
    aliases: frozenset[str]

    @classmethod
    def of(cls, hosts: Iterable[str]) -> Identity:
        own = [_netloc(h) for h in hosts if h.strip() and not h.strip().startswith("*")]
        if not own:
            return cls(None, frozenset())
        return cls(own[0], frozenset(own) | {_www_pair(h) for h in own})

    @property
    def signature(self) -> str:
        """What the keys depend on: the stored posts are re-keyed when it changes."""
        return " ".join([self.home or "", *sorted(self.aliases)])

    def key(self, key: str) -> str:
        if _URL_KEY.match(key):
            parts = urlsplit(canonical_url(f"http:{key}" if key.startswith("//") else key))
            key = parts.netloc + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host, slash, rest = key.partition("/")
        if slash and self.home and host.lower() in self.aliases:
            return f"{self.home}/{rest}"
        return key


NO_HOSTS = Identity(None, frozenset())


def key_of(key: str | None, url: str | None, identity: Identity = NO_HOSTS) -> str | None:
    """The key a post is stored under: the connector's own key, else the post's URL — an
    address as `Identity.key` spells it (no scheme; the channel's own hosts as one). The one
    place a post key is made: the pipeline stores under it and `is_known` asks with it.

    >>> key_of("HTTPS://WWW.Example.edu.cn/info/1/2.htm?utm_source=rss#comments", None)
    'www.example.edu.cn/info/1/2.htm'
    >>> key_of("MzA3:2650:1", "https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1")
    'MzA3:2650:1'
    """
    if key and key.strip():
        return identity.key(key.strip())
    if url and url.strip():
        return identity.key(url.strip())
    return None
