"""One writer per channel: the lease every sync holds, and who holds it.

A lease records the holder's host, boot and process (pid and the process's start time), and
is renewed every third of its TTL while the sync runs. On the same host, a holder whose
process is gone — or whose pid now belongs to another process, or whose machine has
rebooted since — is dead, and the next sync takes the channel over at once, closing the run
it left running as interrupted. A holder on another host — or in another container, another pid
namespace — is trusted until its TTL runs out.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from storage.store import Lease, ProcessId, Store

# A lease is taken for LEASE_TTL seconds and renewed every LEASE_TTL / 3 while the sync runs:
# a process that dies on another host frees its channels within LEASE_TTL.
LEASE_TTL = 60.0


def holder_name(role: str) -> str:
    """Who holds a channel, in words a person can act on: `xxgk sync @ host pid 4242 #1a2b`."""
    return f"{role} @ {socket.gethostname()} pid {os.getpid()} #{uuid.uuid4().hex[:4]}"


@cache
def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _started(pid: int) -> str | None:
    """A process's start time (clock ticks since boot: field 22 of /proc/PID/stat), None if it is gone
    or the system does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat[stat.rindex(")") + 2:].split()[19]


@cache
def _machine() -> str:
    """Where a pid means one process: the host name and this process's pid namespace (two containers
    may share a host name and a kernel, never a pid namespace)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()} {namespace}"


def this_process() -> ProcessId:
    return ProcessId(_machine(), _boot_id(), os.getpid(), _started(os.getpid()))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def is_dead(lease: Lease, me: ProcessId | None = None) -> bool:
    """Whether the lease's holder is known to be gone. Only a holder on this host can be known
    dead (its pid is gone, or is a process started at another time, or the machine has
    rebooted since); anywhere else, and for a lease that does not say its process, the TTL rules."""
    me = me or this_process()
    held = lease.process
    if held is None or held.host != me.host:
        return False
    if held.boot_id and me.boot_id and held.boot_id != me.boot_id:
        return True
    if held.pid == me.pid:
        return False  # this process: another thread of ours holds it, alive by definition
    if not _alive(held.pid):
        return True
    now = _started(held.pid)
    return bool(held.pid_start and now and now != held.pid_start)


class ChannelBusy(Exception):
    """Another process is syncing the channel."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        since = lease.acquired_at.isoformat(sep=" ", timespec="seconds")
        super().__init__(f"正由 {lease.holder} 同步（自 {since} 起），本次未同步；稍后再试")


def acquire(store: Store, channel_id: str, holder: str, ttl: float = LEASE_TTL) -> Lease:
    """Take the channel's lease, taking it over from a dead holder on this host; `won` says whether we hold it."""
    me = this_process()
    lease = store.leases.acquire(channel_id, holder, ttl, me)
    if not lease.won and is_dead(lease, me) and store.leases.take_over(channel_id, lease):
        lease = store.leases.acquire(channel_id, holder, ttl, me)
    return lease


@contextmanager
def channel_lease(store: Store, channel_id: str, holder: str, ttl: float = LEASE_TTL) -> Iterator[Lease]:
    """Hold the channel while the block runs (renewed in the background); raise
    `ChannelBusy` naming the holder when another live process has it."""
    lease = acquire(store, channel_id, holder, ttl)
    if not lease.won:
        raise ChannelBusy(lease)
    me = lease.process
    done = threading.Event()

    def renew() -> None:
        while not done.wait(ttl / 3):
            try:
                store.leases.acquire(channel_id, holder, ttl, me)
            except Exception:  # a transient store error: the next beat tries again
                continue

    beat = threading.Thread(target=renew, name=f"lease-{channel_id}", daemon=True)
    beat.start()
    try:
        yield lease
    finally:
        done.set()
        beat.join(timeout=5)
        store.leases.release(channel_id, holder)
