"""The scheduler behind `xxgk serve` and `xxgk worker`.

One periodic tick (APScheduler, `coalesce`, `max_instances=1`, a generous
misfire grace) looks in the store for the channels that are due — each
channel's cron `schedule` in Asia/Shanghai plus its own fixed jitter, or its
backoff after failures — and syncs them on a small thread pool. There is no
job per channel: the store is the queue, so any number of workers on one
PostgreSQL store share it. Each channel is synced under its lease (one writer
per channel), and whether it is still due is asked again once the lease is
held, so a channel is synced once per due time however many workers look.

On the 1st of each month (and at start, to catch up after a night the service
was down) last month's statistics are written to `[service] export_dir`,
once: the mark `export:YYYY-MM` is claimed by exactly one process. The
weekly digest goes out on `[notify] digest`; at 08:00 each day the disclosure deadlines are
checked and what became late, short or missing is alerted once (`services.compliance.daily`).
Each night the 清单 title model is refitted if the office tagged or re-tagged posts since the last fit (one process:
the mark `retrain:YYYY-MM-DD`), so posts synced the next day of a corrected form
get the office's item.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

from aggregator.clock import SHANGHAI, local_now
from aggregator.config import TIMEZONE, ChannelConfig, Config
from aggregator.services.health import FireTimes, next_due
from aggregator.services.leases import holder_name
from aggregator.services.sync import sync
from connectors.http import HostClock
from storage.store import Store

log = logging.getLogger(__name__)
METRICS = 10_000
# The longest a tick trusts its last read that nothing is due (another process's failed run
# brings its channel's retry forward: it is seen within this).
QUIET_MAX = timedelta(seconds=5)


class Scheduler:
    """Keeps every enabled channel synced on its schedule until `stop()`."""

    def __init__(self, config: Config, store: Store, *, role: str = "xxgk worker") -> None:
        self.config = config
        self.store = store
        self.holder = holder_name(role)
        self.stopping = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=config.service.workers, thread_name_prefix="sync")
        self.running: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._aps: object | None = None
        self.first_backoff = timedelta(seconds=config.service.backoff)
        # Per-host politeness across the channels this process syncs at once.
        self.clock = HostClock(config.http.per_host_interval)
        self.fires = FireTimes()
        self.quiet_until: datetime | None = None  # no channel can fall due before then (see `tick`)
        self.soonest: datetime | None = None  # the soonest due time `due` saw in the future (at most QUIET_MAX on)
        self.ticks = 0
        # The last METRICS ticks' cost and due-to-start delays (bench/service.py): bounded for a service's life.
        self.tick_seconds: deque[float] = deque(maxlen=METRICS)  # how long each tick took to pick its channels
        self.due_delays: deque[float] = deque(maxlen=METRICS)  # seconds from a channel's due time to its sync starting

    # -- the tick -----------------------------------------------------------------------
    def due(self, now: datetime | None = None) -> list[tuple[ChannelConfig, datetime]]:
        """The enabled channels whose due time has come, most overdue first; channels due at the same
        moment in an order of this process's own (several workers over one store then start on
        different channels instead of all queuing for the same lease)."""
        now = now or local_now()
        last = self.store.runs.last_runs()
        found = []
        soonest = now + QUIET_MAX
        for ch in self.config.channels:
            when = next_due(ch, last.get(ch.id), now, self.config.service.jitter, self.first_backoff, self.fires)
            if when is not None and when <= now:
                found.append((ch, when))
            elif when is not None:
                soonest = min(soonest, when)
        self.soonest = soonest
        spread = self.holder.encode()
        return sorted(found, key=lambda pair: (pair[1], zlib.crc32(pair[0].id.encode(), zlib.crc32(spread))))

    def still_due(self, ch: ChannelConfig) -> bool:
        """Asked under the channel's lease: has nobody synced it since it fell due?"""
        last = self.store.runs.last_runs(ch.id).get(ch.id)
        when = next_due(ch, last, local_now(), self.config.service.jitter, self.first_backoff)
        return when is not None and when <= local_now()

    def tick(self) -> None:
        if self.stopping.is_set():
            return
        started = time.perf_counter()
        now = local_now()
        if self.quiet_until is not None and now < self.quiet_until:
            self.ticks += 1
            return
        try:
            due = self.due(now)
        except Exception:
            log.exception("scheduler: could not read which channels are due; trying again next tick")
            return
        self.ticks += 1
        with self._lock:
            for ch, when in due:
                if ch.id in self.running and not self.running[ch.id].done():
                    continue
                self.running[ch.id] = self.pool.submit(self._sync_one, ch, when)
            # Every due channel is ours to run: nothing else can fall due before the soonest due time
            # (runs elsewhere only make a channel due later, but for a failure's backoff: seen within
            # QUIET_MAX; one of ours ending reads again at once).
            ours = all(not self.running[ch.id].done() for ch, _ in due)
        self.quiet_until = self.soonest if ours else None
        self.tick_seconds.append(time.perf_counter() - started)

    def _sync_one(self, ch: ChannelConfig, when: datetime) -> None:
        if self.stopping.is_set():
            return
        self.due_delays.append(max(0.0, (local_now() - when).total_seconds()))
        try:
            for r in sync(self.config, self.store, [ch.id], holder=self.holder, stop=self.stopping,
                          should_run=self.still_due, clock=self.clock):
                log.info("channel %s: %s (new %d, updated %d, requests %d)%s", r.id, r.status, r.new, r.updated,
                         r.requests, f" — {r.error[:300]}" if r.error else "")
        except Exception:
            log.exception("channel %s: sync failed outside the pipeline", ch.id)
        finally:
            self.quiet_until = None  # its outcome (a failure's backoff) may bring its next run forward

    # -- once a month, once a week ------------------------------------------------------------
    def monthly_export(self, today: date | None = None) -> Path | None:
        """Write last month's statistics once (whichever process claims the month writes it)."""
        from aggregator.services.report import export_month

        today = today or local_now().date()
        first = today.replace(day=1)
        month = (first - timedelta(days=1)).strftime("%Y-%m")
        name = f"export:{month}"
        if self.store.marks.get(name) is not None or not self.store.marks.claim(name, "writing"):
            return None
        folder = Path(self.config.service.export_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = export_month(self.store, self.config, folder, month)
        except Exception as exc:
            log.exception("monthly export %s failed", month)
            self.store.marks.set(name, f"failed: {exc}")
            return None
        self.store.marks.set(name, str(path))
        log.info("monthly export: %s", path)
        return path

    def retrain(self) -> None:
        from aggregator.services.classify import retrain_if_changed

        name = f"retrain:{local_now().date().isoformat()}"
        if not self.store.marks.claim(name, "fitting"):
            return
        try:
            done = retrain_if_changed(self.store)
        except Exception as exc:
            log.exception("清单 model not refitted")
            self.store.marks.set(name, f"failed: {exc}")
            return
        self.store.marks.set(name, f"model {done.model_id}" if done else "unchanged")
        if done:
            log.info("清单 model refitted: %d examples, %d of them the office's tags", done.examples,
                     done.office_examples)

    def compliance(self) -> None:
        """The daily disclosure-deadline check: alerts what became late, short or missing, once each."""
        from aggregator.services.compliance import daily

        try:
            report = daily(self.config, self.store)
        except Exception:
            log.exception("compliance check not run")
            return
        if report is not None:
            log.info("compliance check: %s", dict(report.counts()))

    def digest(self) -> None:
        from aggregator.services.notify import send_digest

        try:
            send_digest(self.config, self.store)
        except Exception:
            log.exception("weekly digest not sent")

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Start ticking in the background (APScheduler); returns at once."""
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        aps = BackgroundScheduler(timezone=TIMEZONE, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
        tick = self.config.service.tick
        aps.add_job(self.tick, IntervalTrigger(seconds=tick, timezone=TIMEZONE), id="tick",
                    next_run_time=datetime.now(SHANGHAI))
        aps.add_job(self.monthly_export, CronTrigger(day=1, hour=0, minute=10, timezone=TIMEZONE), id="monthly")
        aps.add_job(self.retrain, CronTrigger(hour=2, minute=30, timezone=TIMEZONE), id="retrain")
        aps.add_job(self.compliance, CronTrigger(hour=8, minute=0, timezone=TIMEZONE), id="compliance")
        if self.config.notify.digest and self.config.notify.urls:
            aps.add_job(self.digest, CronTrigger.from_crontab(self.config.notify.digest, timezone=TIMEZONE),
                        id="digest")
        aps.start()
        self._aps = aps
        threading.Thread(target=self.monthly_export, name="catch-up", daemon=True).start()

    def stop(self, timeout: float = 4.0) -> None:
        """Stop fetching: running syncs store what they have and end as interrupted."""
        self.stopping.set()
        if self._aps is not None:
            self._aps.shutdown(wait=False)  # type: ignore[attr-defined]
        self.pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + timeout
        for future in list(self.running.values()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                future.result(timeout=remaining)
            except Exception:  # noqa: S110 — a sync's own errors were logged where they happened
                pass
