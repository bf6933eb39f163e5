"""A sync killed mid-way (SIGKILL, a real process) leaves a store the next sync completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from storage.store import Store
from tests.helpers import ROOT

TOTAL = 1000


@pytest.mark.slow
def test_killing_a_sync_midway_and_syncing_again_gives_a_complete_store(store_url: str, store: Store) -> None:
    cmd = [sys.executable, "-m", "tests.crash_worker", store_url, str(TOTAL)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    stored = 0
    with subprocess.Popen([*cmd, "slow"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE) as victim:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and stored < 300:
            time.sleep(0.05)
            stored = store.count_posts()
            assert victim.poll() is None, victim.stderr.read().decode() if victim.stderr else ""
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
    assert 300 <= stored < TOTAL, "the kill must land mid-sync"
    assert store.runs()[-1]["status"] == "running"

    # The killed process still holds the channel's lease for a moment: a sync now is refused, naming it…
    early = subprocess.run([*cmd, "fast"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert early.returncode == 1 and early.stdout.startswith("failed 0") and "crash_worker" in early.stdout
    # …and once the lease has expired (the worker's [service] lease is 5 s), the next sync completes the store.
    time.sleep(5.2)
    done = subprocess.run([*cmd, "fast"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert store.count_posts() == TOTAL
    keys = {row["key"] for row in store.iter_posts()}
    assert keys == {f"news-{i}" for i in range(TOTAL)}
    assert [r["status"] for r in store.runs()] == ["interrupted", "ok"]
    assert store.load_state("news").cursor == str(TOTAL)
