"""A search server beside the store: Groonga (Debian's `groonga-bin`) on the posts of bench/search.py.

    apt-get install groonga-bin
    python bench/groonga.py [--posts 100000] [--runs 15] [--json]
    python bench/search.py --posts 100000 --no-pg --no-trigram --keep /tmp/s.db   # the baseline, once
    python bench/groonga.py --posts 100000 --against /tmp/s.db                    # side by side

PostgreSQL's own indexes hold one of issue #28's two search bars or the other, not both
(bench/pg_designs.py: within 2.5× of the text, or counts near SQLite's). Groonga keeps what
SQLite's FTS5 keeps — posting lists of character pairs with their positions, so a phrase is
checked in the index — in an engine of its own, run as an HTTP server that many web processes
and machines could share. This measures it on the same generated posts and queries: the load
with its indexes kept up (a request of 2,000 posts at a time), the index against the text, and
p50/p95 ms per query class for the count and for the first page of 20 newest, each asked over
HTTP on loopback as a web process would, Groonga's query cache off. Each count is checked
against the generated posts (every word of the query in the title or the body), so a fast
wrong answer cannot pass. Nothing in the project uses Groonga: this is the measurement behind
docs/deploy.md's row on it.

`--against PATH` measures the store's own search (SQLite: FTS5, pairs with positions and a
list of characters) on the store bench/search.py kept at PATH — the same posts — and prints
Groonga's p95 against it per class. `--json` prints {"groonga": {"count_p95_ms",
"first_page_p95_ms", "index_ratio", "load_posts_per_s"}, "sqlite": {…} with --against}, each
the worst query class (the tables go to stderr).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

# bench/search.py: the same posts and queries
from search import CLASSES, bench_ours, generate, pct, worst  # noqa: E402

from storage.store import Store  # noqa: E402

# The text as the store reads it: pairs of characters with their positions (a phrase is checked
# in the index), symbols, letters and digits split as Han is (DNLG2023 found by "2023"),
# full-width folded to half-width and letters to lower case (NFKC).
SCHEMA = [
    ("table_create", {"name": "Posts", "flags": "TABLE_NO_KEY"}),
    ("column_create", {"table": "Posts", "name": "title", "flags": "COLUMN_SCALAR", "type": "ShortText"}),
    ("column_create", {"table": "Posts", "name": "body", "flags": "COLUMN_SCALAR", "type": "Text"}),
    ("column_create", {"table": "Posts", "name": "channel", "flags": "COLUMN_SCALAR", "type": "ShortText"}),
    ("column_create", {"table": "Posts", "name": "published_at", "flags": "COLUMN_SCALAR", "type": "Time"}),
    ("table_create", {"name": "Terms", "flags": "TABLE_PAT_KEY", "key_type": "ShortText",
                      "default_tokenizer": "TokenBigramSplitSymbolAlphaDigit", "normalizer": "NormalizerNFKC150"}),
    ("column_create", {"table": "Terms", "name": "text", "flags": "COLUMN_INDEX|WITH_POSITION|WITH_SECTION",
                       "type": "Posts", "source": "title,body"}),
    # One character from a list of its own, as SQLite's store keeps: the pairs' lexicon finds it
    # only by merging every pair it begins (a character of 100k posts counted in 58 ms, p95, without this list).
    ("table_create", {"name": "Chars", "flags": "TABLE_HASH_KEY", "key_type": "ShortText",
                      "default_tokenizer": "TokenUnigram", "normalizer": "NormalizerNFKC150"}),
    ("column_create", {"table": "Chars", "name": "text", "flags": "COLUMN_INDEX|WITH_SECTION",
                       "type": "Posts", "source": "title,body"}),
    ("table_create", {"name": "Channels", "flags": "TABLE_HASH_KEY", "key_type": "ShortText"}),
    ("column_create", {"table": "Channels", "name": "posts", "flags": "COLUMN_INDEX", "type": "Posts",
                       "source": "channel"}),
    ("table_create", {"name": "Times", "flags": "TABLE_PAT_KEY", "key_type": "Time"}),
    ("column_create", {"table": "Times", "name": "posts", "flags": "COLUMN_INDEX", "type": "Posts",
                       "source": "published_at"}),
]
# What the index costs: the lexicon and its posting lists, and the filters' own (the posts' columns
# are the text and its fields, as the store's tables are). Groonga's `disk_usage` is its files' size,
# what it set aside included (4 MB at least a table): a figure for 100k posts, not for a few thousand.
INDEXES = ["Terms", "Terms.text", "Chars", "Chars.text", "Channels", "Channels.posts", "Times", "Times.posts"]
FILTER = 'channel == "ch3" && published_at >= "2023-09-01 00:00:00" && published_at < "2024-09-01 00:00:00"'


class Groonga:
    """A Groonga HTTP server on a free loopback port over the database in `folder`; stopped by `close`."""

    def __init__(self, folder: Path) -> None:
        db = folder / "db"
        subprocess.run(["groonga", "-n", str(db), "quit"], check=True, capture_output=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(["groonga", "-s", "--protocol", "http", "--bind-address", "127.0.0.1",
                                      "-p", str(self.port), str(db)], stdout=subprocess.DEVNULL)
        for _ in range(100):
            try:
                self.call("status")
                return
            except OSError:
                time.sleep(0.05)
        self.proc.kill()
        raise SystemExit(f"groonga did not answer on 127.0.0.1:{self.port} within 5 s")

    def call(self, command: str, params: dict[str, Any] | None = None, body: bytes | None = None) -> Any:
        url = f"http://127.0.0.1:{self.port}/d/{command}?{urllib.parse.urlencode(params or {})}"
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            header, *result = json.loads(response.read())
        if header[0] != 0:
            raise SystemExit(f"groonga {command}: {header}")
        return result[0] if result else None

    def close(self) -> None:
        self.call("shutdown")
        self.proc.wait(timeout=30)


def load(g: Groonga, n: int) -> tuple[list[tuple[str, str, str, str]], float]:
    """The generated posts into Groonga, 2,000 a request; the posts (channel, title, body, date) and
    the seconds the load took."""
    posts, batch, spent = [], [], 0.0

    def send() -> float:
        t0 = time.perf_counter()
        loaded = g.call("load", {"table": "Posts"}, json.dumps(batch, ensure_ascii=False).encode())
        if loaded != len(batch):
            raise SystemExit(f"groonga loaded {loaded} of {len(batch)} posts")
        return time.perf_counter() - t0

    for channel, post in generate(n):
        when = post.published_at.strftime("%Y-%m-%d %H:%M:%S")
        posts.append((channel, post.title, post.body or "", when))
        batch.append({"title": post.title, "body": post.body, "channel": channel, "published_at": when})
        if len(batch) == 2000:
            spent += send()
            batch = []
    if batch:
        spent += send()
    return posts, spent


def expected(posts: list[tuple[str, str, str, str]], q: str, filtered: bool) -> int:
    words = q.split()
    return sum(1 for channel, title, body, when in posts
               if all(w in title or w in body for w in words)
               and (not filtered or (channel == "ch3" and "2023-09-01" <= when < "2024-09-01")))


def select(q: str, filtered: bool, page: bool) -> dict[str, Any]:
    one = len(q) == 1  # a single character: its own list
    params = {"table": "Posts", "match_columns": "Chars.text" if one else "Terms.text",
              "query": " ".join(f'"{w}"' for w in q.split()),
              "output_columns": "_id,published_at" if page else "_id", "limit": 20 if page else 0,
              "cache": "no"}  # every run searched again, none answered from Groonga's query cache
    if page:
        params["sort_keys"] = "-published_at"
    if filtered:
        params["filter"] = FILTER
    return params


def measure(g: Groonga, posts: list[tuple[str, str, str, str]], runs: int) -> dict[str, tuple[float, ...]]:
    out = {}
    for cls, queries in CLASSES.items():
        filtered = cls == "filtered"
        counts, pages = [], []
        for q in queries:
            got = g.call("select", select(q, filtered, page=False))[0][0][0]
            want = expected(posts, q, filtered)
            if got != want:
                raise SystemExit(f"groonga counted {got} posts for {q!r}, the posts hold {want}")
            for _ in range(runs):
                for params, into in ((select(q, filtered, False), counts), (select(q, filtered, True), pages)):
                    t0 = time.perf_counter()
                    g.call("select", params)
                    into.append((time.perf_counter() - t0) * 1000)
        out[cls] = (pct(counts, 0.5), pct(counts, 0.95), pct(pages, 0.5), pct(pages, 0.95))
    return out


def run(args: argparse.Namespace) -> tuple[dict[str, tuple[float, ...]], dict[str, float]]:
    folder = Path(tempfile.mkdtemp(prefix="xxgk-groonga-"))
    try:
        g = Groonga(folder)
        try:
            for command, params in SCHEMA:
                g.call(command, params)
            posts, spent = load(g, args.posts)
            g.call("io_flush")
            text = sum(len(t.encode()) + len(b.encode()) for _, t, b, _ in posts)
            parts = {name: g.call("object_inspect", {"name": name})["disk_usage"] for name in INDEXES}
            index = sum(parts.values())
            results = measure(g, posts, args.runs)
        finally:
            g.close()
    finally:
        shutil.rmtree(folder)
    print(f"groonga {args.posts:,} posts, text {text / 1e6:.0f} MB, index {index / text:.2f}× the text, "
          f"load {args.posts / spent:.0f} posts/s", file=sys.stderr)
    print("  " + ", ".join(f"{name} {size / text:.2f}×" for name, size in parts.items()), file=sys.stderr)
    return results, {"index_ratio": round(index / text, 2), "load_posts_per_s": round(args.posts / spent)}


def baseline(path: str, posts: int, runs: int) -> dict[str, tuple[float, ...]]:
    """The store's own search on the SQLite store bench/search.py kept at `path`."""
    store = Store.open(f"sqlite:///{path}")
    try:
        if store.posts.count() != posts:
            sys.exit(f"{path} holds {store.posts.count():,} posts, not {posts:,}: "
                     f"python bench/search.py --posts {posts} --no-pg --no-trigram --keep {path}")
        return bench_ours(store, runs)
    finally:
        store.close()


def report(results: dict[str, dict[str, tuple[float, ...]]]) -> None:
    """Per class, each engine's p50/p95 ms of the count and of the first page (with its total), and
    Groonga's p95 against the store's when both ran."""
    print(f"{'class':16}" + "".join(f"{name + ' count p50/p95':>26}{'page p50/p95':>16}" for name in results)
          + ("   groonga/sqlite p95: count, page" if len(results) > 1 else ""), file=sys.stderr)
    for cls in CLASSES:
        line = f"{cls:16}"
        for r in results.values():
            c50, c95, p50, p95 = r[cls]
            line += f"{c50:15.1f} {c95:6.1f}   {p50:9.1f} {p95:6.1f}"
        if "sqlite" in results:
            g, b = results["groonga"][cls], results["sqlite"][cls]
            line += f"   {g[1] / b[1]:5.2f}× {g[3] / b[3]:5.2f}×"
        print(line, file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--against", metavar="PATH", help="the SQLite store bench/search.py --keep left, as the baseline")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if shutil.which("groonga") is None:
        sys.exit("bench/groonga.py needs Groonga's server: apt-get install groonga-bin")
    # The baseline first: a store of other posts is refused before Groonga's load.
    sqlite = baseline(args.against, args.posts, args.runs) if args.against else None
    results, figures = run(args)
    summary: dict[str, dict[str, float]] = {"groonga": {**worst(results), **figures}}
    tables = {"groonga": results}
    if sqlite:
        tables["sqlite"], summary["sqlite"] = sqlite, worst(sqlite)
    report(tables)
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
