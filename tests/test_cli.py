"""The `xxgk` commands to the contract: JSON shapes, exit codes, export formats."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.demo.server import SampleServer
from aggregator.demo.sites import waf_site
from tests.helpers import run_xxgk, write_config

CHANNELS = '''
[[channel]]
id = "oa"
name = "学校OA·发文"
kind = "table"
group = "学校OA"
path = "oa.csv"
  [channel.columns]
  key = "文号"
  title = "标题"
  date = "发布日期"
  department = "发布部门"

[[channel]]
id = "portal-notices"
name = "学校门户·通知公告"
kind = "html"
group = "学校门户网站"
url = "{base}/waf/tzgg.htm"
schedule = "*/30 * * * *"
preset = "vsb"

[[channel]]
id = "old-site"
kind = "html"
url = "https://old.example.edu.cn/tzgg.htm"
preset = "vsb"
enabled = false
'''

# An OA export with two documents and, on line 4, a row whose date is not a date.
OA_CSV = """文号,标题,发布日期,发布部门
东科发〔2023〕1号,关于印发《东湖科技大学章程》的通知,2023-05-12 10:20,党政办公室
东科发〔2023〕2号,东湖科技大学2023年部门预算,2023-09-01,
东科发〔2023〕3号,日期写错的一行,2023/13/01,党政办公室
"""


@pytest.fixture(scope="module")
def waf() -> Iterator[str]:
    """The portal behind a 瑞数 firewall: every list page answers HTTP 412 with a `$_ts` shell."""
    with SampleServer(waf_site()) as server:
        yield server.url


@pytest.fixture
def cfg_path(tmp_path: Path, store_url: str, waf: str) -> Path:
    (tmp_path / "oa.csv").write_text(OA_CSV, encoding="utf-8-sig")
    return write_config(tmp_path / "config.toml", store_url, CHANNELS.replace("{base}", waf),
                        http="[http]\nper_host_interval = 0\nretries = 0")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_sync_json_reports_every_enabled_channel_and_exits_1_when_one_failed(cfg_path: Path) -> None:
    code, stdout, stderr = invoke("--config", str(cfg_path), "sync", "--json")
    assert code == 1
    report = json.loads(stdout)  # pure JSON: progress went to stderr
    by_id = {c["id"]: c for c in report["channels"]}
    assert list(by_id) == ["oa", "portal-notices"]  # the disabled channel is not synced
    for entry in report["channels"]:
        assert set(entry) == {"id", "status", "fetched", "new", "updated", "requests", "error", "site_total"}
    assert by_id["oa"] | {"error": None} == {"id": "oa", "status": "partial", "fetched": 2, "new": 2,
                                              "updated": 0, "requests": 0, "error": None, "site_total": None}
    assert "oa.csv 第 4 行" in by_id["oa"]["error"]
    assert by_id["portal-notices"]["status"] == "failed"
    assert "HTTP 412" in by_id["portal-notices"]["error"]
    assert "[oa]" in stderr


def test_sync_exits_0_when_every_named_channel_succeeded(cfg_path: Path) -> None:
    invoke("--config", str(cfg_path), "sync", "oa")
    code, stdout, _ = invoke("--config", str(cfg_path), "sync", "oa", "--json")
    assert code == 0
    [entry] = json.loads(stdout)["channels"]
    assert (entry["status"], entry["new"], entry["error"]) == ("ok", 0, None)


def test_sync_of_an_unknown_channel_says_which_exist(cfg_path: Path) -> None:
    code, stdout, stderr = invoke("--config", str(cfg_path), "sync", "nope")
    assert code == 2 and stdout == ""
    assert "nope" in stderr and "oa, portal-notices, old-site" in stderr


def test_channels_json_lists_status_counts_and_next_run(cfg_path: Path) -> None:
    invoke("--config", str(cfg_path), "sync")
    code, stdout, _ = invoke("--config", str(cfg_path), "channels", "--json")
    assert code == 0
    rows = {c["id"]: c for c in json.loads(stdout)["channels"]}
    assert rows["oa"]["posts"] == 2 and rows["oa"]["status"] == "partial"
    assert rows["oa"]["group"] == "学校OA" and rows["oa"]["last_sync"].endswith("+08:00")
    assert rows["portal-notices"]["status"] == "failed" and "412" in rows["portal-notices"]["error"]
    # The WAF-blocked channel says so in plain words, and is retried on its backoff (5 minutes after a
    # first failure), not on its cron; it is never disabled.
    blocked = rows["portal-notices"]
    assert blocked["state"] == "blocked" and "拦截" in blocked["reason"] and "412" in blocked["last_error"]
    tried = datetime.fromisoformat(blocked["last_sync"])
    assert datetime.fromisoformat(blocked["next_run"]) - tried == timedelta(minutes=5)
    assert rows["oa"]["state"] == "incomplete" and rows["oa"]["last_success"] is None
    assert rows["old-site"]["status"] is None and rows["old-site"]["next_run"] is None
    assert set(rows["oa"]) >= {"id", "name", "group", "kind", "state", "reason", "last_success", "last_error",
                               "posts", "site_total", "next_run"}  # the contract's keys


def test_channels_table_is_readable_chinese(cfg_path: Path) -> None:
    code, stdout, _ = invoke("--config", str(cfg_path), "channels")
    assert code == 0 and "从未同步" in stdout and "已停用" in stdout


def test_export_jsonl_csv_and_xlsx_carry_the_contract_fields(cfg_path: Path, tmp_path: Path) -> None:
    invoke("--config", str(cfg_path), "sync", "oa")
    code, stdout, _ = invoke("--config", str(cfg_path), "export")
    assert code == 0
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert [r["title"] for r in rows] == ["关于印发《东湖科技大学章程》的通知", "东湖科技大学2023年部门预算"]
    assert set(rows[0]) == {"id", "channel", "key", "url", "title", "published_at", "item", "category",
                            "type", "reads", "likes", "department"}
    assert rows[0]["published_at"] == "2023-05-12T10:20:00+08:00"
    assert rows[1]["published_at"] == "2023-09-01T00:00:00+08:00"
    assert rows[0]["channel"] == "oa" and rows[0]["key"] == "东科发〔2023〕1号"

    out_csv = tmp_path / "posts.csv"
    assert invoke("--config", str(cfg_path), "export", "--format", "csv", "-o", str(out_csv))[0] == 0
    raw = out_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel/WPS read the Chinese
    parsed = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["title"] for r in parsed] == [r["title"] for r in rows]

    out_xlsx = tmp_path / "posts.xlsx"
    assert invoke("--config", str(cfg_path), "export", "--format", "xlsx", "-o", str(out_xlsx))[0] == 0
    ws = openpyxl.load_workbook(out_xlsx).active
    assert ws is not None
    header = [c.value for c in ws[1]]
    assert header[:6] == ["编号", "渠道", "标识", "链接", "标题", "发布时间"]
    assert ws["E2"].value == "关于印发《东湖科技大学章程》的通知"
    assert ws["F2"].value == datetime(2023, 5, 12, 10, 20) and ws["F2"].is_date
    assert ws.freeze_panes == "A2"


def test_export_xlsx_to_stdout_is_refused_with_advice(cfg_path: Path) -> None:
    code, _, stderr = invoke("--config", str(cfg_path), "export", "--format", "xlsx")
    assert code == 2 and "-o" in stderr


def test_an_unreachable_store_is_a_readable_error(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.toml", "postgresql+psycopg://nobody:secret@127.0.0.1:1/xxgk",
                        CHANNELS.replace("{base}", "https://www.example.edu.cn"))
    result = run_xxgk("--config", str(path), "channels")
    assert result.returncode == 2
    assert "无法打开数据库" in result.stderr and "secret" not in result.stderr and "[store]" in result.stderr


def test_every_command_has_help_with_an_example() -> None:
    for command in ("sync", "channels", "export"):
        code, stdout, _ = invoke(command, "--help")
        assert code == 0 and "例：" in stdout, command


@pytest.mark.parametrize("args", [
    ["export", "--format", "xlsx", "-o", "/etc/passwd/x.xlsx"],
    ["export", "--format", "csv", "-o", "/etc/passwd/x.csv"],
    ["stats", "--format", "xlsx", "-o", "/etc/passwd/s.xlsx"],
    ["stats", "--format", "csv", "-o", "/etc/passwd/s.csv"],
    ["coverage", "--format", "json", "-o", "/etc/passwd/c.json"],
    ["report", "--year", "2024-2025", "-o", "/etc/passwd/r.docx"],
])
def test_an_output_that_cannot_be_written_is_one_clear_line(cfg_path: Path, args: list[str]) -> None:
    code, stdout, stderr = invoke("--config", str(cfg_path), *args)
    assert code == 2 and "Traceback" not in stderr + stdout
    assert "无法写入 /etc/passwd/" in stderr and "写权限" in stderr


def test_the_demo_ends_serving_with_its_sample_sites_up_and_its_scheduler_running(tmp_path: Path) -> None:
    """`xxgk demo` as a person runs it: the pages, the scheduler, and the sample sites behind the 原文 links."""
    import re
    import signal
    import subprocess
    import sys

    import httpx

    from tests.helpers import ROOT, free_port, wait_until_up

    port = free_port()
    with open(tmp_path / "demo.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "aggregator", "demo", "--dir", str(tmp_path / "d"), "--port",
                                 str(port)], cwd=ROOT, stdout=log, stderr=log)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base, tries=1200)  # two rounds of syncing first
            health = httpx.get(base + "/healthz", timeout=5).json()
            assert health["scheduler"]["holder"].startswith("xxgk demo") and not health["scheduler"]["stopping"]
            [hit] = httpx.get(base + "/api/search", params={"q": "拟录取", "limit": 1}, timeout=5).json()["results"]
            assert httpx.get(hit["url"], timeout=5).status_code == 200  # the 原文 link answers
            cfg = tmp_path / "d" / "config.toml"
            lists = re.findall(r'^url = "(http[^"]+\.htm)"', cfg.read_text(encoding="utf-8"), re.M)
            probed = run_xxgk("--config", str(cfg), "probe", lists[0], "--json")
            assert probed.returncode == 0 and json.loads(probed.stdout)["entries"], probed.stderr
            assert run_xxgk("--config", str(cfg), "audit").returncode == 0
            channels = httpx.get(base + "/api/channels", timeout=5).json()["channels"]
            assert all(c["next_run"] for c in channels if c["enabled"])  # a run the running scheduler will make
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) is not None
    log_text = (tmp_path / "demo.log").read_text(encoding="utf-8")
    assert "示例站点仍在" in log_text and "Traceback" not in log_text
