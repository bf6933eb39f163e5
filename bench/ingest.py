"""How fast the pipeline stores posts, on SQLite and PostgreSQL.

    python bench/ingest.py [--posts 100000] [--baseline-posts 5000] [--pg URL] [--json]

For each store, in a fresh process (so peak RSS is that store's alone):
- through the store: N posts already normalised and classified, written by
  `store.posts.write` in the pipeline's batches (500) into an empty store, the
  search index maintained as in production — `posts_per_s` in `--json`
  (`{"sqlite":{"posts_per_s":X,…},"postgresql":{…}}`); target ≥ 5,000. These
  posts repeat one paragraph (few distinct character pairs, small search rows);
  `realistic_posts_per_s` is the same write of N/10 posts of realistic text
  (bench/search.py's generator, about 1.7 KB each), what a backfill of real
  notices runs at;
- first sync of N new posts through the whole pipeline (normalise, hash,
  classify, batched upsert), then a re-sync of the same N (nothing new),
  then a re-sync where 10 % changed (revisions written);
- side by side, the baseline a hand-rolled importer would write: one post at
  a time, SELECT by key then INSERT/UPDATE, one commit per post.
Prints posts/s, the ratio to the baseline, and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from aggregator.config import parse_config  # noqa: E402
from aggregator.services.sync import sync  # noqa: E402
from connectors.base import ChannelState, Checkpoint, FetchContext, Item, RawPost  # noqa: E402
from storage.store import Store  # noqa: E402
from storage.tables import posts_t  # noqa: E402

BODY = "为进一步做好学校信息公开工作，根据《高等学校信息公开办法》和《高等学校信息公开事项清单》要求，现将有关事项通知如下。" * 4
START = datetime(2023, 9, 1, 8, 0)


def make_post(i: int, version: int = 0) -> RawPost:
    return RawPost(
        title=f"关于做好2023—2024学年第{i}项信息公开工作的通知",
        url=f"https://www.example.edu.cn/info/{1000 + i % 50}/{i}.htm",
        published_at=START + timedelta(minutes=7 * i),
        body=BODY + (f"（第{version}次修订）" if version else ""),
        department="党政办公室",
    )


class Generated:
    kind = "table"
    n = 0
    changed_every = 0  # every k-th post gets a new body

    def fetch(self, ctx: FetchContext) -> Iterator[Item]:
        for i in range(self.n):
            version = 1 if self.changed_every and i % self.changed_every == 0 else 0
            yield make_post(i, version)
        yield Checkpoint(ChannelState(cursor=str(self.n)))


def config_for(url: str):  # type: ignore[no-untyped-def]
    return parse_config(
        f'[store]\nurl = "{url}"\n[[channel]]\nid = "bench"\nkind = "table"\npath = "x.csv"\n'
        '  [channel.columns]\n  title = "t"\n  date = "d"\n',
        Path("bench.toml"),
    )


def timed_sync(cfg, store: Store, n: int, changed_every: int = 0) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    connector = type("G", (Generated,), {"n": n, "changed_every": changed_every})
    t = time.perf_counter()
    [result] = sync(cfg, store, connectors={"table": connector})
    return time.perf_counter() - t, result


def naive_baseline(url: str, n: int) -> float:
    """One post at a time: SELECT by key, INSERT or UPDATE, COMMIT."""
    from aggregator.pipeline.normalize import normalise

    store = Store.open(url)
    store.engine.dispose()
    engine = store.engine
    t = time.perf_counter()
    for i in range(n):
        rec = normalise(make_post(i))
        with engine.begin() as conn:
            row = conn.execute(
                sa.select(posts_t.c.id, posts_t.c.content_hash).where(
                    posts_t.c.channel_id == "bench", posts_t.c.key == rec.key
                )
            ).first()
            now = datetime.now()
            if row is None:
                conn.execute(posts_t.insert().values(
                    channel_id="bench", key=rec.key, url=rec.url, title=rec.title, body=rec.body,
                    published_at=rec.published_at, department=rec.department, attachments=[],
                    extra={}, content_hash=rec.content_hash, first_seen_at=now, updated_at=now))
            elif row.content_hash != rec.content_hash:
                conn.execute(posts_t.update().where(posts_t.c.id == row.id).values(
                    title=rec.title, body=rec.body, content_hash=rec.content_hash, updated_at=now))
    return time.perf_counter() - t


def through_store(url: str, n: int) -> float:
    """Seconds to write n prepared posts through `store.posts.write`, batch by batch, then removed."""
    from aggregator.pipeline import BATCH_SIZE
    from aggregator.pipeline.normalize import normalise
    from storage.store import ChannelRecord

    records = [normalise(make_post(i)) for i in range(n)]
    with Store.open(url) as store:
        store.channels.register([ChannelRecord("store", "store", "table", "store", None, True)])
        t = time.perf_counter()
        for i in range(0, n, BATCH_SIZE):
            store.posts.write("store", records[i : i + BATCH_SIZE])
        took = time.perf_counter() - t
        with store.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM posts"))
    return took


def realistic_through_store(url: str, n: int) -> float:
    """Seconds to write n posts of realistic text (bench/search.py's: titles of 12–30 characters,
    bodies of 300–800, character pairs as varied as real notices) through `store.posts.write`.
    This bench's own posts repeat one paragraph, so their search rows are small; a real post's
    has several hundred distinct pairs, and its index costs that much more to write."""
    from search import generate  # bench/search.py, beside this script

    from aggregator.pipeline import BATCH_SIZE
    from storage.store import ChannelRecord

    by_channel: dict[str, list] = {}  # type: ignore[type-arg]
    for channel, rec in generate(n):
        by_channel.setdefault(channel, []).append(rec)
    with Store.open(url) as store:
        store.channels.register([ChannelRecord(c, c, "table", "real", None, True) for c in by_channel])
        t = time.perf_counter()
        for channel, recs in by_channel.items():
            for i in range(0, len(recs), BATCH_SIZE):
                store.posts.write(channel, recs[i : i + BATCH_SIZE])
        took = time.perf_counter() - t
        with store.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM posts"))
    return took


def run_one(url: str, n: int, baseline_n: int) -> dict[str, float]:
    stored = through_store(url, n)
    cfg = config_for(url)
    store = Store.open(url)
    first, r1 = timed_sync(cfg, store, n)
    again, r2 = timed_sync(cfg, store, n)
    changed, r3 = timed_sync(cfg, store, n, changed_every=10)
    assert (r1.new, r2.new, r2.updated, r3.updated) == (n, 0, 0, n // 10), (r1, r2, r3)
    # The baseline writes into a second channel of the same store, so it is
    # measured against the same table size the real run ended with.
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM post_revisions"))
        conn.execute(sa.text("DELETE FROM posts"))
    store.close()
    base = naive_baseline(url, baseline_n)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the generator's dictionary
    real_n = max(1000, n // 10)  # last: the measures above start from an empty store
    real = realistic_through_store(url, real_n)
    return {"posts_per_s": n / stored, "realistic_posts_per_s": real_n / real, "first": n / first,
            "again": n / again, "changed": n / changed,
            "baseline": baseline_n / base, "rss_mb": rss_mb,
            "first_s": first, "again_s": again, "changed_s": changed}


def pg_schema_url(admin_url: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(admin_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return schema, f"{admin_url}?options=-csearch_path%3D{schema}"


def drop_schema(admin_url: str, schema: str) -> None:
    engine = sa.create_engine(admin_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--baseline-posts", type=int, default=5_000)
    ap.add_argument("--pg", default=os.environ.get("XXGK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one store in this process
    args = ap.parse_args()

    if args.one:
        print(json.dumps(run_one(args.one, args.posts, args.baseline_posts)))
        return

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite (WAL)", f"sqlite:///{tmp}/bench.db", None)]
        try:
            schema, url = pg_schema_url(args.pg)
            targets.append(("PostgreSQL", url, schema))
        except Exception as exc:
            print(f"PostgreSQL skipped: {str(exc).splitlines()[0]}", file=sys.stderr)
        for name, url, schema in targets:
            try:
                out = subprocess.run(
                    [sys.executable, __file__, "--one", url, "--posts", str(args.posts),
                     "--baseline-posts", str(args.baseline_posts)],
                    check=True, capture_output=True, text=True,
                ).stdout
                rows.append((name, json.loads(out.strip().splitlines()[-1])))
            finally:
                if schema:
                    drop_schema(args.pg, schema)

    if args.json:
        keys = {"SQLite (WAL)": "sqlite", "PostgreSQL": "postgresql"}
        print(json.dumps({keys[name]: {k: round(v, 1) for k, v in r.items()} for name, r in rows}))
        return
    print(f"ingest benchmark: {args.posts:,} posts per store; baseline = one post per transaction "
          f"(SELECT+INSERT/UPDATE, {args.baseline_posts:,} posts)")
    head = f"{'store':<14}{'store write':>15}{'first sync':>14}{'re-sync':>14}{'10% changed':>14}{'baseline':>12}{'ratio':>8}{'peak RSS':>11}"
    print(head)
    print("-" * len(head))
    for name, r in rows:
        print(f"{name:<14}{r['posts_per_s']:>11,.0f} p/s{r['first']:>10,.0f} p/s{r['again']:>10,.0f} p/s{r['changed']:>10,.0f} p/s"
              f"{r['baseline']:>8,.0f} p/s{r['first'] / r['baseline']:>7.1f}×{r['rss_mb']:>8.0f} MB")
    for name, r in rows:
        print(f"{name}: first sync {r['first_s']:.1f} s, re-sync {r['again_s']:.1f} s, "
              f"10% changed {r['changed_s']:.1f} s")
    print(f"posts of realistic text ({max(1000, args.posts // 10):,}, about 1.7 KB each) through the store: "
          + ", ".join(f"{name} {r['realistic_posts_per_s']:,.0f} p/s" for name, r in rows))


if __name__ == "__main__":
    main()
