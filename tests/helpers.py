"""Small helpers the tests share: running the real `xxgk` and writing configs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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


CHROMIUM = "/usr/bin/chromium"


def need_chromium() -> None:
    """Skip (locally) when Debian's Chromium is missing; under CI a missing browser fails the tests."""
    import pytest

    if not Path(CHROMIUM).exists() and os.environ.get("CI", "").lower() not in ("true", "1"):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)")


def set_password(cfg: Path, password: str, *args: str) -> None:
    """`xxgk admin set-password` (or `admin add-user …` when `args` say so), password on stdin."""
    command = args or ("admin", "set-password")
    done = subprocess.run([sys.executable, "-m", "aggregator", "--config", str(cfg), *command, "--password-stdin"],
                          input=password + "\n", text=True, capture_output=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr


@contextmanager
def serving(cfg: Path, folder: Path) -> Iterator[str]:
    """A real `xxgk serve --no-scheduler` on a free loopback port, its log in `folder/serve.log`."""
    port = free_port()
    with open(folder / "serve.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(cfg), "serve", "--no-scheduler",
                                 "--port", str(port)], cwd=ROOT, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's headless Chromium, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def one_channel(path: Path, store_url: str, store: object, channel: str) -> Path:
    """A config at `path` with one html channel `channel` (never fetched: port 9), registered in `store`,
    so a test can write that channel's posts straight into the store."""
    from aggregator.config import load_config
    from aggregator.services.channels import register

    path.write_text(f'[store]\nurl = "{store_url}"\n[[channel]]\nid = "{channel}"\nkind = "html"\n'
                    'url = "http://127.0.0.1:9/x.htm"\npreset = "vsb"\n', encoding="utf-8")
    register(load_config(path), store)  # type: ignore[arg-type]
    return path
