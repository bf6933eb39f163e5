"""Importing big WeChat exports: a 50,000-article exporter JSON and a 50,000-row XLSX.

    python bench/files.py [--articles 50000]

Each import runs through the pipeline into a fresh SQLite store, in its own
process so its peak RSS is its own. Beside it, the naive baseline: loading
the same file whole (`json.load`; openpyxl without read-only mode), not even
storing anything.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.demo.files import BIZ, SCHOOL  # noqa: E402


def records(n: int) -> list[dict]:  # type: ignore[type-arg]
    out = []
    for i in range(n):
        mid, idx = 2650000000 + i // 3, i % 3 + 1
        out.append({"aid": f"{mid}_{idx}", "title": f"第{i}篇推文：{SCHOOL}新闻速递",
                    "link": f"https://mp.weixin.qq.com/s?__biz={BIZ}&mid={mid}&idx={idx}&sn=ab{i}",
                    "digest": "摘要" * 20, "create_time": 1600000000 + i * 3600, "author_name": "党委宣传部",
                    "item_show_type": 0, "_accountName": SCHOOL, "readNum": i % 9000, "oldLikeNum": i % 300,
                    "shareNum": 3, "commentNum": 1, "content": "<p>" + "正文段落。" * 40 + "</p>"})
    return out


def make(kind: str, n: int, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "json":
        path = folder / "export.json"
        path.write_text(json.dumps(records(n), ensure_ascii=False), encoding="utf-8")
        return path
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("微信公众号文章")
    ws.append(["公众号", "ID", "链接", "标题", "封面", "摘要", "创建时间", "发布时间", "阅读", "点赞", "分享", "喜欢", "留言",
               "作者", "是否原创", "文章类型", "所属合集"])
    for r in records(n):
        ws.append([SCHOOL, r["aid"], r["link"], r["title"], "", r["digest"], "2024-01-01 10:00", "2024-01-01 10:00",
                   r["readNum"], r["oldLikeNum"], 3, 1, 1, "党委宣传部", "是", "文章", ""])
    path = folder / "export.xlsx"
    wb.save(path)
    return path


def child(mode: str, path: str) -> None:
    t = time.perf_counter()
    if mode == "import":
        from aggregator.config import parse_config
        from aggregator.services.sync import sync
        from storage.store import Store

        folder = Path(path).parent
        cfg = parse_config(f'[store]\nurl = "sqlite:///{folder}/s.db"\n[[channel]]\nid = "wx"\nkind = "wechat"\n'
                           f'path = "{path}"\n', folder / "c.toml")
        store = Store.open(cfg.store.url)
        [r] = sync(cfg, store)
        assert r.status == "ok", r.error
        n = r.new
    elif path.endswith(".json"):
        with open(path, encoding="utf-8") as fh:
            n = len(json.load(fh))
    else:
        from openpyxl import load_workbook
        n = load_workbook(path).worksheets[0].max_row - 1
    print(json.dumps({"s": time.perf_counter() - t, "n": n,
                      "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run(mode: str, path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", mode, str(path)], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=50_000)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"file import benchmark: {args.articles:,} articles; baseline = loading the file whole, storing nothing")
    print(f"{'file':<6}{'size':>9}{'import':>9}{'art./s':>9}{'peak RSS':>10}{'baseline load':>15}{'baseline RSS':>14}")
    for kind in ("json", "xlsx"):
        with tempfile.TemporaryDirectory() as tmp:
            path = make(kind, args.articles, Path(tmp) / kind)
            ours, base = run("import", path), run("load", path)
            print(f"{kind:<6}{path.stat().st_size / 1e6:>7.0f}MB{ours['s']:>8.1f}s{ours['n'] / ours['s']:>9,.0f}"
                  f"{ours['rss']:>7.0f} MB{base['s']:>13.1f}s{base['rss']:>10.0f} MB")


if __name__ == "__main__":
    main()
