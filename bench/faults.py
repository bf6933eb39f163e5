"""Faults injected, survived, and posts lost — the fault suite's scenarios as a summary.

    python bench/faults.py

Runs every scenario of `tests/test_faults.py` (a 12-post VSB column on a
loopback fixture server; one fault on a detail page or a list page) against a
fresh SQLite store: the first sync with the fault, the second without. A fault
is *survived* when the first run reports it with the URL and the cause and
the second run completes the store; a post is *lost* when the store lacks it,
holds it twice, or still holds only its list entry after the second run.
Baseline, side by side: the same column synced with no fault.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.store import Store  # noqa: E402
from tests.test_faults import SCENARIOS, Scenario, run_scenario  # noqa: E402


def one(sc: Scenario | None) -> tuple[bool, int, float, str]:
    with tempfile.TemporaryDirectory() as tmp, Store.open(f"sqlite:///{tmp}/f.db") as store:
        t = time.perf_counter()
        if sc is None:
            from aggregator.config import parse_config
            from aggregator.demo.server import SampleServer
            from aggregator.demo.sites import portal_site
            from aggregator.services.sync import sync
            from tests.test_faults import COLUMN, HTTP, POSTS  # noqa: F401

            with SampleServer(portal_site(POSTS, per_page=6)) as site:
                cfg = parse_config(f'[store]\nurl = "sqlite:///{tmp}/f.db"\n[http]\n{HTTP}[[channel]]\nid = "news"\n'
                                   f'kind = "html"\nurl = "{site.url}{COLUMN}"\npreset = "vsb"\n', Path("b.toml"))
                [r] = sync(cfg, store)
            return r.status == "ok", 12 - store.posts.count("news"), time.perf_counter() - t, r.status
        try:
            first, second, elsewhere = run_scenario(sc, f"sqlite:///{tmp}/f.db", store)
        except AssertionError as exc:
            return False, -1, time.perf_counter() - t, f"unexpected: {exc}"
        keys = [r["key"] for r in store.posts.iter_rows()]
        whole = [k for k in keys if (p := store.posts.get("news", k)) is not None and p.extra.get("detail") != "missing"]
        lost = 12 - len(set(whole)) + (len(keys) - len(set(keys)))
        survived = (first.status == sc.status and sc.says in (first.error or "") and second.status == "ok"
                    and elsewhere == 0 and lost == 0)
        return survived, lost, time.perf_counter() - t, f"{first.status} → {second.status}"


def main() -> None:
    ok, lost_total = 0, 0
    print(f"   {'fault':28} {'survived':>8} {'lost':>5} {'seconds':>8}  runs")
    base = one(None)
    print(f"   {'(no fault: baseline)':28} {'—':>8} {base[1]:>5} {base[2]:>8.2f}  {base[3]}")
    for sc in SCENARIOS:
        survived, lost, seconds, how = one(sc)
        ok += survived
        lost_total += max(lost, 0)
        print(f"   {sc.name:28} {'yes' if survived else 'NO':>8} {lost:>5} {seconds:>8.2f}  {how}")
    print(f"faults injected {len(SCENARIOS)}, survived {ok}, posts lost {lost_total} (must be 0)")


if __name__ == "__main__":
    main()
