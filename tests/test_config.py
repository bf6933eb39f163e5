"""config.toml: the checked-in file loads; a broken one is refused, every problem named."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.config import ConfigError, load_config, parse_config
from connectors.select import split_selector
from tests.helpers import ROOT, run_xxgk

GOOD_CHANNEL = '''
[[channel]]
id = "portal-notices"
name = "学校门户·通知公告"
kind = "html"
group = "学校门户网站"
url = "https://www.example.edu.cn/tzgg.htm"
  [channel.list]
  entry = "ul.news li"
  link = "a@href"
'''


def problems(text: str, name: str = "cfg.toml") -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path(name))
    return info.value.problems


def test_the_checked_in_config_describes_every_kind_of_channel() -> None:
    cfg = load_config(ROOT / "config.toml")
    kinds = {ch.kind for ch in cfg.channels}
    assert kinds == {"html", "procurement", "wechat", "table"} | (kinds & {"feed"})
    assert len({ch.id for ch in cfg.channels}) == len(cfg.channels) >= 8
    # Relative paths are relative to the config file, wherever xxgk runs from.
    assert cfg.store.url == f"sqlite:///{(ROOT / 'data' / 'xxgk.db').as_posix()}"
    oa = cfg.channel("oa")
    assert oa.path == str(ROOT / "exports" / "oa" / "oa-export.csv")
    assert oa.columns is not None and oa.columns.title == "标题"


def test_a_misspelt_key_is_refused_naming_the_file_the_channel_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD_CHANNEL.replace('url = "https', 'urll = "https'), encoding="utf-8")
    result = run_xxgk("--config", str(path), "channels")
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert 'id="portal-notices"' in result.stderr
    assert "未知的键 `urll`——是不是 `url`？" in result.stderr
    assert result.stdout == ""


def test_every_problem_is_reported_at_once() -> None:
    text = GOOD_CHANNEL + '''
[[channel]]
id = "Bad ID"
kind = "rss"
schedule = "61 * * * *"

[[channel]]
id = "portal-notices"
kind = "html"
url = "ftp://x"
item = 51
  [channel.list]
  entry = "ul..news"
  pages = "index.htm"
  colour = "red"

[http]
timeout = "soon"
'''
    found = "\n".join(problems(text))
    assert '[[channel]] id="Bad ID": 键 `id`' in found
    assert '[[channel]] id="Bad ID": 键 `kind`：应为以下之一' in found
    assert "61" in found and "cron" in found
    assert 'id="portal-notices": 键 `url`：应为 http:// 或 https:// 开头的网址' in found
    assert "键 `item`" in found
    assert "键 `list.entry`：应为 CSS 选择器" in found
    assert "键 `list.pages`" in found and "{n}" in found
    assert "未知的键 `list.colour`（可用的键：entry, scope, link, title, date, next, pages）" in found
    assert "[http]: 键 `timeout`：应为数字" in found


def test_duplicate_ids_and_kind_specific_keys() -> None:
    text = GOOD_CHANNEL + GOOD_CHANNEL + '''
[[channel]]
id = "oa"
kind = "table"
path = "oa.csv"

[[channel]]
id = "wx"
kind = "wechat"
'''
    found = problems(text)
    assert any("portal-notices" in p and "渠道 id 重复" in p for p in found)
    assert any('id="oa"' in p and "[channel.columns]" in p for p in found)
    assert any('id="wx"' in p and "缺少必填的键 `path`" in p for p in found)


def test_a_web_channel_needs_only_its_url() -> None:
    """A bare URL is a channel (its list is found at the first sync); without a URL it is none."""
    for kind in ("html", "procurement"):
        cfg = parse_config(f'[[channel]]\nid = "x"\nkind = "{kind}"\nurl = "https://a.edu.cn/x.htm"\n', Path("c.toml"))
        assert cfg.channels[0].url == "https://a.edu.cn/x.htm"
    found = problems('[[channel]]\nid = "x"\nkind = "html"\n')
    assert any("url" in p for p in found)
    cfg = parse_config('[[channel]]\nid = "x"\nkind = "html"\nurl = "https://a.edu.cn/x.htm"\npreset = "vsb"\n',
                       Path("c.toml"))
    assert cfg.channels[0].preset == "vsb"


def test_invalid_toml_names_line_and_column() -> None:
    found = problems('[store\nurl = "x"\n')
    assert len(found) == 1 and "cfg.toml: 不是合法的 TOML" in found[0] and "line 1" in found[0]


def test_missing_file_says_how_to_choose_one(tmp_path: Path) -> None:
    result = run_xxgk("--config", str(tmp_path / "nope.toml"), "channels")
    assert result.returncode == 2
    assert "nope.toml" in result.stderr and "--config" in result.stderr


def test_xxgk_config_environment_variable_selects_the_file(tmp_path: Path) -> None:
    path = tmp_path / "env.toml"
    path.write_text(GOOD_CHANNEL, encoding="utf-8")
    result = run_xxgk("channels", "--json", env={"XXGK_CONFIG": str(path)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"portal-notices"' in result.stdout
    # The default store is next to the config: named, and not made by a command that only reads.
    assert str(tmp_path / "data" / "xxgk.db") in result.stderr and not (tmp_path / "data" / "xxgk.db").exists()
    assert run_xxgk("reindex", env={"XXGK_CONFIG": str(path)}, cwd=tmp_path).returncode == 0  # a command that writes
    assert (tmp_path / "data" / "xxgk.db").exists()


def test_selector_attribute_syntax() -> None:
    assert split_selector("a@href") == ("a", "href")
    assert split_selector("span.date") == ("span.date", None)
    assert split_selector("@title") == ("", "title")
    assert split_selector("a:-soup-contains('下页')@href") == ("a:-soup-contains('下页')", "href")


def test_one_preset_key_overridden_keeps_the_others() -> None:
    from connectors.html import HtmlSettings
    from connectors.presets import PRESETS, selectors_for

    cfg = parse_config('[[channel]]\nid = "x"\nkind = "html"\nurl = "https://a.edu.cn/x.htm"\npreset = "vsb"\n'
                       '  [channel.list]\n  date = "span"\n', Path("c.toml"))
    channel = cfg.channels[0]
    assert isinstance(channel, HtmlSettings)
    sel = selectors_for(channel)
    assert sel.date == "span"
    assert (sel.entry, sel.link, sel.next) == (PRESETS["vsb"]["list"]["entry"], PRESETS["vsb"]["list"]["link"],
                                               PRESETS["vsb"]["list"]["next"])
    # Keys without `entry` or a preset: the list is found by its shape, these keys stand over what is found.
    bare = parse_config('[[channel]]\nid = "x"\nkind = "html"\nurl = "https://a.edu.cn/x.htm"\n'
                        '  [channel.list]\n  date = "span"\n', Path("c.toml")).channels[0]
    assert isinstance(bare, HtmlSettings) and bare.bare and selectors_for(bare).date == "span"


def test_an_unknown_preset_names_the_known_ones() -> None:
    found = problems('[[channel]]\nid = "x"\nkind = "html"\nurl = "https://a.edu.cn/x.htm"\npreset = "vbs"\n')
    assert any('键 `preset`：应为以下预设之一：vsb, vsb-legacy' in p for p in found)

