"""Every command with bad arguments: one clear line in the CLI's language, a non-zero exit, no traceback.

Run as real processes, as the office would type them: a missing input file, an
output that cannot be written, bad dates and ranges, unknown ids, a store
that cannot be reached, a config that does not exist.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_xxgk, write_config

CASES = [
    ("sync", ["sync", "nosuch"], "没有渠道|no channel"),
    ("sync --full typo", ["sync", "--fulll"], "没有 --fulll 这个选项（是不是 --full"),
    ("command typo", ["serch", "招生"], "没有 serch 这个命令（是不是 search"),
    ("missing argument", ["tag", "12"], "缺少参数 item"),
    ("not a choice", ["stats", "--format", "pdf"], "--format 的值不对：'pdf' 不是可选的值（可选：table、csv"),
    ("not a number", ["search", "招生", "--limit", "many"], "--limit 的值不对：应为整数"),
    ("option without value", ["stats", "--year"], "选项 --year 后面要给一个值"),
    ("out of range", ["serve", "--workers", "0"], "--workers 的值不对：应不小于 1"),
    ("channels bad config", ["--config", "/nonexistent/config.toml", "channels"], "config|配置"),
    ("search bad date", ["search", "招生", "--from", "2024-13-01"], "不是日期"),
    ("search bad item", ["search", "招生", "--item", "99"], "1–50"),
    ("export unwritable", ["export", "--format", "xlsx", "-o", "/etc/passwd/x.xlsx"], "无法写入"),
    ("export format", ["export", "--format", "pdf"], "pdf"),
    ("stats bad year", ["stats", "--year", "2024"], "学年"),
    ("stats reversed range", ["stats", "--from", "2025-01-01", "--to", "2024-01-01"], "晚于"),
    ("stats bad dims", ["stats", "--by", "colour"], "colour"),
    ("coverage bad year", ["coverage", "--year", "24-25"], "学年"),
    ("report no output", ["report", "--year", "2024-2025"], "output|-o"),
    ("report bad suffix", ["report", "--year", "2024-2025", "-o", "r.pdf"], ".docx"),
    ("classify missing titles", ["classify", "--titles", "nosuch.txt"], "无法读取标题文件"),
    ("classify unknown post", ["classify", "999999", "--explain"], "没有编号为 999999"),
    ("tag unknown post", ["tag", "999999", "5"], "没有编号为 999999"),
    ("tag bad item", ["tag", "1", "77"], "1–50"),
    ("probe not a url", ["probe", "www.example.edu.cn"], "http://"),
    ("probe bad kind", ["probe", "http://127.0.0.1:9/x.htm", "--kind", "feed"], "--kind"),
    ("probe unreachable", ["probe", "http://127.0.0.1:9/x.htm"], "无法识别"),
    ("audit unknown", ["audit", "nosuch"], "没有渠道"),
    ("admin short password", ["admin", "set-password", "--password-stdin"], "8 个字符"),
]


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    path = folder / "config.toml"
    path.write_text(f'[store]\nurl = "sqlite:///{folder / "x.db"}"\n'
                    '[[channel]]\nid = "oa"\nkind = "table"\npath = "oa.csv"\n'
                    '  [channel.columns]\n  title = "标题"\n  date = "日期"\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "args", "says"), CASES, ids=[c[0] for c in CASES])
def test_bad_arguments_get_one_clear_line(name: str, args: list[str], says: str, cfg: Path) -> None:
    import re

    full = args if args[0] == "--config" else ["--config", str(cfg), *args]
    done = run_xxgk(*full, timeout=60) if "password" not in name else _with_stdin(full, "short\n")
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "Traceback" not in out, out
    assert re.search(says, out), out
    assert not re.search(r"^Error:|No such (option|command)|Missing (argument|parameter)|Invalid value|Got unexpected", out, re.M), out


def test_an_unreachable_store_is_named_with_what_to_check(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[store]\nurl = "postgresql+psycopg://nobody@127.0.0.1:9/none"\n', encoding="utf-8")
    for args in (["search", "招生"], ["stats"], ["reindex"], ["reclassify"], ["export"]):
        done = run_xxgk("--config", str(path), *args, timeout=60)
        out = done.stdout + done.stderr
        assert done.returncode == 2 and "Traceback" not in out, (args, out)
        assert "无法打开数据库" in out and "[store] url" in out, (args, out)


def _with_stdin(args: list[str], text: str) -> object:
    import os
    import subprocess
    import sys

    from tests.helpers import ROOT

    env = {k: v for k, v in os.environ.items() if k not in ("XXGK_CONFIG", "XXGK_STORE_URL")}
    return subprocess.run([sys.executable, "-m", "aggregator", *args], input=text, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)


def test_a_command_that_only_reads_never_creates_a_store(tmp_path: Path) -> None:
    db = tmp_path / "nowhere" / "x.db"
    cfg = write_config(tmp_path / "c.toml", f"sqlite:///{db}", "")
    for args in (["search", "招生"], ["stats"], ["coverage"], ["export"], ["compliance"],
                 ["classify", "explain", "1"], ["tag", "1", "19"], ["admin", "users"], ["admin", "log"],
                 ["report", "--year", "2024-2025", "-o", str(tmp_path / "r.md")]):
        done = run_xxgk("--config", str(cfg), *args, timeout=60)
        out = done.stdout + done.stderr
        assert done.returncode == 2 and "还不存在" in out and str(db) in out and "xxgk sync" in out, (args, out)
        assert not db.exists(), args
    # The channels of a config never synced are listed as such, from no store at all.
    listed = run_xxgk("--config", str(cfg), "channels", "--json", timeout=60)
    assert listed.returncode == 0 and "还不存在" in listed.stderr and not db.exists(), listed.stderr
    assert run_xxgk("--config", str(cfg), "sync", "--json", timeout=60).returncode == 0 and db.exists()
    assert run_xxgk("--config", str(cfg), "channels", timeout=60).returncode == 0
