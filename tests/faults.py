"""Faults a fixture server can inject on a path (`SampleServer.faults[path] = …`).

Each is a function of the request handler that answers — or fails to — by
itself: error statuses with and without `Retry-After`, a hang past the
client's timeout, a body cut off mid-way, a 50 MB body, redirect loops and
redirects off the channel's hosts, WAF shells, a lying charset, a slow
answer. Tests (`test_faults.py`) and `bench/faults.py` share them; they only
ever answer on the loopback server the test started.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

Fault = Callable[[BaseHTTPRequestHandler], None]


def _head(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str]) -> None:
    h.send_response(status)
    for k, v in headers.items():
        h.send_header(k, v)
    h.end_headers()


def status(code: int, retry_after: str | None = None, body: bytes = b"<html><body>error</body></html>") -> Fault:
    def answer(h: BaseHTTPRequestHandler) -> None:
        headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body))}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        _head(h, code, headers)
        h.wfile.write(body)
    return answer


def hang(seconds: float) -> Fault:
    """Accept the request and say nothing for `seconds` (past the client's timeout)."""
    def answer(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        h.close_connection = True
    return answer


def cut(body: bytes, keep: float = 0.5) -> Fault:
    """Promise the whole body (Content-Length) and close the connection part-way through it."""
    def answer(h: BaseHTTPRequestHandler) -> None:
        _head(h, 200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body))})
        h.wfile.write(body[: int(len(body) * keep)])
        h.wfile.flush()
        h.close_connection = True
    return answer


def huge(size: int = 50_000_000, chunk: int = 1 << 16) -> Fault:
    """A body of `size` bytes, streamed (the client must stop reading, not hold it all)."""
    def answer(h: BaseHTTPRequestHandler) -> None:
        _head(h, 200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(size)})
        block = b"<p>" + b"x" * (chunk - 3)
        sent = 0
        try:
            while sent < size:
                h.wfile.write(block[: min(chunk, size - sent)])
                sent += chunk
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up: what it should do
        h.close_connection = True
    return answer


def redirect(location: str, code: int = 302) -> Fault:
    def answer(h: BaseHTTPRequestHandler) -> None:
        _head(h, code, {"Location": location, "Content-Length": "0"})
    return answer


def waf(code: int = 412) -> Fault:
    """A 瑞数-style shell: a tiny page of script the browser would run to get a cookie."""
    return status(code, body=b'<html><head><script>$_ts=window["$_ts"];$_ts.nsd=12345;</script></head></html>')


def lying_charset(body_text: str, declared: str = "utf-8", actual: str = "gbk") -> Fault:
    """A page whose header names one charset while its bytes are in another."""
    body = body_text.encode(actual)
    return status_with(200, body, {"Content-Type": f"text/html; charset={declared}"})


def status_with(code: int, body: bytes, headers: dict[str, str]) -> Fault:
    def answer(h: BaseHTTPRequestHandler) -> None:
        _head(h, code, {**headers, "Content-Length": str(len(body))})
        h.wfile.write(body)
    return answer


def slow(inner: bytes, seconds: float = 2.0) -> Fault:
    def answer(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        status_with(200, inner, {"Content-Type": "text/html; charset=utf-8"})(h)
    return answer
