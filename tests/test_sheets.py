"""Every spreadsheet a face writes keeps a scraped title a title: a post titled like a formula is
text when the XLSX is read back (no cell of type formula) and neutralised in CSV (a leading ')."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from storage.store import PostRecord, Store
from tests.helpers import one_channel, run_xxgk, serving

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(1,2)", "\t=1", "=cmd|' /C calc'!A0"]


@pytest.fixture
def hostile(store_url: str, store: Store, tmp_path: Path) -> Path:
    cfg = one_channel(tmp_path / "config.toml", store_url, store, "news")
    store.posts.write("news", [PostRecord(key=f"k{i}", title=t, content_hash=str(i), body="正文",
                                          department=t, published_at=datetime(2024, 10, 1 + i, 9), item=2,
                                          category=1) for i, t in enumerate(HOSTILE)])
    return cfg


def _no_formulas(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    return texts


def _csv_cells(text: str) -> list[str]:
    assert text.startswith("\ufeff")
    return [c for row in csv.reader(io.StringIO(text[1:])) for c in row]


def test_every_writer_keeps_hostile_titles_text(hostile: Path, tmp_path: Path) -> None:
    cfg = str(hostile)
    xlsx = tmp_path / "all.xlsx"
    assert run_xxgk("--config", cfg, "export", "--format", "xlsx", "-o", str(xlsx)).returncode == 0
    assert set(HOSTILE) <= set(_no_formulas(xlsx))  # kept exactly, as text
    exported = run_xxgk("--config", cfg, "export", "--format", "csv")
    cells = _csv_cells(exported.stdout)
    assert all(f"'{t}" in cells for t in HOSTILE) and not any(c in HOSTILE for c in cells)
    stats = tmp_path / "stats.xlsx"
    assert run_xxgk("--config", cfg, "stats", "--year", "2024-2025", "--format", "xlsx", "-o",
                    str(stats)).returncode == 0
    _no_formulas(stats)
    coverage = tmp_path / "coverage.xlsx"
    assert run_xxgk("--config", cfg, "coverage", "--year", "2024-2025", "--format", "xlsx", "-o",
                    str(coverage)).returncode == 0
    _no_formulas(coverage)
    # The audit log's CSV: a tag whose actor or values look like formulas stays inert.
    post_id = json.loads(run_xxgk("--config", cfg, "search", "HYPERLINK", "--json").stdout)["results"][0]["id"]
    assert run_xxgk("--config", cfg, "tag", str(post_id), "3").returncode == 0
    log = run_xxgk("--config", cfg, "admin", "log", "--format", "csv")
    assert log.returncode == 0 and _csv_cells(log.stdout)[:2] == ["时间", "操作人"]
    # The web's downloads of a search.
    import httpx

    with serving(hostile, tmp_path) as url:
        got = httpx.get(url + "/search.xlsx", params={"q": "正文"}, timeout=20)
        assert got.status_code == 200
        (tmp_path / "search.xlsx").write_bytes(got.content)
        assert set(HOSTILE) <= set(_no_formulas(tmp_path / "search.xlsx"))
        cells = _csv_cells(httpx.get(url + "/search.csv", params={"q": "HYPERLINK"}, timeout=20).text)
        assert f"'{HOSTILE[0]}" in cells and HOSTILE[0] not in cells


def test_the_sheets_module_neutralises_each_formula_start() -> None:
    from aggregator.services.sheets import csv_text

    cells = _csv_cells(csv_text(["标题"], [[t] for t in HOSTILE] + [[42], ["通知"]]))
    assert cells == ["标题", *[f"'{t}" for t in HOSTILE], "42", "通知"]
