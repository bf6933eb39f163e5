"""The report's last two WeChat figures, from the exports offices already download: an official
account's followers (公众号后台「用户增长」) and a 视频号's videos and views (视频号助手「动态数据」).

The exports are the demo's (aggregator/demo/files.py), read through a `wechat` channel into a real
store on both databases; what each figure must be is worked out here from the rows the files were
written from, never by our own reading of them.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.config import Config, parse_config
from aggregator.demo.files import VIDEOS, follower_days, write_follower_export, write_video_export
from aggregator.services.platforms import platform_figures
from aggregator.services.report import report_data, report_markdown, write_workbook
from aggregator.services.stats import academic_year
from aggregator.services.sync import sync
from storage.store import Store

YEAR = academic_year("2024-2025")


def config(folder: Path, store_url: str) -> Config:
    text = (f'[store]\nurl = "{store_url}"\n'
            f'[[channel]]\nid = "wx"\nname = "官方微信公众号"\nkind = "wechat"\npath = "{(folder / "wx").as_posix()}"\n'
            f'[[channel]]\nid = "sph"\nname = "官方视频号"\nkind = "wechat"\npath = "{(folder / "sph").as_posix()}"\n')
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return parse_config(text, path)


def sync_all(cfg: Config, store: Store) -> list[str]:
    return [r.status for r in sync(cfg, store)]


def test_followers_and_videos_come_from_the_exports_as_the_platforms_state_them(tmp_path: Path, store_url: str,
                                                                                store: Store) -> None:
    write_follower_export(tmp_path / "wx" / "用户增长.xlsx")
    write_video_export(tmp_path / "sph" / "动态数据.xlsx")
    cfg = config(tmp_path, store_url)
    assert sync_all(cfg, store) == ["ok", "ok"]
    days = [d for d in follower_days() if YEAR.start.date() <= d[0] < YEAR.end.date()]
    first_day, last_day = days[0], days[-1]
    figures = platform_figures(store, cfg, YEAR)
    [account] = figures.accounts
    assert account.at_end == last_day[3] and account.last_day == last_day[0]
    assert account.at_start == first_day[3] - first_day[1] + first_day[2]  # the day before the year began
    assert account.gained == sum(d[1] for d in days) and account.lost == sum(d[2] for d in days)
    assert account.net == account.at_end - account.at_start
    videos = [v for v in VIDEOS if YEAR.start <= datetime.strptime(v[1], "%Y-%m-%d %H:%M") < YEAR.end]
    [sph] = figures.videos
    assert (sph.channel, sph.videos, sph.views, sph.likes) == ("sph", len(videos), sum(v[2] for v in videos),
                                                                 sum(v[3] for v in videos))
    # The 视频号 is not an account with articles: its views are not 阅读量, and it has no followers here.
    data = report_data(store, cfg, "2024-2025")
    assert [w[0] for w in data["wechat"]] == ["官方微信公众号"]
    text = report_markdown(data)
    assert f"官方微信公众号关注人数 {last_day[3]:,}" in text and f"播放量 {sph.views:,} 次" in text
    assert "【待填写】公众号关注人数" not in text and "【待填写】视频号" not in text
    # The workbook: the views, and the followers month by month (the year's last month ends at the last day).
    wb = openpyxl.load_workbook(write_workbook(store, cfg, YEAR, tmp_path / "统计.xlsx"))
    assert wb["视频号"]["C2"].value == sph.views
    series = list(wb["公众号关注人数"].iter_rows(min_row=2, values_only=True))
    assert len(series) == 12 and series[-1][1] == "2025-08" and series[-1][2] == last_day[3]
    assert sum(r[3] for r in series) == account.gained


def test_a_newer_export_corrects_the_days_it_states_and_a_year_without_one_is_asked_for(
        tmp_path: Path, store_url: str, store: Store) -> None:
    folder = tmp_path / "wx"
    folder.mkdir(parents=True)
    (folder / "用户增长-9月.csv").write_text(
        "时间,新关注人数,取消关注人数,净增关注人数,累积关注人数\n"
        "2024-09-01,100,10,90,1090\n2024-09-02,50,5,45,1135\n合计,150,15,135,\n", encoding="utf-8-sig")
    (tmp_path / "sph").mkdir()
    (tmp_path / "sph" / "旧版导出.xls").write_bytes(b"\xd0\xcf\x11\xe0 not really")
    cfg = config(tmp_path, store_url)
    assert sync_all(cfg, store) == ["ok", "partial"]  # the 视频号 folder holds only an .xls: said, not dropped
    [run] = store.runs.history(1, "sph")["sph"]
    assert "另存为 .xlsx 或 .csv" in (run.error or "")
    # The platform revised 2 September: the later file's figures stand, no day is counted twice.
    (folder / "用户增长-9月-修正.csv").write_text(
        "说明：数据来自公众号后台\n时间,新关注人数,取消关注人数,净增关注人数,累积关注人数\n"
        "2024-09-02,52,5,47,1137\n2024-09-03,1.2万,0,12000,13137\n", encoding="utf-8")
    os.utime(folder / "用户增长-9月-修正.csv")
    sync_all(cfg, store)
    [account] = platform_figures(store, cfg, YEAR).accounts
    assert (account.at_start, account.at_end, account.gained, account.lost) == (1000, 13137, 12152, 15)
    assert account.last_day == date(2024, 9, 3)
    text = report_markdown(report_data(store, cfg, "2025-2026"))
    assert "【待填写】视频号作品数与播放量" in text


def test_stats_json_carries_the_figures(tmp_path: Path, store_url: str, store: Store) -> None:
    write_follower_export(tmp_path / "wx" / "用户增长.xlsx")
    write_video_export(tmp_path / "sph" / "动态数据.xlsx")
    cfg = config(tmp_path, store_url)
    sync_all(cfg, store)
    done = CliRunner().invoke(app, ["--config", str(tmp_path / "config.toml"), "stats", "--year", "2024-2025",
                                    "--format", "json"])
    assert done.exit_code == 0, done.output
    answer = json.loads(done.stdout)
    assert answer["accounts"][0]["channel"] == "wx" and answer["accounts"][0]["followers"] > 0
    assert answer["videos"][0]["views"] == platform_figures(store, cfg, YEAR).videos[0].views
    table = CliRunner().invoke(app, ["--config", str(tmp_path / "config.toml"), "stats", "--year", "2024-2025"])
    assert "官方微信公众号关注人数" in table.stdout and "官方视频号发布视频" in table.stdout
