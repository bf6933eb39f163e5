"""The compliance calendar: each rule kind and status, China's working days (holidays off, 调休
days on), dates found only with their labels, and the check run through the real `xxgk` over both stores."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from aggregator.compliance.check import Subject, annual, posting, within
from aggregator.compliance.rules import Rule, RuleError, load_rules
from aggregator.compliance.textdates import basis_date, period
from storage.store import PostRecord, Store
from tests.helpers import one_channel, run_xxgk

RULES = {r.id: r for r in load_rules()}
CADRE, ADMISSION = RULES["cadre-posting-5-workdays"], RULES["graduate-admission-posting-10-workdays"]
CONTRACT, BUDGET, REPORT = (RULES["procurement-contract-2-workdays"], RULES["budget-20-days"],
                            RULES["annual-report"])


def post(body: str, published: datetime | None, title: str = "关于拟任干部任前公示的公告", item: int | None = 25,
         kind: str | None = None, pid: int = 1) -> Subject:
    return Subject(pid, "xxgk", title, body, item, kind, published)


def test_a_posting_across_the_2023_national_day_holiday_counts_three_working_days() -> None:
    # 9-28 is a Thursday; 9-29 to 10-6 is the 中秋/国庆 holiday; 10-7 and 10-8 (a weekend) are worked.
    f = posting(CADRE, post("公示期：2023年9月28日至2023年10月8日。", datetime(2023, 9, 28, 9, 0)))
    assert (f.status, f.workdays, f.basis) == ("short", 3, date(2023, 9, 28))  # a weekday count says 7
    assert f.due == date(2023, 10, 10) and "只有 3 个工作日" in f.reason
    ok = posting(CADRE, post("公示期：2023年9月25日至10月7日", datetime(2023, 9, 25, 9, 0)))
    assert (ok.status, ok.workdays) == ("ok", 5)


def test_a_period_with_its_year_implied_takes_the_posts_year() -> None:
    f = posting(ADMISSION, post("名单见附件。公示时间：4月10日至4月23日。", datetime(2025, 4, 10, 17, 0),
                                "2025年硕士研究生拟录取名单公示", 13))
    assert (f.status, f.basis, f.workdays, f.rule.days) == ("ok", date(2025, 4, 10), 10, 10)
    across = period("公示期为2025年12月29日至1月5日", 2025)
    assert across is not None and across.end == date(2026, 1, 5)
    stated = posting(CADRE, post("现予公示，公示期自2025年6月3日起，为期五个工作日。", datetime(2025, 6, 3)))
    assert (stated.status, stated.workdays) == ("ok", 5)


def test_no_stated_date_is_unknown_never_a_guess() -> None:
    silent = within(CONTRACT, post("合同金额 238 万元，签订后 10 日内交付。2025年6月10日有雨。", datetime(2025, 6, 17),
                                   "食堂食材配送服务项目合同公告", 18, "合同公告"))
    assert silent.status == "unknown" and "合同签订日期" in silent.reason and silent.basis is None
    assert posting(CADRE, post("经研究，拟任以下同志。", datetime(2025, 6, 1))).status == "unknown"
    assert basis_date("共 5 日，3 人", "document") is None
    assert basis_date("内容如下。\n党政办公室\n二〇二五年四月十日", "document") == date(2025, 4, 10)  # the 落款


def test_a_year_the_calendar_does_not_know_is_unknown_with_the_reason() -> None:
    f = posting(CADRE, post("公示期：2031年3月3日至3月10日", datetime(2031, 3, 3)))
    assert f.status == "unknown" and "2031" in f.reason and "chinesecalendar" in f.reason
    g = within(CONTRACT, post("合同签订日期：2031年3月3日", datetime(2031, 3, 9), "合同公告", 18, "合同公告"))
    assert g.status == "unknown" and g.basis == date(2031, 3, 3)


def test_within_counts_working_or_calendar_days_from_the_stated_date() -> None:
    late = within(CONTRACT, post("合同签订日期：2025年6月10日", datetime(2025, 6, 17, 9), "合同公告", 18, "合同公告"))
    assert (late.status, late.basis, late.due, late.workdays) == ("late", date(2025, 6, 10), date(2025, 6, 12), 5)
    # The Wednesday before the 2025 Labour Day holiday (5-1 to 5-5): two working days later is 5-7.
    on_time = within(CONTRACT, post("合同签订日期：2025年4月30日", datetime(2025, 5, 6, 9), "合同公告", 18,
                                    "合同公告"))
    assert (on_time.status, on_time.due, on_time.workdays) == ("ok", date(2025, 5, 7), 1)
    budget = within(BUDGET, post("经主管部门于2025年4月30日批复，现予公开。", datetime(2025, 5, 20), "2025年部门预算", 19))
    assert (budget.status, budget.due, budget.workdays) == ("ok", date(2025, 5, 20), 20)  # calendar days


def test_the_annual_report_is_ok_late_missing_or_due() -> None:
    reports = [post("", datetime(2024, 10, 28), "东湖科技大学2023-2024学年信息公开工作年度报告", 6, pid=1),
               post("", datetime(2025, 11, 20), "东湖科技大学2024—2025学年信息公开工作年度报告", 6, pid=2)]
    assert annual(REPORT, reports, "2023-2024", date(2025, 1, 1)).status == "ok"
    late = annual(REPORT, reports, "2024-2025", date(2026, 1, 1))
    assert (late.status, late.due, late.post and late.post.id) == ("late", date(2025, 10, 31), 2)
    assert annual(REPORT, reports, "2025-2026", date(2026, 11, 1)).status == "missing"
    due = annual(REPORT, reports, "2025-2026", date(2026, 10, 20))
    assert due.status == "due" and "还有 11 天" in due.reason


def test_the_office_file_overrides_and_extends_the_rules(tmp_path: Path) -> None:
    own = tmp_path / "rules.toml"
    own.write_text('[[rule]]\nid = "cadre-posting-5-workdays"\nkind = "posting"\ntitles = ["任前公示"]\ndays = 7\n'
                   'source = "本校干部工作规定"\n[[rule]]\nid = "fees"\nkind = "posting"\ntitles = ["收费"]\ndays = 3\n'
                   'source = "本校"\n', encoding="utf-8")
    rules = {r.id: r for r in load_rules(own)}
    assert rules["cadre-posting-5-workdays"].days == 7 and "fees" in rules and len(rules) == len(RULES) + 1
    own.write_text('[[rule]]\nid = "x"\nkind = "within"\ndays = 3\nsource = "s"\n', encoding="utf-8")
    with pytest.raises(RuleError, match="basis"):
        load_rules(own)
    assert isinstance(CADRE, Rule) and not CADRE.confirmed  # unconfirmed sources say so


@pytest.fixture
def filled(store_url: str, store: Store, tmp_path: Path) -> Path:
    cfg = one_channel(tmp_path / "config.toml", store_url, store, "xxgk")
    store.posts.write("xxgk", [
        PostRecord(key="a", title="关于拟任干部任前公示的公告", content_hash="a", item=25, category=5,
                   body="公示期：2023年9月28日至2023年10月8日。", published_at=datetime(2023, 9, 28, 9)),
        PostRecord(key="b", title="食堂食材配送服务项目合同公告", content_hash="b", item=18, category=3, type="合同公告",
                   body="合同签订日期：2024年6月10日", published_at=datetime(2024, 6, 17, 9)),
        PostRecord(key="c", title="东湖科技大学2023-2024学年信息公开工作年度报告", content_hash="c", item=6, category=1,
                   body="见附件", published_at=datetime(2024, 10, 20, 9)),
        PostRecord(key="d", title="学校召开工作会议", content_hash="d", body="会议于2024年1月5日召开。",
                   published_at=datetime(2024, 1, 8, 9)),
    ])
    return cfg


def test_xxgk_compliance_gives_the_contract_shape_on_both_stores(filled: Path) -> None:
    done = run_xxgk("--config", str(filled), "compliance", "--on", "2024-11-01", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["as_of"] == "2024-11-01" and out["year"] is None
    keys = {"rule", "kind", "item", "status", "post_id", "title", "published_at", "basis", "due", "workdays",
            "required", "reason"}
    assert all(set(f) == keys for f in out["findings"])
    by_rule = {(f["rule"], f["title"]): f for f in out["findings"]}
    cadre = by_rule[("cadre-posting-5-workdays", "关于拟任干部任前公示的公告")]
    assert (cadre["status"], cadre["workdays"], cadre["required"], cadre["basis"]) == ("short", 3, 5, "2023-09-28")
    contract = by_rule[("procurement-contract-2-workdays", "食堂食材配送服务项目合同公告")]
    assert (contract["status"], contract["due"], contract["kind"]) == ("late", "2024-06-12", "within")
    assert contract["published_at"] == "2024-06-17T09:00:00+08:00"
    report = by_rule[("annual-report", "东湖科技大学2023-2024学年信息公开工作年度报告")]
    assert (report["status"], report["due"], report["item"]) == ("ok", "2024-10-31", 6)
    assert not any(f["title"] == "学校召开工作会议" for f in out["findings"])  # no rule governs news
    scoped = json.loads(run_xxgk("--config", str(filled), "compliance", "--year", "2023-2024", "--on", "2024-11-01",
                                 "--json").stdout)
    assert scoped["year"] == "2023-2024" and {f["status"] for f in scoped["findings"]} >= {"short", "late", "ok"}
    table = run_xxgk("--config", str(filled), "compliance", "--on", "2024-11-01")
    assert table.returncode == 0 and "公示期不足" in table.stdout and "逾期" in table.stdout
    bad = run_xxgk("--config", str(filled), "compliance", "--on", "2024-13-01")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr and "Traceback" not in bad.stderr


def test_what_became_late_or_falls_due_is_alerted_once(filled: Path, store: Store) -> None:
    from aggregator.config import load_config
    from aggregator.services.compliance import daily
    from tests.test_service import Webhook

    hook = Webhook()
    try:
        text = filled.read_text(encoding="utf-8").replace("[[channel]]", f'[notify]\nurls = ["{hook.url}"]\n'
                                                                         'digest = ""\n[[channel]]', 1)
        filled.write_text(text, encoding="utf-8")
        cfg = load_config(filled)
        assert daily(cfg, store, datetime(2025, 10, 20, 8)) is not None
        [first] = hook.received
        assert "任前公示" in first["message"] and "合同公告" in first["message"]
        assert "2024-2025 学年" in first["message"] and "待公开" in first["message"]  # due within 14 days
        assert daily(cfg, store, datetime(2025, 10, 20, 9)) is None  # once a day, whoever asks
        daily(cfg, store, datetime(2025, 10, 21, 8))
        assert len(hook.received) == 1  # nothing new since
        daily(cfg, store, datetime(2025, 11, 3, 8))
        assert len(hook.received) == 2 and "缺失" in hook.received[1]["message"]  # the report is now missing
    finally:
        hook.close()
