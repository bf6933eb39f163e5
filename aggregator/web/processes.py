"""`xxgk serve --workers N`: N processes serving the pages, each accepting its own share of the
connections.

uvicorn's own `workers` share one listening socket, and whichever process is awake accepts every
connection waiting: 20 clients connecting at once all landed on one process while the other
idled (bench/web.py: one process at 1.27 cores, the other at 0.00). Here each process listens on
its own socket bound with SO_REUSEPORT, and Linux spreads new connections across them. This
process only supervises: it holds the port (so nothing else can take it between restarts),
starts the processes, starts one again if it dies, and stops them all when asked. Elsewhere than
Linux, uvicorn's shared socket is used.
"""

from __future__ import annotations

import multiprocessing
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess

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


def _serve_one(host: str, port: int, log_level: str) -> None:  # pragma: no cover - runs in a child process
    import uvicorn

    sock = _socket(host, port)
    config = uvicorn.Config(APP, factory=True, log_level=log_level, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def supervise(host: str, port: int, workers: int, log_level: str, stopping: threading.Event,
              say: Callable[[str], None]) -> None:
    """Run `workers` serving processes until `stopping` is set; a process that dies is started
    again (and said so). The config they load is in `XXGK_CONFIG`."""
    held = hold_port(host, port)
    spawn = multiprocessing.get_context("spawn")

    def started() -> BaseProcess:
        proc = spawn.Process(target=_serve_one, args=(host, port, log_level), name="xxgk-web")
        proc.start()
        return proc

    procs = [started() for _ in range(workers)]
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
                procs[i], since[i] = started(), time.monotonic()
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
