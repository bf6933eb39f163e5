"""清单 tags: explainable, correctable by hand, and never undone by a re-sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.config import ConfigError, parse_config
from aggregator.demo.server import SampleServer
from aggregator.demo.sites import SCHOOL, sample_channels, sample_pages
from aggregator.qingdan.classify import Classifier, RuleSpec, default_classifier
from aggregator.services.sync import reclassify
from storage.store import Store
from tests.helpers import write_config


@pytest.mark.parametrize("title, item", [
    ("东湖科技大学2025年普通本科招生章程", 7),
    ("东湖科技大学2025年硕士研究生拟录取名单公示（第一批）", 13),
    ("东湖科技大学2024年保送生拟录取名单公示", 8),
    ("东湖科技大学2025年部门预算", 19),
    ("东湖科技大学2024年度部门决算", 20),
    ("干部任前公示（2025年第2号）", 25),
    ("关于某教师学术不端行为的处理决定", 42),
    ("中共东湖科技大学委员会关于巡视整改进展情况的通报", 49),
    ("东湖科技大学实验楼改造工程中标（成交）结果公告", 18),
    ("关于2025年端午节放假安排的通知", None),
    ("东湖科技大学举行2025届毕业典礼暨学位授予仪式", None),
    ("我校教师获评省级教学名师", None),
])
def test_title_forms(title: str, item: int | None) -> None:
    assert default_classifier().classify(title).item == item


def test_column_then_body_decide_when_the_title_does_not() -> None:
    c = default_classifier()
    by_column = c.classify("2025年第一季度公开信息", column="信息公开>财务、资产及收费信息>部门决算")
    assert (by_column.item, by_column.where) == (20, "column")
    by_body = c.classify("情况说明", body="学校2024年信息公开工作年度报告如下：……")
    assert (by_body.item, by_body.where) == (6, "body")
    # A news body that mentions 领导班子 in passing does not make the post a 清单 post.
    assert c.classify("学校召开工作会议", body="学校领导班子成员出席会议。").item is None


def test_channel_item_overrides_every_rule() -> None:
    found = default_classifier().classify("关于2025年端午节放假安排的通知", channel_item=18)
    assert (found.item, found.category, found.rule) == (18, 3, "channel item")


def test_office_rules_extend_and_replace_the_builtin_ones(tmp_path: Path) -> None:
    rules = tmp_path / "my-rules.toml"
    rules.write_text('[[rule]]\nname = "部门预算"\nitem = 20\nany = ["部门预算"]\npriority = 99\n', encoding="utf-8")
    text = (f'[rules]\nfile = "{rules.name}"\n[[rules.rule]]\nname = "校史馆开放"\nitem = 1\nany = ["校史馆"]\n'
            'priority = 70\n')
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    from aggregator.config import classifier_for, load_config

    c = classifier_for(load_config(tmp_path / "config.toml"))
    assert c.classify("东湖科技大学2025年部门预算").item == 20  # replaced by name
    assert c.classify("校史馆国庆期间开放安排").item == 1  # added inline


def test_a_broken_rule_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config('[[rules.rule]]\nname = "坏规则"\nitem = 51\nany = ["预算"]\n', tmp_path / "c.toml")
    assert "坏规则" in str(info.value) and "item" in str(info.value)


def test_rules_need_words_of_two_characters() -> None:
    with pytest.raises(ValueError, match="shorter than two"):
        Classifier([RuleSpec(name="x", item=1, any=("校",))])


@pytest.fixture
def synced(tmp_path: Path, store_url: str) -> tuple[Path, SampleServer]:
    server = SampleServer(sample_pages()).start()
    cfg = write_config(tmp_path / "config.toml", store_url, sample_channels(server.url), http="[http]\nper_host_interval = 0.0\n")
    assert CliRunner().invoke(app, ["--config", str(cfg), "sync", "portal-news", "xxgk-notices"]).exit_code == 0
    yield cfg, server
    server.stop()


def _post_id(store: Store, title: str) -> int:
    return next(r["id"] for r in store.posts.iter_rows() if r["title"] == title)


def test_a_manual_tag_survives_a_full_resync_and_reclassify(synced: tuple[Path, SampleServer], store_url: str) -> None:
    cfg_path, _ = synced
    store = Store.open(store_url)
    budget = _post_id(store, f"{SCHOOL}2025年部门预算公开")
    assert store.posts.by_id(budget).item == 19
    runner = CliRunner()
    assert runner.invoke(app, ["--config", str(cfg_path), "tag", str(budget), "20"]).exit_code == 0
    assert runner.invoke(app, ["--config", str(cfg_path), "sync", "portal-news", "--full"]).exit_code == 0
    result = runner.invoke(app, ["--config", str(cfg_path), "reclassify", "--json"])
    assert json.loads(result.stdout)["checked"] == store.posts.count() - 1
    post = store.posts.by_id(budget)
    assert post is not None and (post.item, post.category, post.item_source) == (20, 3, "manual")
    explain = runner.invoke(app, ["--config", str(cfg_path), "classify", str(budget), "--json"])
    assert json.loads(explain.stdout) == {"item": 20, "category": 3, "rule": "manual tag", "score": 100.0}
    # "none" is a tag too: this post discloses nothing, whatever the rules say.
    assert runner.invoke(app, ["--config", str(cfg_path), "tag", str(budget), "none"]).exit_code == 0
    post = store.posts.by_id(budget)
    assert post is not None and (post.item, post.item_source) == (None, "manual")
    store.close()


def test_reclassify_reports_what_a_rule_change_moved(synced: tuple[Path, SampleServer], store_url: str) -> None:
    cfg_path, server = synced
    text = cfg_path.read_text(encoding="utf-8")
    cfg_path.write_text(text + '\n[[rules.rule]]\nname = "部门预算"\nitem = 20\nany = ["部门预算"]\npriority = 99\n',
                        encoding="utf-8")
    store = Store.open(store_url)
    result = reclassify(parse_config(cfg_path.read_text(encoding="utf-8"), cfg_path), store)
    assert result.changed == 2  # the portal's and the 信息公开网's 部门预算
    assert result.checked == store.posts.count()
    again = reclassify(parse_config(cfg_path.read_text(encoding="utf-8"), cfg_path), store)
    assert again.changed == 0
    store.close()


def test_explain_names_the_rule_and_the_words(synced: tuple[Path, SampleServer], store_url: str) -> None:
    cfg_path, _ = synced
    store = Store.open(store_url)
    pid = _post_id(store, f"{SCHOOL}学术不端行为处理结果公示")
    store.close()
    out = CliRunner().invoke(app, ["--config", str(cfg_path), "classify", "explain", str(pid)]).stdout
    assert "第 42 项" in out and "学术不端查处" in out and "学术不端" in out and "得分" in out
    # The spellings before the subcommands still answer the same.
    assert CliRunner().invoke(app, ["--config", str(cfg_path), "classify", str(pid), "--explain"]).stdout == out
    as_json = [CliRunner().invoke(app, ["--config", str(cfg_path), *args]).stdout
               for args in (["classify", "explain", str(pid), "--json"], ["classify", "--json", str(pid)])]
    assert as_json[0] == as_json[1] and json.loads(as_json[0])["item"] == 42


def test_classify_titles_file_answers_line_by_line(tmp_path: Path) -> None:
    titles = tmp_path / "titles.txt"
    titles.write_text("东湖科技大学2025年部门预算\n\n学校召开会议\n", encoding="utf-8")
    cfg = write_config(tmp_path / "c.toml", f"sqlite:///{tmp_path}/x.db", "")
    out = CliRunner().invoke(app, ["--config", str(cfg), "classify", "--titles", str(titles), "--json"]).stdout
    lines = [json.loads(x) for x in out.splitlines()]
    assert [(x["title"], x["item"]) for x in lines] == [("东湖科技大学2025年部门预算", 19), ("学校召开会议", None)]
    assert set(lines[0]) == {"title", "item", "category", "rule", "score"}
    assert not (tmp_path / "x.db").exists()  # classifying titles does not need the store
    new = CliRunner().invoke(app, ["--config", str(cfg), "classify", "title", "--titles", str(titles)]).stdout
    assert new == out
    one = CliRunner().invoke(app, ["--config", str(cfg), "classify", "title", "东湖科技大学2025年部门预算", "--json"])
    assert json.loads(one.stdout)["item"] == 19
    assert one.stdout == CliRunner().invoke(app, ["--config", str(cfg), "classify", "--title",
                                                  "东湖科技大学2025年部门预算", "--json"]).stdout


def test_the_models_evidence_is_in_the_titles_own_words() -> None:
    """What the model read is shown as stretches of the title, digits as written — never as
    folded n-grams such as `0届、届毕`."""
    from aggregator.qingdan.model import norm, shipped_model

    model = shipped_model()
    titles = ["东湖科技大学2025届毕业生就业质量年度报告", "我校举办2025年春季校园招聘会", "关于公布2025年转专业学生名单的通知"]
    for title, opinion in zip(titles, model.opinions(titles), strict=True):
        shown = model.evidence(opinion)
        assert shown and all(s in norm(title) and len(s) >= 2 for s in shown), (title, shown)
        assert not any("0" in s and "2025" not in s for s in shown), shown  # a folded year is never shown
