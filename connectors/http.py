"""Fetching, politely and safely — the one place the project talks HTTP.

Two layers:
- `PoliteTransport` sits under the shared `httpx.Client`: a global limit on
  requests in flight, a minimum interval between two requests to one host,
  robots.txt, retries with capped exponential backoff on connection errors
  and 5xx, and `Retry-After`. Every channel's requests go through it, so two
  channels on one host still keep the interval.
- `fetch_page` is what connectors call: redirects followed only within the
  channel's hosts, a response size cap, conditional GET, charset decoding
  that never produces mojibake, and blocked pages (WAF shells, rate-limit
  and campus-only pages) recognised instead of read as empty lists.

Policy decisions are small pure functions (`retry_delay`, `blocked_reason`,
`decode_html`) tested without a network.
"""

from __future__ import annotations

import hashlib
import os
import re
import ssl
import tempfile
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

import connectors.messages as msg

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 5
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.I)


class FetchError(Exception):
    """A page could not be fetched; the message names the URL and the cause."""

    def __init__(self, message: str, *, status: int | None = None, blocked: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.blocked = blocked

    @property
    def failure(self) -> str:
        """The channel health this points to (`ChannelError.failure`)."""
        if self.blocked or self.status in (401, 403, 412, 488):
            return "blocked"
        if self.status is None or self.status >= 500 or self.status in (404, 410, 429):
            return "unreachable"
        return "broken"


class RobotsDisallowed(httpx.RequestError):
    pass


# -- pure policy -----------------------------------------------------------------


def retry_delay(attempt: int, retry_after: str | None = None, *, base: float = 0.5, cap: float = 30.0,
                now: float | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, …): the server's
    `Retry-After` (seconds or an HTTP date) if given, else base·2^(attempt−1);
    never more than `cap`."""
    if retry_after:
        value = retry_after.strip()
        if value.isdigit():
            return min(float(value), cap)
        try:
            when = parsedate_to_datetime(value).timestamp()
            return max(0.0, min(when - (now if now is not None else time.time()), cap))
        except (TypeError, ValueError):
            pass
    return min(base * 2 ** (attempt - 1), cap)


def charset_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*[\"']?([\w-]+)", content_type, re.I)
    return m.group(1).lower() if m else None


def _codec(name: str) -> str:
    name = name.lower()
    # GB2312 and GBK pages routinely contain characters only GB18030 has.
    return "gb18030" if name in ("gb2312", "gbk", "gb18030", "x-gbk", "cp936") else name


def decode_html(content: bytes, content_type: str | None = None) -> str:
    """Header charset, else `<meta charset>`, else UTF-8, else GB18030.

    (ISO-8859-1 — what `requests` assumes without a header — is never guessed.)
    """
    declared = charset_of(content_type)
    if not declared:
        m = _META_CHARSET.search(content[:4096])
        declared = m.group(1).decode("ascii", "replace") if m else None
    if declared and _codec(declared) != "utf-8" and not content.isascii():
        # A page that decodes as UTF-8 with Chinese in it is UTF-8 whatever it declares (a site
        # moved to UTF-8 and kept its old `charset=gbk`): GBK text essentially never is valid UTF-8,
        # while GB18030 decodes UTF-8 bytes into mojibake without an error.
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if declared:
        try:
            return content.decode(_codec(declared))
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration: fall through to detection
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        return content.decode("utf-8", "replace")


def blocked_reason(status: int, text: str) -> str | None:
    """Why a response is a wall rather than content, or None.

    Seen on real sites (docs/sites.md): 瑞数 `$_ts` shells with HTTP 202/412,
    VSB's HTTP 488, ccgp's "频繁访问", 403 firewall pages, campus-only pages.
    """
    head = text[:20000]
    if status in (202, 412) and ("$_ts" in head or len(head.strip()) < 2000):
        return (f"HTTP {status}，页面是瑞数防火墙（WAF）的脚本外壳（$_ts）：网站的防火墙拦截了非浏览器的访问，"
                "需请网站管理员放行本机")
    if status == 488:
        return "HTTP 488：网站（VSB）的防火墙拒绝了请求，需请网站管理员放行本机"
    if "频繁访问" in head or "访问过于频繁" in head:
        return f"HTTP {status}：网站提示访问过于频繁（频繁访问），请调大 per_host_interval"
    if status == 403 and any(w in head for w in ("防火墙", "云防护", "服务器拒绝执行该请求", "安全狗", "WAF", "拦截")):
        return "HTTP 403：网站的防火墙（云防护/WAF）拒绝了请求，需请网站管理员放行本机"
    if any(w in head for w in ("校内访问", "仅限校内", "请使用校园网", "校外用户请通过VPN")):
        return f"HTTP {status}：页面仅限校内访问（校内访问），本机不在校园网内"
    if status == 200 and "系统提示" in head and len(head) < 3000 and ("登录" in head or "无权" in head):
        return "网站返回「系统提示」要求登录：该栏目不对外公开"
    return None


_DEFAULT_PORTS = {"http": 80, "https": 443}


def site_host(url: str) -> str:
    """The `hosts` entry for a channel's own URL: `www.example.edu.cn`, or `host:port` when the
    URL names a port (then that port, and only it, is the site's).

    >>> site_host("https://www.example.edu.cn/tzgg.htm"), site_host("http://127.0.0.1:8080/x")
    ('www.example.edu.cn', '127.0.0.1:8080')
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def host_allowed(url: str, hosts: Iterable[str]) -> bool:
    """Whether the fetcher may open `url`: http(s) only, to one of `hosts` — host names,
    `*.example.edu.cn` for every sub-host, or `host:port`. A name without a port allows the
    default ports (80, 443) only: a link to another port of the same machine, to `file://`
    or to any other host is refused before a connection is opened.

    >>> host_allowed("http://127.0.0.1:9999/admin", ["127.0.0.1:8080"]), host_allowed("file:///etc/passwd", ["x"])
    (False, False)
    """
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        return False
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:  # a port that is not a number
        return False
    for allowed in hosts:
        name, _, want = allowed.lower().partition(":")
        if want and (not want.isdigit() or int(want) != port):
            continue
        if not want and port not in (80, 443):
            continue
        if name.startswith("*."):
            if host == name[2:] or host.endswith(name[1:]):
                return True
        elif host == name:
            return True
    return False


# -- the transport -----------------------------------------------------------------


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """The trusted certificates, loaded once a process and shared by every client (an SSL context
    is safe to share): loading them takes ~40 ms, which every sync's client used to pay again."""
    return httpx.create_ssl_context()


class HostClock:
    """When each host may next be asked: shared by every transport of a process, so channels
    synced at once on one host (the scheduler's threads) keep the interval between them too."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._next_at: dict[str, float] = {}

    def turn(self, host: str) -> float:
        """Book the host's next slot; seconds to wait for it."""
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next_at.get(host, 0.0))
            self._next_at[host] = at + self.interval
        return at - now


class PoliteTransport(httpx.BaseTransport):
    """Concurrency limit, per-host interval, robots.txt and retries for every request."""

    def __init__(
        self,
        *,
        user_agent: str,
        concurrency: int = 4,
        per_host_interval: float = 1.0,
        retries: int = 3,
        obey_robots: bool = True,
        on_request: Callable[[httpx.Request], None] | None = None,
        inner: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: HostClock | None = None,
    ) -> None:
        self.inner = inner or httpx.HTTPTransport(verify=tls_context())
        self.user_agent = user_agent
        self.interval = per_host_interval
        self.retries = retries
        self.obey_robots = obey_robots
        self.on_request = on_request
        self.sleep = sleep
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self.clock = clock or HostClock(per_host_interval)
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self.robots_requests = 0

    def _wait_turn(self, host: str) -> None:
        wait = self.clock.turn(host)
        if wait > 0:
            self.sleep(wait)

    def _send(self, request: httpx.Request) -> httpx.Response:
        self._wait_turn(request.url.host)
        with self._slots:
            return self.inner.handle_request(request)

    def _robots_for(self, request: httpx.Request) -> urllib.robotparser.RobotFileParser | None:
        origin = f"{request.url.scheme}://{request.url.netloc.decode()}"
        with self._lock:
            if origin in self._robots:
                return self._robots[origin]
        parser: urllib.robotparser.RobotFileParser | None = None
        try:
            robots_req = httpx.Request("GET", origin + "/robots.txt", headers={"User-Agent": self.user_agent})
            self.robots_requests += 1
            resp = self._send(robots_req)
            resp.read()
            resp.close()
            if resp.status_code == 200:
                parser = urllib.robotparser.RobotFileParser()
                parser.parse(resp.text.splitlines())
            elif resp.status_code in (401, 403):
                parser = urllib.robotparser.RobotFileParser()
                parser.parse(["User-agent: *", "Disallow: /"])
        except httpx.TransportError:
            parser = None  # unreachable robots.txt: the page request will say why
        with self._lock:
            self._robots[origin] = parser
        return parser

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.obey_robots:
            robots = self._robots_for(request)
            if robots is not None and not robots.can_fetch(self.user_agent, str(request.url)):
                raise RobotsDisallowed(f"robots.txt of {request.url.host} disallows {request.url}", request=request)
        attempt = 0
        while True:
            attempt += 1
            if self.on_request:
                self.on_request(request)
            try:
                response = self._send(request)
            except (httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ConnectTimeout):
                if attempt > self.retries:
                    raise
                self.sleep(retry_delay(attempt))
                continue
            if response.status_code in RETRY_STATUSES and attempt <= self.retries:
                delay = retry_delay(attempt, response.headers.get("Retry-After"))
                response.read()
                response.close()
                self.sleep(delay)
                continue
            return response

    def close(self) -> None:
        self.inner.close()


# -- what connectors call --------------------------------------------------------------


@dataclass(slots=True)
class Page:
    url: str  # after redirects
    status: int
    text: str
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


# A list page's address that carries a form to POST (`connectors.listpage.postback`): the URL, this
# mark, and the form's fields url-encoded. A fragment is never sent, so the mark cannot collide.
POST_MARK = "#xxgk-post:"


@contextmanager
def _get(client: httpx.Client, url: str, *, hosts: Iterable[str], etag: str | None = None,
         last_modified: str | None = None) -> Iterator[tuple[str, httpx.Response]]:
    """GET `url` (POST, when it carries a form), following redirects only within `hosts`: yields
    the final URL and its streaming response. Robots.txt refusals, timeouts and connection problems — while
    connecting or while the caller reads the body — become `FetchError`."""
    hosts = list(hosts)
    headers = {}
    method, form = "GET", None
    if POST_MARK in url:  # a list page reached through a form (ASP.NET __doPostBack): POST it
        url, form = url.split(POST_MARK, 1)
        method, headers = "POST", {"Content-Type": "application/x-www-form-urlencoded"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        if not host_allowed(current, hosts):
            raise FetchError(msg.off_hosts(url, current, hosts))
        try:
            with client.stream(method, current, headers=headers, content=form) as resp:
                if resp.is_redirect and "location" in resp.headers:
                    current = urljoin(current, resp.headers["location"])
                    method, form, headers = "GET", None, {}  # a redirect after a POST is a GET
                    continue
                yield current, resp
                return
        except RobotsDisallowed as exc:
            raise FetchError(msg.robots(str(exc)), blocked=True) from None
        except httpx.TimeoutException:
            raise FetchError(msg.timeout(current)) from None
        except httpx.TransportError as exc:
            raise FetchError(msg.unreachable(current, type(exc).__name__, str(exc))) from None
    raise FetchError(msg.too_many_redirects(url, MAX_REDIRECTS))


def fetch_page(
    client: httpx.Client,
    url: str,
    *,
    hosts: Iterable[str],
    max_bytes: int = 10_000_000,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Page:
    """GET a page within `hosts`. Raises `FetchError` (blocked=True for walls).

    A 404 comes back as a `Page` with status 404, so callers decide whether it
    ends an archive walk or fails a channel.
    """
    with _get(client, url, hosts=hosts, etag=etag, last_modified=last_modified) as (current, resp):
        if resp.status_code == 304:
            return Page(current, 304, "", etag, last_modified, not_modified=True)
        body = bytearray()
        for chunk in resp.iter_bytes():
            body.extend(chunk)
            if len(body) > max_bytes:
                raise FetchError(msg.too_large(current, max_bytes), status=resp.status_code)
        text = decode_html(bytes(body), resp.headers.get("content-type"))
        status = resp.status_code
        reason = blocked_reason(status, text)
        if reason:
            raise FetchError(f"{current}: {reason}", status=status, blocked=True)
        if status >= 400 and status != 404:
            raise FetchError(msg.http_status(current, status), status=status)
        return Page(current, status, text, resp.headers.get("etag"), resp.headers.get("last-modified"))


def fetch_page_or_none(client: httpx.Client, url: str, *, hosts: list[str], max_bytes: int) -> Page | None:
    """`fetch_page` for a page that helps but is not needed (list detection's second page): None when
    it is off the hosts or cannot be read."""
    if not host_allowed(url, hosts):
        return None
    try:
        return fetch_page(client, url, hosts=hosts, max_bytes=max_bytes)
    except FetchError:
        return None


@dataclass(slots=True)
class Download:
    """A file fetched to disk (`path`, a temporary file the caller moves or deletes)."""

    url: str  # after redirects
    status: int
    path: Path | None = None
    sha256: str = ""
    size: int = 0
    content_type: str | None = None
    disposition: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


class TooLarge(FetchError):
    """An attachment over the size cap: refused, nothing of it kept."""


def download(
    client: httpx.Client,
    url: str,
    *,
    hosts: Iterable[str],
    folder: Path,
    max_bytes: int,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Download:
    """GET a file within `hosts` into a temporary file in `folder`, hashing it as it streams:
    a body over `max_bytes` (by its Content-Length, else as it arrives) is refused with
    `TooLarge` and never held in memory. A 304 (conditional GET) or an HTTP error status
    comes back without a file; connection problems raise `FetchError`."""
    with _get(client, url, hosts=hosts, etag=etag, last_modified=last_modified) as (current, resp):
        got = Download(current, resp.status_code, content_type=resp.headers.get("content-type"),
                       disposition=resp.headers.get("content-disposition"),
                       etag=resp.headers.get("etag"), last_modified=resp.headers.get("last-modified"))
        if resp.status_code == 304:
            got.not_modified, got.etag, got.last_modified = True, etag, last_modified
            return got
        if resp.status_code >= 400:
            return got
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise TooLarge(f"{current} is {int(declared):,} bytes, over the {max_bytes:,}-byte cap; "
                           "not fetched (raise [attachments] max_bytes to keep it)", status=resp.status_code)
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        fd, name = tempfile.mkstemp(dir=folder, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in resp.iter_bytes(1 << 16):
                    got.size += len(chunk)
                    if got.size > max_bytes:
                        raise TooLarge(f"{current} is over the {max_bytes:,}-byte cap; not kept "
                                       "(raise [attachments] max_bytes to keep it)", status=resp.status_code)
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            os.unlink(name)
            raise
        got.path, got.sha256 = Path(name), digest.hexdigest()
        return got

