"""The learned second opinion: it defers to the rules where it is unsure, abstains honestly,
and learns from the office's corrections (which it never overwrites)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.qingdan.classify import OVERRIDE_P
from aggregator.qingdan.model import shipped_examples, shipped_model
from storage.store import Store
from tests.helpers import write_config

# Twenty canteen price notices: the office discloses them under item 21 (收费), which no
# rule and no shipped example says.
PLACES = ["第一", "第二", "第三", "第四", "第五", "第六", "东区", "西区", "南区", "北区", "清真", "教工", "学生",
          "风味", "荟萃园", "桃李园", "紫荆园", "丁香园", "听涛园", "观畴园"]
FORM = "食堂餐品价格调整的说明"
NEW_TITLE = "芝兰园" + FORM

CHANNEL = '''
[[channel]]
id = "oa"
name = "后勤OA"
kind = "table"
path = "{path}"
  [channel.columns]
  key = "编号"
  title = "标题"
  date = "日期"
'''


def _csv(path: Path, titles: list[str]) -> None:
    day = date.today() - timedelta(days=40)
    rows = [f"HQ-{i},{t},{(day + timedelta(days=i)).isoformat()}" for i, t in enumerate(titles)]
    path.write_text("编号,标题,日期\n" + "\n".join(rows) + "\n", encoding="utf-8")


def _cli(cfg: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--config", str(cfg), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_form_the_model_never_saw_falls_back_to_the_rules(tmp_path: Path) -> None:
    # An office rule on characters no labelled title has: the model is asked (the rule's
    # priority is below the fallback line) but unsure, so the rule decides.
    cfg = write_config(tmp_path / "c.toml", f"sqlite:///{tmp_path}/x.db",
                       '[[rules.rule]]\nname = "办公室·罕用字形式"\nitem = 29\nany = ["䶮䶯"]\npriority = 55\n')
    assert shipped_model().opinion("䶮䶯䶰䶱").p < OVERRIDE_P
    found = json.loads(_cli(cfg, "classify", "--title", "䶮䶯䶰䶱", "--json"))
    assert (found["item"], found["rule"]) == (29, "办公室·罕用字形式")
    # No rule and an unsure model: untagged, needs review — not a guess.
    unsure = json.loads(_cli(cfg, "classify", "--title", "䶲䶳䶴䶵", "--json"))
    assert unsure["item"] is None and unsure["rule"].startswith("待复核")
    # The model decides a title no rule knows when it is sure, and --explain says so.
    explained = _cli(cfg, "classify", "--title", "关于第三食堂临时停业的说明", "--explain")
    assert "学习模型" in explained


def test_the_model_vetoes_a_rule_on_news_and_the_rules_keep_confident_forms() -> None:
    from aggregator.qingdan.classify import default_classifier

    c = default_classifier()
    assert c.classify("某某大学2025年部门预算").item == 19  # a confident rule: the model is not asked
    news = c.classify("某某大学党委书记带队走访合作企业拓展就业岗位")
    assert news.item is None


def test_retrain_learns_the_office_corrections_and_never_overwrites_them(tmp_path: Path, store_url: str) -> None:
    csv_path = tmp_path / "hq.csv"
    _csv(csv_path, [p + FORM for p in PLACES] + ["后勤集团召开2025年工作会议"])
    cfg = write_config(tmp_path / "c.toml", store_url, CHANNEL.format(path=csv_path))
    _cli(cfg, "sync", "oa")
    store = Store.open(store_url)
    ids = {r["title"]: r["id"] for r in store.posts.iter_rows()}
    before = json.loads(_cli(cfg, "classify", "--title", NEW_TITLE, "--json"))
    assert before["item"] != 21
    for place in PLACES:
        _cli(cfg, "tag", str(ids[place + FORM]), "21")

    done = json.loads(_cli(cfg, "classify", "retrain", "--json"))
    assert (done["office_examples"], done["examples"]) == (20, len(shipped_examples()) + 20)
    after = json.loads(_cli(cfg, "classify", "--title", NEW_TITLE, "--json"))
    assert after["item"] == 21 and "学习模型" in after["rule"]

    # The office's rule file can learn it too: the corrections' common ending.
    suggestions = json.loads(_cli(cfg, "classify", "suggest", "--json"))
    assert suggestions[0]["item"] == 21 and suggestions[0]["ending"].endswith("价格调整的说明")
    assert len(suggestions[0]["titles"]) == 20
    assert "ends = [" in _cli(cfg, "classify", "suggest")

    # A new post of the corrected form, synced after the retrain, gets the office's item.
    _csv(csv_path, [p + FORM for p in PLACES] + ["后勤集团召开2025年工作会议", NEW_TITLE])
    _cli(cfg, "sync", "oa")
    new = store.posts.by_id(next(r["id"] for r in store.posts.iter_rows() if r["title"] == NEW_TITLE))
    assert new is not None and (new.item, new.item_source) == (21, "model")

    # The corrections survive a re-classification, a full re-sync and another retrain.
    first = ids[PLACES[0] + FORM]
    _cli(cfg, "tag", str(first), "none")
    _cli(cfg, "reclassify")
    _cli(cfg, "sync", "oa", "--full")
    _cli(cfg, "classify", "retrain")
    for place in PLACES:
        post = store.posts.by_id(ids[place + FORM])
        assert post is not None and post.item_source == "manual"
        assert post.item == (None if place == PLACES[0] else 21)
    store.close()


def test_posts_nobody_could_tag_are_listed_for_review(tmp_path: Path, store_url: str) -> None:
    csv_path = tmp_path / "hq.csv"
    _csv(csv_path, ["䶲䶳䶴䶵", "某某大学2025年部门预算"])
    cfg = write_config(tmp_path / "c.toml", store_url, CHANNEL.format(path=csv_path))
    _cli(cfg, "sync", "oa")
    review = json.loads(_cli(cfg, "coverage", "--format", "json"))["review"]
    assert review["count"] == 1 and [p["title"] for p in review["posts"]] == ["䶲䶳䶴䶵"]
    assert "待复核 1 条" in _cli(cfg, "coverage")


def test_the_shipped_rules_name_no_school() -> None:
    root = Path(__file__).resolve().parent.parent / "aggregator" / "qingdan"
    shipped = (root / "data" / "rules.toml").read_text(encoding="utf-8") + (root / "classify.py").read_text(
        encoding="utf-8")
    # Every school (and the sample school) named in a labelled title, and the provinces.
    names = {m for t, _ in shipped_examples() for m in re.findall(r"[\u4e00-\u9fff]{2,8}?(?:大学|学院)", t)}
    names = {n for n in names if not n.startswith(("关于", "我校", "学校", "本校")) and n not in ("大学", "学院")}
    provinces = ("北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建",
                 "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海",
                 "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门", "东湖", "科技大")
    assert len(names) > 20
    found = sorted(n for n in (*names, *provinces) if n in shipped)
    assert found == []


def test_the_service_refits_the_model_once_the_office_has_tagged(tmp_path: Path, store_url: str) -> None:
    from aggregator.config import parse_config
    from aggregator.scheduler.service import Scheduler

    csv_path = tmp_path / "hq.csv"
    _csv(csv_path, [p + FORM for p in PLACES[:3]])
    cfg = write_config(tmp_path / "c.toml", store_url, CHANNEL.format(path=csv_path))
    _cli(cfg, "sync", "oa")
    store = Store.open(store_url)
    scheduler = Scheduler(parse_config(cfg.read_text(encoding="utf-8"), cfg), store)
    try:
        scheduler.retrain()  # nothing tagged: nothing fitted
        assert store.models.latest_id() is None
        _cli(cfg, "tag", str(next(r["id"] for r in store.posts.iter_rows())), "21")
        scheduler.retrain()  # the night's mark is taken: one fit per night, whoever asks
        assert store.models.latest_id() is None
        with store.engine.begin() as conn:  # the next night
            conn.execute(sa.text("DELETE FROM service_marks"))
        scheduler.retrain()
        first = store.models.latest_id()
        assert first is not None
        with store.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM service_marks"))
        scheduler.retrain()  # the tags did not change since: no new model
        assert store.models.latest_id() == first
    finally:
        scheduler.pool.shutdown()
        store.close()


def test_train_rebuilds_the_shipped_model_exactly(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["classify", "train", "-o", str(tmp_path / "m.npz"), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["digest"] == shipped_model().meta["digest"]
    assert (tmp_path / "m.npz").read_bytes() == shipped_model().to_bytes()
