"""Small helpers the tests share: running the real `xxgk` and writing configs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_xxgk(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `xxgk ARGS…` as a real process (the console script's module)."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("XXGK_CONFIG", "XXGK_STORE_URL")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "aggregator", *args],
        capture_output=True, text=True, env=full_env, cwd=cwd or ROOT, timeout=timeout,
    )


def write_config(path: Path, store_url: str, channels: str, http: str = "") -> Path:
    path.write_text(f'[store]\nurl = "{store_url}"\n{http}\n{channels}', encoding="utf-8")
    return path


def free_port() -> int:
    """A loopback port nothing listens on now (for an `xxgk serve` a test starts)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(base: str, tries: int = 100) -> None:
    """Wait (≤ 10 s) until a served app answers `/healthz`."""
    import time
    from urllib.request import urlopen

    for _ in range(tries):
        try:
            urlopen(base + "/healthz", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
