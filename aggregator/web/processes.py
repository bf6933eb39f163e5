"""`xxgk serve --workers N`: N processes serving the pages, each accepting its own share of the
connections.

uvicorn's own `workers` share one listening socket, and whichever process is awake accepts every
connection waiting: 20 clients connecting at once all landed on one process while the other
idled (bench/web.py: one process at 1.27 cores, the other at 0.00). Here each process listens on
its own socket bound with SO_REUSEPORT, and Linux spreads new connections across them by a hash
of their ports — evenly only on average: bench/web.py's 20 connections opened together were
split 15 to 5 or 14 to 6 in four runs of twelve, and the process holding more was the limit of
every page's wait (on PostgreSQL, search p95 274–287 ms split 15 to 5; 166–203 ms split 11 to 9
or 12 to 8). So each process tells the others how many connections it holds (`Spread`), and one
holding more than its share answers its next request with `Connection: close`: the client
connects again, and lands where the kernel's hash sends it, until every process holds its
share. This process only supervises: it holds the port (so nothing else can take it between
restarts), starts the processes, starts one again if it dies, and stops them all when asked.
Elsewhere than Linux, uvicorn's shared socket is used.
"""

from __future__ import annotations

import multiprocessing
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

APP = "aggregator.web.app:app_from_environment"  # each process builds its own app and store connection
QUICK_S = 5.0  # a process that dies sooner than this after starting, three times in a row: give up


def balanced() -> bool:
    """Whether this system spreads connections across sockets sharing a port (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


def hold_port(host: str, port: int) -> socket.socket:
    """The port, bound (not listening) by the supervisor for as long as it runs. OSError when it
    is taken — by a program without SO_REUSEPORT, or by a server already listening there (another
    xxgk serve would otherwise share the connections with this one)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.settimeout(1)
        if probe.connect_ex(({"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host), port)) == 0:
            raise OSError(f"{host}:{port} 已有服务在监听")
    return _socket(host, port)


class Spread:
    """The app of one of N serving processes, which closes a connection (`Connection: close` on
    its answer) while this process holds more than its share of all the processes' connections
    (the total over N, rounded up). `held` is each process's count, in memory they share; a
    process writes its own at each request and every `EVERY_S` (`publish`). A connection is
    counted while it stays: not once its closing has been decided (the answer under way, or
    the socket closing) — counted till it was gone, one process handed on several connections
    for one over, and the processes kept handing them back and forth (94–667 times in a 20 s
    bench/web.py run, against 1–32 counted this way)."""

    EVERY_S = 0.25

    def __init__(self, app: ASGIApp, held: Any, me: int) -> None:
        self.app, self.held, self.me = app, held, me
        self.open: Callable[[], int] = lambda: 0  # this process's connections not closing (the server's)
        self.handing = 0  # answers under way that will close their connection

    def staying(self) -> int:
        """This process's connections that stay open, written where the others read them."""
        own = self.held[self.me] = max(0, self.open() - self.handing)
        return own

    def over(self) -> bool:
        """Whether this process holds more than its share (and says how many it holds)."""
        return self.staying() > -(-sum(self.held) // len(self.held))

    def publish(self, stopping: threading.Event) -> None:
        """Keep this process's count current while no request comes to write it."""
        while not stopping.wait(self.EVERY_S):
            self.staying()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.over():
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        self.handing += 1
        try:
            await self.app(scope, receive, closing)
        finally:  # the answer is sent: the server has begun closing its socket
            self.handing -= 1


def _serve_one(host: str, port: int, log_level: str, held: Any, me: int) -> None:  # pragma: no cover - a child
    import uvicorn

    from aggregator.web.app import app_from_environment

    sock = _socket(host, port)
    app = Spread(app_from_environment(), held, me)
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=False))
    app.open = lambda: sum(1 for c in tuple(server.server_state.connections)
                           if c.transport is not None and not c.transport.is_closing())
    stopping = threading.Event()
    threading.Thread(target=app.publish, args=(stopping,), daemon=True, name="xxgk-spread").start()
    try:
        server.run(sockets=[sock])
    finally:
        stopping.set()


def supervise(host: str, port: int, workers: int, log_level: str, stopping: threading.Event,
              say: Callable[[str], None]) -> None:
    """Run `workers` serving processes until `stopping` is set; a process that dies is started
    again (and said so). The config they load is in `XXGK_CONFIG`."""
    held = hold_port(host, port)
    spawn = multiprocessing.get_context("spawn")
    counts = spawn.RawArray("i", workers)  # each process's open connections (`Spread`)

    def started(me: int) -> BaseProcess:
        counts[me] = 0
        proc = spawn.Process(target=_serve_one, args=(host, port, log_level, counts, me), name="xxgk-web")
        proc.start()
        return proc

    procs = [started(me) for me in range(workers)]
    since = [time.monotonic()] * workers
    quick = 0  # processes in a row that died within seconds of starting
    try:
        while not stopping.wait(0.5):
            for i, proc in enumerate(procs):
                if proc.is_alive() or stopping.is_set():
                    continue
                quick = quick + 1 if time.monotonic() - since[i] < QUICK_S else 0
                if quick >= 3:
                    raise RuntimeError(f"网页服务进程启动后即退出（代码 {proc.exitcode}）：请查看上面的错误信息")
                say(f"网页服务进程 {proc.pid} 已退出（代码 {proc.exitcode}），重新启动")
                procs[i], since[i] = started(i), time.monotonic()
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: uvicorn finishes the requests in hand
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        held.close()
