"""A real HTTP server on loopback that serves sample sites (tests, `xxgk demo`, bench).

Pages live in a dict `path → Resource`, which a test may replace between two
syncs (new posts, a redesign). ETag and Last-Modified are sent, and a
conditional GET that matches gets 304, as VSB sites do. Every request is
counted per path.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass(slots=True)
class Resource:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: float = field(default_factory=lambda: float(int(time.time())))  # when it was built

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


def html(text: str, *, charset: str | None = "utf-8", encoding: str = "utf-8", status: int = 200) -> Resource:
    """A page; `charset=None` sends no charset in the header (as many VSB and GBK sites do)."""
    ctype = f"text/html; charset={charset}" if charset else "text/html"
    return Resource(text.encode(encoding), ctype, status)


class SampleServer:
    """`with SampleServer(pages) as server: server.url + "/portal/xwzx/xxyw.htm"`."""

    def __init__(self, pages: dict[str, Resource] | None = None, host: str = "127.0.0.1", port: int = 0,
                 latency: float = 0.0, tls: tuple[str, str] | None = None) -> None:
        """`tls=(certfile, keyfile)` serves HTTPS (a site that moved to https, in the tests)."""
        self.pages: dict[str, Resource] = dict(pages or {})
        self.hits: Counter[str] = Counter()
        self.latency = latency
        # path → how many more times to answer 503 with Retry-After: 0 (a flaky server)
        self.fail_next: Counter[str] = Counter()
        # path → a function that answers the request itself, raw (the fault tests: hangs, cut bodies, loops)
        self.faults: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        # path → what a form POSTed there answers (an ASP.NET pager): the form's fields → the page
        self.forms: dict[str, Callable[[dict[str, str]], Resource]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body leave in two writes; without NODELAY, Nagle plus the
                # client's delayed ACK adds ~40 ms to every keep-alive response.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.hits[self.path] += 1
                if server.latency:
                    time.sleep(server.latency)
                fault = server.faults.get(self.path)
                if fault is not None:
                    fault(self)
                    return
                if server.fail_next[self.path] > 0:
                    server.fail_next[self.path] -= 1
                    self._send(503, b"busy", {"Content-Type": "text/plain", "Retry-After": "0"})
                    return
                res = server.pages.get(self.path) or server.pages.get(self.path.split("?", 1)[0])
                if res is None:
                    self._send(404, b"<html><head><title>404 Not Found</title></head><body>404</body></html>",
                               {"Content-Type": "text/html"})
                    return
                validators = {"ETag": res.etag, "Last-Modified": formatdate(res.last_modified, usegmt=True)}
                # If-None-Match, when sent, decides alone (RFC 9110 §13.2.2).
                inm = self.headers.get("If-None-Match")
                fresh = inm == res.etag if inm is not None else (
                    self.headers.get("If-Modified-Since") == validators["Last-Modified"])
                if res.status == 200 and fresh:
                    self._send(304, b"", validators)
                    return
                headers = {"Content-Type": res.content_type, **(validators if res.status == 200 else {}), **res.headers}
                self._send(res.status, res.body, headers)

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                from urllib.parse import parse_qsl

                path, _, query = self.path.partition("?")
                server.hits[f"POST {path}"] += 1
                length = int(self.headers.get("Content-Length") or 0)
                fields = dict(parse_qsl(query, keep_blank_values=True))  # the address's parameters, then the form's
                fields.update(parse_qsl(self.rfile.read(length).decode("utf-8"), keep_blank_values=True))
                answer = server.forms.get(path)
                res = answer(fields) if answer else Resource(b"405", "text/plain", 405)
                self._send(res.status, res.body, {"Content-Type": res.content_type})

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
        # A short poll: shutdown() waits up to one poll interval (the default 0.5 s cost the suite ~19 s).
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{self.scheme}://{host!s}:{port}"

    def start(self) -> SampleServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> SampleServer:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
