"""How well and how fast the 清单 rules classify titles.

    python bench/classify.py

Prints, on the labelled dev set (bench/data/qingdan_dev.csv, a copy of
shared/qingdan_dev.csv) and on a held-out set written from the item texts
(bench/data/qingdan_holdout.csv): item accuracy, category accuracy,
precision/recall of "is a 清单 post" and of "null", the worst items with
what they were taken for; the same with the dev set split in two halves;
and the time to classify 100,000 titles, beside the same rules checked one
by one without the first-two-characters index.
"""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.qingdan import category_of  # noqa: E402
from aggregator.qingdan.classify import Classifier, default_classifier  # noqa: E402

DATA = Path(__file__).with_name("data")


def load(name: str) -> list[tuple[str, int | None]]:
    with open(DATA / name, encoding="utf-8") as fh:
        return [(r["title"], int(r["item"]) if r["item"] else None) for r in csv.DictReader(fh)]


def measure(c: Classifier, rows: list[tuple[str, int | None]]) -> dict[str, float]:
    got = [c.classify(t).item for t, _ in rows]
    want = [w for _, w in rows]
    n = len(rows)
    item_acc = sum(g == w for g, w in zip(got, want)) / n
    cat_acc = sum(category_of(g) == category_of(w) for g, w in zip(got, want)) / n

    def pr(pred: list[bool], truth: list[bool]) -> tuple[float, float]:
        tp = sum(p and t for p, t in zip(pred, truth))
        return tp / max(1, sum(pred)), tp / max(1, sum(truth))

    p_pos, r_pos = pr([g is not None for g in got], [w is not None for w in want])
    p_null, r_null = pr([g is None for g in got], [w is None for w in want])
    return {"n": n, "item": item_acc, "category": cat_acc, "p_pos": p_pos, "r_pos": r_pos,
            "p_null": p_null, "r_null": r_null}


def row(name: str, m: dict[str, float]) -> str:
    return (f"{name:<22}{m['n']:>5.0f}{m['item']:>8.3f}{m['category']:>8.3f}{m['p_pos']:>9.3f}{m['r_pos']:>9.3f}"
            f"{m['p_null']:>9.3f}{m['r_null']:>9.3f}")


def worst(c: Classifier, rows: list[tuple[str, int | None]], k: int = 8) -> list[str]:
    per: dict[int | None, list[int | None]] = defaultdict(list)
    for title, want in rows:
        per[want].append(c.classify(title).item)
    lines = []
    ranked = sorted(per.items(), key=lambda kv: sum(g == kv[0] for g in kv[1]) / len(kv[1]))
    for item, got in ranked[:k]:
        ok = sum(g == item for g in got)
        if ok == len(got):
            break
        wrong = Counter(g for g in got if g != item).most_common(2)
        lines.append(f"  item {str(item):>4}: {ok}/{len(got)} right; taken for "
                     + ", ".join(f"{w} ×{n}" for w, n in wrong))
    return lines or ["  (every item fully right)"]


class Unindexed(Classifier):
    """Baseline: every rule checked on every title (no first-two-characters index)."""

    def __init__(self, specs):  # type: ignore[no-untyped-def]
        super().__init__(specs)
        everything = list(range(len(self.rules)))
        self._index = {k: everything for k in self._index}


def main() -> None:
    c = default_classifier()
    dev, holdout = load("qingdan_dev.csv"), load("qingdan_holdout.csv")
    print("清单 classifier — item/category accuracy, precision/recall of 'is a 清单 post' (pos) and of null")
    print(f"{'set':<22}{'n':>5}{'item':>8}{'categ.':>8}{'P(pos)':>9}{'R(pos)':>9}{'P(null)':>9}{'R(null)':>9}")
    print(row("dev (all)", measure(c, dev)))
    print(row("dev half A (even rows)", measure(c, dev[0::2])))
    print(row("dev half B (odd rows)", measure(c, dev[1::2])))
    print(row("held-out", measure(c, holdout)))
    print("worst items on the dev set:")
    print("\n".join(worst(c, dev)))

    titles = [t for t, _ in dev + holdout]
    titles = [f"{titles[i % len(titles)]}（{i // len(titles)}）" if i >= len(titles) else titles[i]
              for i in range(100_000)]
    t0 = time.perf_counter()
    for t in titles:
        c.classify(t)
    fast = time.perf_counter() - t0
    base = Unindexed([r.spec for r in c.rules])
    t0 = time.perf_counter()
    for t in titles[:20_000]:
        base.classify(t)
    slow = (time.perf_counter() - t0) * 5
    print(f"100,000 titles: {fast:.2f} s ({fast * 10:.1f} µs/title); every rule on every title: {slow:.2f} s "
          f"(from 20,000) — {slow / fast:.1f}× slower")


if __name__ == "__main__":
    main()
