"""Attachments: how fast their text is read, and what keeping 1,000 of them costs.

    python bench/attachments.py [--docs 20] [--pages 20] [--links 1000]

1. Extraction throughput: PDFs (reportlab, CJK text, `--pages` pages each) and DOCX
   (python-docx, paragraphs and a table) read through the `Extractor` worker (time cap,
   memory cap, one process) beside `extract()` in this process — the price of isolation.
2. Store size per 1,000 attachments: a VSB site on loopback with `--links` attachment
   links over 60 % as many distinct files (real sites link the same 报名表 again and
   again) synced into SQLite with `attachments = "index"`, beside the same site with
   `attachments = "off"`: bytes kept on disk, database growth (attachment text, its
   search index, the rows), and the sync's time, side by side.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.attachments.extract import Extractor, extract  # noqa: E402
from aggregator.demo.attachments import disposition, docx_bytes, pdf_bytes, xlsx_bytes  # noqa: E402
from aggregator.demo.server import Resource, SampleServer  # noqa: E402
from aggregator.demo.sites import OWNER, SamplePost, portal_site  # noqa: E402

LINE = "根据《高等学校信息公开办法》，现将我校2025年硕士研究生拟录取名单予以公示，公示期10个工作日。"


def throughput(folder: Path, docs: int, pages: int) -> None:
    pdfs, docxs = [], []
    for i in range(docs):
        p = folder / f"{i}.pdf"
        p.write_bytes(pdf_bytes([f"{LINE}（{i}-{j}）" for j in range(36)], pages=pages))
        pdfs.append(p)
        d = folder / f"{i}.docx"
        d.write_bytes(docx_bytes([f"{LINE}（{i}-{j}）" for j in range(200)],
                                 table=[["序号", "姓名", "专业"]] + [[str(k), "张三", "软件工程"] for k in range(60)]))
        docxs.append(d)
    print(f"extraction — {docs} PDFs of {pages} pages, {docs} DOCX of 200 paragraphs + a 61-row table")
    print(f"{'':<10}{'worker (capped)':>22}{'in process':>18}{'worker / in process':>22}")
    for kind, files, unit in (("pdf", pdfs, pages), ("docx", docxs, 1)):
        t0 = time.perf_counter()
        with Extractor(seconds=60) as x:
            chars = sum(len(x.run(f, kind, 10_000_000).text) for f in files)
        worker = time.perf_counter() - t0
        t0 = time.perf_counter()
        for f in files:
            extract(f, kind, 10_000_000)
        inproc = time.perf_counter() - t0
        n = len(files) * unit
        what = "pages/s" if kind == "pdf" else "docs/s"
        print(f"{kind:<10}{n / worker:>14,.1f} {what:<7}{n / inproc:>10,.1f} {what:<7}{worker / inproc:>20.2f}×"
              f"   ({chars / worker / 1000:,.0f}k characters/s through the worker)")


def site(links: int) -> tuple[dict[str, Resource], int]:
    """A portal whose posts carry 4 attachments each: `links` links over ~60 % distinct files."""
    per_post = 4
    distinct = int(links * 0.6)
    day = datetime(2025, 6, 30, 9, 0)
    posts = [SamplePost(30000 + i, f"2025年第{i}号通知（附件{per_post}个）", day - timedelta(hours=i), [LINE],
                        attachments=[f"附件{j}" for j in range(per_post)]) for i in range(links // per_post)]
    pages = portal_site(posts, per_page=20)
    octet = "application/octet-stream"
    bodies: dict[int, bytes] = {}  # one body per distinct file (python-docx stamps each save)
    for i, p in enumerate(posts):
        for j in range(per_post):
            n = (i * per_post + j) % distinct
            kind = ("pdf", "docx", "xlsx")[n % 3]
            if n not in bodies:
                bodies[n] = {"pdf": lambda: pdf_bytes([f"{LINE}（{n}）"] * 20, pages=2),
                             "docx": lambda: docx_bytes([f"{LINE}（{n}）"] * 30),
                             "xlsx": lambda: xlsx_bytes([["序号", "内容"]] + [[k, f"{LINE}（{n}）"] for k in range(30)]),
                             }[kind]()
            body = bodies[n]
            url = f"/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner={OWNER}&wbfileid={p.news_id}{j}"
            pages[url] = Resource(body, octet, headers={"Content-Disposition": disposition(f"附件{n}.{kind}")})
    return pages, distinct


def store_size(folder: Path, links: int) -> None:
    from aggregator.config import load_config
    from aggregator.services.sync import sync
    from storage.store import Store

    pages, distinct = site(links)
    print(f"\nstore — {links:,} attachment links over {distinct:,} distinct files (PDF, DOCX, XLSX), SQLite")
    results = {}
    with SampleServer(pages) as server:
        for mode in ("off", "index"):
            home = folder / mode
            home.mkdir()
            cfg_path = home / "config.toml"
            cfg_path.write_text(
                f'[store]\nurl = "sqlite:///{home / "x.db"}"\n[http]\nper_host_interval = 0.0\n'
                f'[[channel]]\nid = "portal"\nkind = "html"\nurl = "{server.url}/portal/xwzx/xxyw.htm"\n'
                f'preset = "vsb"\nattachments = "{mode}"\n', encoding="utf-8")
            cfg = load_config(cfg_path)
            with Store.open(cfg.store.url) as store:
                t0 = time.perf_counter()
                (result,) = sync(cfg, store)
                seconds = time.perf_counter() - t0
                usage = store.attachments.usage()
            kept = sum(f.stat().st_size for f in (home / "attachments").rglob("*") if f.is_file()) \
                if (home / "attachments").exists() else 0
            results[mode] = (seconds, (home / "x.db").stat().st_size, kept, usage, result.status)
    off, on = results["off"], results["index"]
    per = 1000 / links
    print(f"{'':<26}{'attachments = off':>20}{'attachments = index':>22}")
    print(f"{'sync time':<26}{off[0]:>18.1f} s{on[0]:>20.1f} s   ({on[0] / off[0]:.1f}×)")
    print(f"{'database':<26}{off[1] / 1e6:>17.2f} MB{on[1] / 1e6:>19.2f} MB")
    print(f"{'files kept':<26}{'—':>20}{on[2] / 1e6:>19.2f} MB   ({on[3].files:,} files for {on[3].links:,} links)")
    print(f"per 1,000 attachments: {on[2] * per / 1e6:.2f} MB of files + {(on[1] - off[1]) * per / 1e6:.2f} MB "
          f"of database (text, search index, rows); status {on[4]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=20)
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--links", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "docs").mkdir()
        throughput(Path(tmp) / "docs", args.docs, args.pages)
        store_size(Path(tmp), args.links)


if __name__ == "__main__":
    main()
