"""The numbers the office signs: every --by combination against counts made here, the
academic-year boundary to the minute, spreadsheets that read back the same."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.clock import to_store
from aggregator.config import parse_config
from aggregator.qingdan import category_of
from aggregator.services.report import (
    PROCUREMENT_TYPES,
    coverage,
    export_month,
    previous_month,
)
from aggregator.services.stats import DIMENSIONS, academic_year, date_range, stats
from storage.store import ChannelRecord, PostRecord, Store
from tests.helpers import write_config

CHANNELS = {"portal": ("html", "学校门户网站"), "xxgk": ("html", "信息公开网"), "cg": ("procurement", "政府采购信息"),
            "wx": ("wechat", "微信公众号"), "zsb": ("html", "本科招生信息公开")}
CONFIG = "".join(
    f'[[channel]]\nid = "{cid}"\nname = "渠道{cid}"\nkind = "{kind}"\ngroup = "{group}"\n'
    + ('path = "x"\n' if kind == "wechat" else f'url = "https://{cid}.example.edu.cn/a.htm"\npreset = "vsb"\n')
    for cid, (kind, group) in CHANNELS.items()
)


def known_posts(n: int = 600, seed: int = 3) -> list[tuple[str, PostRecord]]:
    rnd = random.Random(seed)
    out = []
    start = datetime(2021, 9, 1)
    for i in range(n):
        ch = rnd.choice(list(CHANNELS))
        item = rnd.choice([None, None, 7, 18, 19, 25, 49]) if ch != "cg" else 18
        when = start + timedelta(hours=rnd.randint(0, 24 * 365 * 3))
        out.append((ch, PostRecord(
            key=f"k{i}", title=f"t{i}", content_hash=str(i), published_at=when, item=item,
            category=category_of(item), type=rnd.choice(PROCUREMENT_TYPES) if ch == "cg" else None,
            reads=rnd.randint(0, 5000) if ch == "wx" else None)))
    # The academic-year boundary, to the minute (Asia/Shanghai).
    out.append(("portal", PostRecord(key="aug31", title="8月31日23:59", content_hash="a",
                                     published_at=datetime(2023, 8, 31, 23, 59))))
    out.append(("portal", PostRecord(key="sep1", title="9月1日0:00", content_hash="b",
                                     published_at=to_store(datetime(2023, 8, 31, 16, 0, tzinfo=UTC)))))
    return out


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> tuple[Store, list[tuple[str, PostRecord]], Path]:
    store.channels.register([ChannelRecord(c, f"渠道{c}", k, g, None, True) for c, (k, g) in CHANNELS.items()])
    posts = known_posts()
    for ch in CHANNELS:
        store.posts.write(ch, [p for c, p in posts if c == ch])
    return store, posts, tmp_path


def expected(posts: list[tuple[str, PostRecord]], dims: tuple[str, ...], start: datetime, end: datetime) -> Counter:
    counts: Counter = Counter()
    for ch, p in posts:
        if p.published_at is None or not start <= p.published_at < end:
            continue
        value = {"month": p.published_at.strftime("%Y-%m"), "channel": ch, "group": CHANNELS[ch][1],
                 "category": p.category, "item": p.item, "type": p.type}
        counts[tuple(value[d] for d in dims)] += 1
    return counts


def test_every_by_combination_matches_an_independent_count(loaded: tuple[Store, list, Path]) -> None:
    store, posts, _ = loaded
    period = academic_year("2022-2023")
    combos = [c for r in range(1, len(DIMENSIONS) + 1) for c in itertools.combinations(DIMENSIONS, r)]
    assert len(combos) == 63
    for dims in combos:
        table = stats(store, dims, period)
        got = {tuple(r[d] for d in dims): r["count"] for r in table.rows if r["count"]}
        assert got == dict(expected(posts, dims, period.start, period.end)), dims
        assert table.total["count"] == sum(got.values())


def test_empty_months_and_channels_are_zero_rows(loaded: tuple[Store, list, Path]) -> None:
    store, _, _ = loaded
    table = stats(store, ["channel", "month"], academic_year("2022-2023"))
    assert len(table.rows) == len(CHANNELS) * 12  # every channel, every month, even with 0
    assert {r["month"] for r in table.rows} == {f"2022-{m:02d}" for m in range(9, 13)} | {
        f"2023-{m:02d}" for m in range(1, 9)}
    groups = stats(store, ["group", "category"], academic_year("2022-2023"))
    assert {(r["group"], r["category"]) for r in groups.rows} >= {(g, c) for _, g in CHANNELS.values()
                                                                  for c in range(1, 11)}


def test_the_academic_year_boundary_is_31_august_2359_vs_1_september_0000(loaded: tuple[Store, list, Path]) -> None:
    store, posts, _ = loaded
    before = stats(store, ["channel"], academic_year("2022-2023"))
    after = stats(store, ["channel"], academic_year("2023-2024"))
    e1 = expected(posts, ("channel",), datetime(2022, 9, 1), datetime(2023, 9, 1))
    e2 = expected(posts, ("channel",), datetime(2023, 9, 1), datetime(2024, 9, 1))
    assert {r["channel"]: r["count"] for r in before.rows if r["count"]} == {k[0]: v for k, v in e1.items()}
    assert {r["channel"]: r["count"] for r in after.rows if r["count"]} == {k[0]: v for k, v in e2.items()}
    day = stats(store, ["channel"], date_range("2023-08-31", "2023-08-31"))  # --to takes that whole day
    assert {r["channel"]: r["count"] for r in day.rows}["portal"] == expected(
        posts, ("channel",), datetime(2023, 8, 31), datetime(2023, 9, 1))[("portal",)]


def test_reads_are_summed_per_wechat_channel(loaded: tuple[Store, list, Path]) -> None:
    store, posts, _ = loaded
    table = stats(store, ["channel"], date_range(None, None))
    reads = {r["channel"]: r["reads"] for r in table.rows}
    assert reads["wx"] == sum(p.reads or 0 for c, p in posts if c == "wx") and reads["portal"] == 0


def test_the_workbook_reads_back_with_the_same_numbers(loaded: tuple[Store, list, Path]) -> None:
    store, posts, tmp = loaded
    cfg = parse_config(CONFIG, tmp / "c.toml")
    path = export_month(store, cfg, tmp / "exports", "2023-03")
    assert path.name == "2023-03.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:5] == ["渠道×月份", "清单类别", "采购公告类型", "采购金额按月", "微信阅读"]
    ws = wb["渠道×月份"]
    assert [c.value for c in ws[1]] == ["渠道", "2023-03", "合计"] and ws.freeze_panes == "B2"
    want = expected(posts, ("channel",), datetime(2023, 3, 1), datetime(2023, 4, 1))
    got = {r[0].value: r[1].value for r in ws.iter_rows(min_row=2) if r[0].value != "合计"}
    assert got == {f"渠道{c}": want.get((c,), 0) for c in CHANNELS}
    assert ws.cell(ws.max_row, 1).value == "合计" and ws.cell(ws.max_row, 2).value == sum(want.values())
    assert ws._charts, "the channel chart is embedded"
    types = {r[0].value: r[1].value for r in wb["采购公告类型"].iter_rows(min_row=2)}
    want_types = expected(posts, ("type",), datetime(2023, 3, 1), datetime(2023, 4, 1))
    assert all(types[t] == want_types.get((t,), 0) for t in PROCUREMENT_TYPES)
    before = {ws.title: [[c.value for c in r] for r in ws.iter_rows()] for ws in wb if ws.title != "说明"}
    export_month(store, cfg, tmp / "exports", "2023-03")  # the job again: the same file, the same numbers
    again = openpyxl.load_workbook(path)
    assert {ws.title: [[c.value for c in r] for r in ws.iter_rows()] for ws in again if ws.title != "说明"} == before
    assert previous_month(datetime(2024, 1, 1).date()) == "2023-12"


def test_coverage_lists_all_fifty_items(loaded: tuple[Store, list, Path]) -> None:
    store, posts, _ = loaded
    found = coverage(store, academic_year("2022-2023"))
    assert [c.item for c in found] == list(range(1, 51))
    want = expected(posts, ("item",), datetime(2022, 9, 1), datetime(2023, 9, 1))
    assert {c.item: c.count for c in found if c.count} == {k[0]: v for k, v in want.items() if k[0]}
    assert all(c.latest is None for c in found if c.count == 0)


def test_cli_stats_coverage_and_report(loaded: tuple[Store, list, Path], store_url: str) -> None:
    store, posts, tmp = loaded
    cfg = write_config(tmp / "config.toml", store_url, CONFIG)
    runner = CliRunner()
    out = runner.invoke(app, ["--config", str(cfg), "stats", "--year", "2022-2023", "--by", "month,channel",
                              "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)["rows"]
    assert set(rows[0]) == {"month", "channel", "count", "reads"}
    csv_out = runner.invoke(app, ["--config", str(cfg), "stats", "--by", "group", "--format", "csv"]).stdout
    assert csv_out.startswith("\ufeff分组,帖子数,阅读数") and "合计" in csv_out
    cov = json.loads(runner.invoke(app, ["--config", str(cfg), "coverage", "--year", "2022-2023", "--format",
                                         "json"]).stdout)
    assert len(cov["items"]) == 50 and set(cov["items"][0]) == {"item", "category", "count", "latest"}
    xlsx = tmp / "coverage.xlsx"
    assert runner.invoke(app, ["--config", str(cfg), "coverage", "--year", "2022-2023", "--format", "xlsx",
                               "-o", str(xlsx)]).exit_code == 0
    sheet = openpyxl.load_workbook(xlsx)["清单公开情况"]
    assert [r[3].value for r in sheet.iter_rows(min_row=2)] == [c["count"] for c in cov["items"]]
    bad = runner.invoke(app, ["--config", str(cfg), "stats", "--year", "2022-2024"])
    assert bad.exit_code == 2 and "2022-2023" in bad.stderr
    for name in ("report.md", "report.docx"):
        res = runner.invoke(app, ["--config", str(cfg), "report", "--year", "2022-2023", "-o", str(tmp / name)])
        assert res.exit_code == 0, res.output
    md = (tmp / "report.md").read_text(encoding="utf-8")
    n_cg = expected(posts, ("channel",), datetime(2022, 9, 1), datetime(2023, 9, 1))[("cg",)]
    n_cg_prev = expected(posts, ("channel",), datetime(2021, 9, 1), datetime(2022, 9, 1))[("cg",)]
    assert f"本学年共发布政府采购信息公告 {n_cg} 条（上学年 {n_cg_prev} 条，" in md
    assert "《高等学校信息公开事项清单》公开情况" in md and "| 49 |" in md
    # The parts only the office knows are marked, never invented.
    assert "## 三、依申请公开和不予公开情况" in md and md.count("【待填写】") >= 6
    doc = Document(str(tmp / "report.docx"))
    assert any("政府采购信息公告" in p.text for p in doc.paragraphs) and len(doc.tables) >= 4
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"][0] == "一、概述"


def test_sqlite_groups_months_on_the_month_index(tmp_path: Path) -> None:
    """storage/stats.py's month expression must be the one ix_posts_month is built on."""
    import sqlalchemy as sa

    from storage.stats import MONTH_INDEX, count_query

    with Store.open(f"sqlite:///{tmp_path / 'x.db'}") as store:
        q = count_query("sqlite", ["month", "channel"], datetime(2023, 9, 1), datetime(2024, 9, 1),
                        months=["2023-09", "2024-08"])
        sql = str(q.compile(store.engine, compile_kwargs={"literal_binds": True}))
        with store.engine.connect() as conn:
            plan = " ".join(str(r[-1]) for r in conn.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))
    assert MONTH_INDEX in plan and "TEMP B-TREE" not in plan, plan


def test_by_channel_and_month_is_a_grid_like_the_web(loaded: tuple[Store, list, Path]) -> None:
    store, posts, _ = loaded
    period = academic_year("2022-2023")
    want = expected(posts, ("channel", "month"), period.start, period.end)  # type: ignore[arg-type]
    for dims in (["channel", "month"], ["month", "channel"]):
        grid = stats(store, dims, period).grid()
        assert grid is not None
        header, rows = grid
        assert header == ["渠道", *period.months(), "合计"]
        assert {r[0]: r[1:-1] for r in rows[:-1]} == {
            c: [want.get((c, m), 0) for m in period.months()] for c in CHANNELS}
        assert rows[-1] == ["合计", *(sum(want.get((c, m), 0) for c in CHANNELS) for m in period.months()),
                            sum(want.values())]
    assert stats(store, ["channel"], period).grid() is None
