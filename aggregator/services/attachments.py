"""Keeping a post's attachments as evidence, and making their text searchable.

After a channel's posts are stored (`keep`, called by the sync under the channel's
lease), each attachment link is fetched once through the shared fetcher — same
politeness, same hosts, a size cap — and kept under `[attachments] dir` by its sha256
(`ab/cd/abcd…`), so a file linked from many posts is kept once. A re-check (`--full`)
asks again with the validators (conditional GET): a file that changed at the source is
kept as a new version beside the old, a file that is gone (404/410) or no longer linked
keeps its copy; either way the post gets a revision that records the attachments it had.

Reading the text (`extract_pending`) comes after the sync, in a worker process with a
time cap per document, so a slow document never holds up a sync.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from aggregator.attachments.names import best_name, kind_of, mime_of
from aggregator.clock import local_now
from connectors.http import Download, FetchError, TooLarge, download, host_allowed
from storage.records import AttachmentRow
from storage.store import Store

if TYPE_CHECKING:
    from aggregator.config import AttachmentsConfig, ChannelConfig

log = logging.getLogger(__name__)


def file_path(root: Path, sha256: str) -> Path:
    """Where a kept file lives: `root/ab/cd/abcd…` (never a name from the site)."""
    return root / sha256[:2] / sha256[2:4] / sha256


@dataclass(slots=True)
class KeepReport:
    kept: int = 0  # fetched now (new files and new versions)
    deduplicated: int = 0  # of those, files already kept for another link
    unchanged: int = 0  # re-checked, the same
    changed: int = 0
    gone: int = 0
    offhost: int = 0
    problems: list[str] = field(default_factory=list)  # "url: why" — each makes the run partial


def keep(store: Store, ch: ChannelConfig, http: httpx.Client, cfg: AttachmentsConfig, *,
         recheck: bool = False) -> KeepReport:
    """Fetch and keep the attachments of the channel's posts not kept yet (and, with
    `recheck`, ask again for those kept: changed, gone, or the same)."""
    report = KeepReport()
    if ch.attachments == "off":
        return report
    root = Path(cfg.dir)
    _tidy_partials(root / ".tmp")
    hosts = ch.allowed_hosts
    posts = store.attachments.posts_with(ch.id)
    rows = store.attachments.of_posts([pid for pid, _ in posts])
    text_status = "pending" if ch.attachments == "index" else "off"
    if ch.attachments == "index":
        store.attachments.queue_texts(ch.id)  # files kept while the channel only listed them
    touched: list[int] = []
    for post_id, links in posts:
        current = {r.url: r for r in rows.get(post_id, []) if r.status != "changed"}
        before = [_evidence(r) for r in current.values() if r.sha256]
        changed_here = False
        wanted: dict[str, str] = {}
        for link in links:
            if link.get("url"):
                wanted.setdefault(link["url"], link.get("name") or "")
        for url, link_name in wanted.items():
            row = current.get(url)
            if row is None:
                outcome = _fetch_new(store, post_id, url, link_name, hosts, http, root, cfg, text_status, report)
            elif row.status in ("failed", "refused") or (row.status == "offhost" and recheck):
                outcome = _fetch_new(store, post_id, url, link_name, hosts, http, root, cfg, text_status, report,
                                     replace=row.id)
            elif recheck and row.status in ("kept", "gone"):
                outcome = _recheck(store, row, hosts, http, root, cfg, text_status, report)
                changed_here |= outcome in ("changed", "gone")
            elif row.status == "removed":  # linked again: the copy is the post's again
                store.attachments.update_link(row.id, status="kept", checked_at=local_now())
                outcome = "kept"
            else:
                continue
            if outcome in ("kept", "changed"):
                touched.append(post_id)
        for url, row in current.items():
            if url not in wanted and row.status == "kept":
                store.attachments.update_link(row.id, status="removed", checked_at=local_now())
                changed_here = True
        if changed_here and before:
            store.attachments.record_change(post_id, before, since=None)
            touched.append(post_id)
    if touched:
        store.attachments.refresh_text(sorted(set(touched)), index_chars=cfg.index_chars)
    return report


def _tidy_partials(folder: Path, older_than: float = 3600.0) -> None:
    """Downloads a killed process left half-written (`.part-*`), once nobody can be writing them."""
    if not folder.is_dir():
        return
    cutoff = time.time() - older_than
    for part in folder.glob(".part-*"):
        try:
            if part.stat().st_mtime < cutoff:
                part.unlink()
        except OSError:
            continue


def _evidence(row: AttachmentRow) -> dict[str, Any]:
    return {"name": row.name, "url": row.url, "sha256": row.sha256,
            "fetched_at": row.fetched_at.isoformat() if row.fetched_at else None}


def _store_file(store: Store, got: Download, name_hint: str, root: Path, text_status: str,
                report: KeepReport) -> tuple[str, str]:
    """Move a downloaded file into place (or drop it: the same bytes are kept already)."""
    assert got.path is not None
    name = best_name(got.disposition, name_hint, got.url)
    target = file_path(root, got.sha256)
    if target.exists():
        os.unlink(got.path)
        report.deduplicated += 1
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(got.path, target)
        os.chmod(target, 0o444)
    kind = kind_of(target, name)
    store.attachments.add_file(got.sha256, size=got.size, mime=mime_of(kind, got.content_type), kind=kind,
                              text_status=text_status)
    return name, kind


def _fetch_new(store: Store, post_id: int, url: str, link_name: str, hosts: list[str], http: httpx.Client,
               root: Path, cfg: AttachmentsConfig, text_status: str, report: KeepReport,
               replace: int | None = None) -> str:
    now = local_now()

    def record(status: str, **fields: Any) -> None:
        if replace is None:
            store.attachments.add_link(post_id, url, fields.pop("name", link_name) or link_name or url,
                                      status, checked_at=now, **fields)
        else:
            store.attachments.update_link(replace, status=status, checked_at=now, **fields)

    if not host_allowed(url, hosts):
        report.offhost += 1
        record("offhost", error=f"在本渠道的主机（{', '.join(hosts)}）之外，未下载；"
                                "如该主机属于本站，请加入渠道的 hosts")
        return "offhost"
    try:
        got = download(http, url, hosts=hosts, folder=root / ".tmp", max_bytes=cfg.max_bytes)
    except TooLarge as exc:
        report.problems.append(f"{url}: {exc}")
        record("refused", error=str(exc))
        return "refused"
    except FetchError as exc:
        report.problems.append(f"{url}: {exc}")
        record("failed", error=str(exc))
        return "failed"
    if got.path is None:
        why = f"HTTP {got.status}"
        report.problems.append(f"{url}: answered {why}")
        record("failed", error=f"下载失败：{why}")
        return "failed"
    name, _ = _store_file(store, got, link_name, root, text_status, report)
    report.kept += 1
    record("kept", name=name, sha256=got.sha256, etag=got.etag, last_modified=got.last_modified, fetched_at=now,
           error=None)
    return "kept"


def _recheck(store: Store, row: AttachmentRow, hosts: list[str], http: httpx.Client, root: Path,
             cfg: AttachmentsConfig, text_status: str, report: KeepReport) -> str:
    now = local_now()
    try:
        got = download(http, row.url, hosts=hosts, folder=root / ".tmp", max_bytes=cfg.max_bytes,
                       etag=row.etag, last_modified=row.last_modified)
    except FetchError as exc:
        report.problems.append(f"{row.url}: re-check: {exc}")
        return "failed"
    if got.not_modified:
        report.unchanged += 1
        store.attachments.update_link(row.id, checked_at=now, status="kept")
        return "unchanged"
    if got.path is None:
        if got.status in (404, 410):
            report.gone += 1
            store.attachments.update_link(row.id, status="gone", checked_at=now,
                                         error=f"来源已无此文件（HTTP {got.status}）；保留的副本仍可下载")
            return "gone"
        report.problems.append(f"{row.url}: re-check answered HTTP {got.status}")
        return "failed"
    if got.sha256 == row.sha256:
        os.unlink(got.path)
        report.unchanged += 1
        store.attachments.update_link(row.id, checked_at=now, status="kept", etag=got.etag,
                                     last_modified=got.last_modified)
        return "unchanged"
    name, _ = _store_file(store, got, row.name, root, text_status, report)
    report.changed += 1
    store.attachments.update_link(row.id, status="changed", checked_at=now,
                                 error="来源的文件已更换；此为旧版本，副本保留")
    store.attachments.add_link(row.post_id, row.url, name, "kept", sha256=got.sha256, etag=got.etag,
                              last_modified=got.last_modified, fetched_at=now, checked_at=now)
    return "changed"


@dataclass(slots=True)
class ExtractReport:
    read: int = 0
    no_text: int = 0
    unsupported: int = 0
    failed: list[str] = field(default_factory=list)


def extract_pending(store: Store, cfg: AttachmentsConfig, *, limit: int = 10_000,
                    on_file: Callable[[int, int], None] | None = None) -> ExtractReport:
    """Read the text of kept files still waiting for it (at most `limit`), each within
    `[attachments] extract_seconds`, and make their posts searchable by it."""
    from aggregator.attachments.extract import Extracted, Extractor

    report = ExtractReport()
    pending = store.attachments.pending_texts(limit)
    if not pending:
        return report
    root = Path(cfg.dir)
    with Extractor(cfg.extract_seconds) as extractor:
        for n, f in enumerate(pending, 1):
            path = file_path(root, f.sha256)
            if path.exists():
                got = extractor.run(path, f.kind, cfg.index_chars)
            else:
                got = Extracted("failed", note=f"保存的副本 {path} 不见了：请从备份恢复 [attachments] dir")
            got_status = got.status
            store.attachments.set_text(f.sha256, got.status, got.text or None, got.pages, got.note,
                                      index_chars=cfg.index_chars)
            if got_status == "text":
                report.read += 1
            elif got_status == "no_text_layer":
                report.no_text += 1
            elif got_status == "unsupported":
                report.unsupported += 1
            else:
                report.failed.append(f"{f.sha256[:12]}: {got.note}")
            if on_file:
                on_file(n, len(pending))
    return report
