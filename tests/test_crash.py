"""A sync killed mid-way (SIGKILL, a real process) leaves a store the next sync completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
            stored = store.posts.count()
            assert victim.poll() is None, victim.stderr.read().decode() if victim.stderr else ""
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
    assert 300 <= stored < TOTAL, "the kill must land mid-sync"
    assert store.runs.all()[-1].status == "running"

    # The killed process's lease has not expired (the worker's [service] lease is 5 s), but its holder
    # is gone from this machine: a sync started at once takes the channel over and completes the store.
    done = subprocess.run([*cmd, "fast"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert store.posts.count() == TOTAL
    keys = {row["key"] for row in store.posts.iter_rows()}
    assert keys == {f"news-{i}" for i in range(TOTAL)}
    runs = store.runs.all()
    assert [r.status for r in runs] == ["interrupted", "ok"]
    assert "已不在运行" in runs[0].error and "crash_worker slow" in runs[0].error
    assert runs[0].finished_at <= runs[1].started_at  # closed at the holder's last sign of life
    assert store.channels.load_state("news").cursor == str(TOTAL)


# -- SIGKILL at random points of real `xxgk sync` runs, store compared whole with a clean run's --------------

SEEDS = (11, 23, 37)


def _dump(store: Store) -> dict[str, tuple]:
    """Everything a sync decides about each post: fields, tag and its revisions' texts (not clock times)."""
    out = {}
    for row in store.posts.iter_rows():
        p = store.posts.get(row["channel_id"], row["key"])
        assert p is not None
        revisions = tuple((r.title, r.body, r.published_at) for r in store.posts.revisions(p.id))
        # Keys without the loopback server's port, which differs between runs.
        out[p.key.split("/", 3)[-1]] = (p.title, p.published_at, p.body, p.department, p.item, p.category,
                         tuple(a["name"] for a in p.attachments), p.extra.get("detail"), revisions)
    return out


def _site_pages(changed: bool = False, extra: int = 0) -> dict:
    from dataclasses import replace
    from datetime import datetime

    from aggregator.demo.sites import news_posts, portal_site

    posts = news_posts(40)
    if changed:  # a correction on an old page: what a --full backfill must record as a revision
        posts[30] = replace(posts[30], paragraphs=["（更正）时间改为下午。", *posts[30].paragraphs])
    fresh = news_posts(extra, start=datetime(2025, 8, 1, 9, 0), first_id=20000) if extra else []
    return portal_site(fresh + posts, per_page=8)


def _run_sync(cfg: Path, *args: str, kill_after: float | None = None) -> int:
    env = {k: v for k, v in os.environ.items() if k not in ("XXGK_CONFIG", "XXGK_STORE_URL")}
    with subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(cfg), "sync", *args], cwd=ROOT,
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        if kill_after is None:
            return proc.wait(timeout=120)
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        return -9  # the recovery sync starts at once: the dead holder's lease is taken over, not waited out


def _config(tmp: Path, store_url: str, url: str) -> Path:
    path = tmp / "config.toml"
    path.write_text(f'[store]\nurl = "{store_url}"\n[http]\nper_host_interval = 0.0\nconcurrency = 1\n'
                    f'[service]\nlease = 60\n[[channel]]\nid = "news"\nkind = "html"\nurl = "{url}"\npreset = "vsb"\n',
                    encoding="utf-8")
    return path


def _scenario(mode: str, tmp: Path, store_url: str, seed: int | None) -> dict[str, tuple]:
    """Run `mode` (first | incremental | full) cleanly (seed None) or with a SIGKILL at a seeded moment."""
    import random

    from aggregator.demo.server import SampleServer

    kill = None if seed is None else random.Random(seed).uniform(0.4, 1.6)
    with SampleServer(_site_pages(), latency=0.02) as site:
        cfg = _config(tmp, store_url, site.url + "/portal/xwzx/xxyw.htm")
        if mode == "first":
            _run_sync(cfg, kill_after=kill)
        else:
            _run_sync(cfg)
            site.pages.update(_site_pages(changed=mode == "full", extra=12 if mode == "incremental" else 0))
            _run_sync(cfg, *(["--full"] if mode == "full" else []), kill_after=kill)
        # The next sync (or two: a killed --full resumes with --full) completes the store.
        assert _run_sync(cfg, *(["--full"] if mode == "full" else [])) in (0, 1)
        assert _run_sync(cfg) == 0
    with Store.open(store_url) as store:
        return _dump(store)


@contextmanager
def _fresh(store_url: str, folder: Path) -> Iterator[str]:
    """Another empty store beside the fixture's: a SQLite file in `folder`, or a PostgreSQL schema."""
    if store_url.startswith("sqlite"):
        folder.mkdir()
        yield f"sqlite:///{folder / 'x.db'}"
        return
    import uuid

    import sqlalchemy as sa

    schema = f"c_{uuid.uuid4().hex[:12]}"
    base = store_url.split("?")[0]
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    folder.mkdir()
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["first", "incremental", "full"])
def test_a_sync_killed_at_random_points_ends_with_the_store_a_clean_run_makes(
        mode: str, store_url: str, tmp_path: Path) -> None:
    (tmp_path / "clean").mkdir()
    clean = _scenario(mode, tmp_path / "clean", store_url, None)
    assert len(clean) == (40 if mode != "incremental" else 52)
    for seed in SEEDS:
        with _fresh(store_url, tmp_path / f"seed{seed}") as url:
            crashed = _scenario(mode, tmp_path / f"seed{seed}", url, seed)
        assert crashed.keys() == clean.keys(), (seed, clean.keys() ^ crashed.keys())
        for key in clean:
            assert crashed[key] == clean[key], (seed, key)
