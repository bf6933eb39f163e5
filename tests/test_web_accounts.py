"""People, not a password: named accounts, roles and the audit log, in a real headless Chromium
against `xxgk serve` on loopback (accounts made with the real `xxgk admin` commands).

The attempt-limit test runs last in this module: it locks out the loopback address for a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from aggregator.web.views import CSP
from storage.store import PostRecord, Store
from tests.helpers import ROOT, need_chromium, serving, set_password

pytestmark = pytest.mark.slow
SHOTS = ROOT / "artifacts" / "screenshots"
PASSWORDS = {"wang": "wang-editor-2025", "li": "li-editor-2025", "zhao": "zhao-viewer-2025", "admin": "admin-2025-x"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    need_chromium()
    folder = tmp_path_factory.mktemp("accounts")
    cfg = folder / "config.toml"
    cfg.write_text(f'[store]\nurl = "sqlite:///{folder / "xxgk.db"}"\n'
                   '[[channel]]\nid = "news"\nkind = "html"\nurl = "http://127.0.0.1:9/list.htm"\npreset = "vsb"\n',
                   encoding="utf-8")
    with Store.open(f"sqlite:///{folder / 'xxgk.db'}") as store:
        from aggregator.config import load_config
        from aggregator.services.channels import register

        register(load_config(cfg), store)
        store.posts.write("news", [PostRecord(key="k1", title="东湖科技大学2025年部门预算", content_hash="1",
                                              body="部门预算如下。", published_at=datetime(2025, 3, 1, 9, 0), item=19,
                                              category=4, item_source="rule"),
                                   PostRecord(key="k2", title="关于第三食堂临时停业的说明", content_hash="2",
                                              body="因设备检修，第三食堂暂停营业。", published_at=datetime(2025, 3, 2, 9, 0),
                                              item_source="review"),
                                   PostRecord(key="k3", title="关于图书馆闭馆整修的通知", content_hash="3",
                                              body="图书馆闭馆整修一周。", published_at=datetime(2025, 3, 3, 9, 0),
                                              item_source="review")])
    set_password(cfg, PASSWORDS["admin"])
    for name, role in (("wang", "editor"), ("li", "editor"), ("zhao", "viewer")):
        set_password(cfg, PASSWORDS[name], "admin", "add-user", name, "--role", role)
    with serving(cfg, folder) as url:
        yield url


def _page(browser: object) -> object:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")  # type: ignore[attr-defined]
    return context.new_page()


def _sign_in(p: object, server: str, name: str, password: str | None = None) -> None:
    p.goto(server + "/login")  # type: ignore[attr-defined]
    p.fill("input[name=user]", name)  # type: ignore[attr-defined]
    p.fill("input[name=password]", password or PASSWORDS[name])  # type: ignore[attr-defined]
    p.click("form.login button")  # type: ignore[attr-defined]


def test_two_editors_tag_one_post_and_its_page_shows_both_changes(server: str, browser: object) -> None:
    post = server + "/posts/1"
    for name, item in (("wang", "20"), ("li", "none")):
        p = _page(browser)
        _sign_in(p, server, name)
        assert name in p.inner_text("header")  # type: ignore[attr-defined]
        p.goto(post)  # type: ignore[attr-defined]
        p.select_option("form.retag select[name=item]", item)  # type: ignore[attr-defined]
        p.click("form.retag button")  # type: ignore[attr-defined]
        p.context.close()  # type: ignore[attr-defined]
    p = _page(browser)  # read by anyone, signed in or not
    p.goto(post)  # type: ignore[attr-defined]
    rows = p.locator("section.changes tbody tr").all_inner_texts()  # type: ignore[attr-defined]
    assert len(rows) == 2, rows
    newest, oldest = rows
    assert "li" in newest and "清单第 20 项（人工标注）" in newest and "不属于清单（人工标注）" in newest
    assert "wang" in oldest and "清单第 19 项（规则）" in oldest and "清单第 20 项（人工标注）" in oldest
    today = datetime.now().strftime("%Y-%m-%d")[:4]
    assert all(r.split()[0].startswith(today) for r in rows)  # each with its time
    assert p.locator("form.retag").count() == 0  # type: ignore[attr-defined]
    SHOTS.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=str(SHOTS / "post-changes.png"), full_page=True)  # type: ignore[attr-defined]
    p.context.close()  # type: ignore[attr-defined]


def test_an_editor_tags_the_review_list_in_place(server: str, browser: object) -> None:
    p = _page(browser)
    p.goto(server + "/coverage")  # type: ignore[attr-defined]
    assert "第三食堂" in p.inner_text("ul.review") and p.locator("ul.review form").count() == 0  # type: ignore[attr-defined]
    _sign_in(p, server, "wang")
    p.goto(server + "/coverage")  # type: ignore[attr-defined]
    form = p.locator("ul.review li:has-text('第三食堂') form.retag")  # type: ignore[attr-defined]
    # A `back` that leaves the site is never followed: the post's own page instead.
    form.locator("input[name=back]").evaluate("e => e.value = '//evil.example/x'")
    form.locator("select[name=item]").select_option("none")
    form.locator("button").click()
    assert p.url.startswith(server + "/posts/2")  # type: ignore[attr-defined]
    p.goto(server + "/coverage")  # type: ignore[attr-defined]
    assert "第三食堂" not in p.inner_text("body")  # type: ignore[attr-defined]  (tagged: no longer for review)
    form = p.locator("ul.review li:has-text('图书馆') form.retag")  # type: ignore[attr-defined]
    form.locator("select[name=item]").select_option("50")
    form.locator("button").click()
    assert p.url.startswith(server + "/coverage") and p.url.endswith("#review")  # type: ignore[attr-defined]
    assert "本学年没有待复核的帖子" in p.inner_text("body")  # type: ignore[attr-defined]
    p.goto(server + "/posts/3")  # type: ignore[attr-defined]
    assert "清单第 50 项" in p.inner_text("#tag") and "wang" in p.inner_text("section.changes")  # type: ignore[attr-defined]
    p.context.close()  # type: ignore[attr-defined]


def test_a_viewer_reads_but_cannot_write(server: str, browser: object) -> None:
    p = _page(browser)
    _sign_in(p, server, "zhao")
    p.goto(server + "/posts/1")  # type: ignore[attr-defined]
    assert "东湖科技大学2025年部门预算" in p.inner_text("h1")  # type: ignore[attr-defined]
    assert p.locator("form.retag").count() == 0  # type: ignore[attr-defined]
    cookies = {c["name"]: c["value"] for c in p.context.cookies()}  # type: ignore[attr-defined]
    p.context.close()  # type: ignore[attr-defined]
    with httpx.Client(base_url=server, cookies=cookies, timeout=10) as viewer:
        page = viewer.get("/posts/1").text
        assert "退出登录" in page
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        refused = viewer.post("/posts/1/tag", data={"item": "3", "csrf": csrf})
        assert refused.status_code == 403 and "没有这项权限" in refused.text
        assert viewer.post("/channels/news/sync", data={"csrf": csrf}).status_code == 403
    with httpx.Client(base_url=server, timeout=10) as editor:
        assert editor.post("/login", data={"user": "wang", "password": PASSWORDS["wang"]}).status_code == 303
        csrf = editor.get("/posts/1").text.split('name="csrf" value="')[1].split('"')[0]
        assert editor.post("/channels/news/sync", data={"csrf": csrf}).status_code == 403  # syncing is an admin's
    assert "zhao" not in httpx.get(server + "/posts/1", timeout=10).text  # a viewer wrote nothing
    with httpx.Client(base_url=server, timeout=10) as admin:
        assert admin.get("/changes.csv").status_code == 403
        assert admin.post("/login", data={"user": "admin", "password": PASSWORDS["admin"]}).status_code == 303
        csrf = admin.get("/channels").text.split('name="csrf" value="')[1].split('"')[0]
        nothing = admin.post("/channels/news/accept", data={"csrf": csrf})
        assert nothing.status_code == 409 and "没有自动识别出的选择器" in nothing.text
        log = admin.get("/changes.csv")
        assert log.status_code == 200 and log.content.startswith("\ufeff时间,操作人".encode())
        assert "wang" in log.text and "修改清单标注" in log.text


def test_an_admin_manages_accounts_on_the_page(server: str, browser: object) -> None:
    p = _page(browser)
    _sign_in(p, server, "admin")
    p.click("header a:has-text('账号')")  # type: ignore[attr-defined]
    assert "wang" in p.inner_text("table.users")  # type: ignore[attr-defined]
    p.fill("form.adduser input[name=name]", "zhou")  # type: ignore[attr-defined]
    p.select_option("form.adduser select[name=role]", "editor")  # type: ignore[attr-defined]
    p.fill("form.adduser input[name=password]", "zhou-editor-2025")  # type: ignore[attr-defined]
    p.click("form.adduser button")  # type: ignore[attr-defined]
    assert "已保存账号 zhou" in p.inner_text("main")  # type: ignore[attr-defined]
    row = next(r for r in p.locator("table.users tr").all_inner_texts() if r.startswith("zhou"))  # type: ignore[attr-defined]
    assert "编辑" in row
    assert any("admin" in r and "添加账号" in r and "user:zhou" in r
               for r in p.locator("main table").last.locator("tr").all_inner_texts())  # type: ignore[attr-defined]
    SHOTS.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=str(SHOTS / "users.png"), full_page=True)  # type: ignore[attr-defined]
    p.context.close()  # type: ignore[attr-defined]
    with httpx.Client(base_url=server, timeout=10) as zhou:
        assert zhou.post("/login", data={"user": "zhou", "password": "zhou-editor-2025"}).status_code == 303
        assert zhou.get("/users").status_code == 403  # an editor does not manage accounts


def test_with_login_required_nothing_is_read_without_signing_in_and_every_answer_carries_the_headers(
        tmp_path: Path) -> None:
    """`[web] login_required`: a page is a redirect to sign-in, the API a 401 in JSON, sign-in,
    the stylesheet and /healthz stay open; every answer, the refusals included, has the headers."""
    folder = tmp_path
    cfg = folder / "config.toml"
    cfg.write_text(f'[store]\nurl = "sqlite:///{folder / "xxgk.db"}"\n[web]\nlogin_required = true\n'
                   '[[channel]]\nid = "news"\nkind = "html"\nurl = "http://127.0.0.1:9/list.htm"\npreset = "vsb"\n',
                   encoding="utf-8")
    set_password(cfg, PASSWORDS["admin"])
    with serving(cfg, folder) as url, httpx.Client(base_url=url, timeout=10) as http:
        page, api = http.get("/?q=预算"), http.get("/api/search?q=预算")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/"
        assert api.status_code == 401 and api.json() == {"error": "需要登录"}
        opened = [http.get(path) for path in ("/login", "/static/site.css", "/healthz")]
        assert [r.status_code for r in opened] == [200, 200, 200]
        for r in (page, api, *opened):
            assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["content-security-policy"] == CSP
        signed = http.post("/login", data={"user": "admin", "password": PASSWORDS["admin"], "next": "/"})
        assert signed.status_code == 303
        assert http.get("/?q=预算").status_code == 200 and http.get("/api/search?q=预算").status_code == 200


def test_the_sixth_wrong_password_in_a_minute_is_refused_without_a_check(server: str, browser: object) -> None:
    p = _page(browser)
    for _ in range(5):
        _sign_in(p, server, "wang", "wrong-password")
        assert "用户名或密码不正确" in p.inner_text("main")  # type: ignore[attr-defined]
    # The sixth try — even with the right password — is not checked: the account waits.
    _sign_in(p, server, "wang")
    assert "登录失败次数过多" in p.inner_text("main")  # type: ignore[attr-defined]
    assert not any(c["name"] == "xxgk_session" for c in p.context.cookies())  # type: ignore[attr-defined]
    SHOTS.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=str(SHOTS / "login-limited.png"), full_page=True)  # type: ignore[attr-defined]
    p.context.close()  # type: ignore[attr-defined]
    refused = httpx.post(server + "/login", data={"user": "li", "password": PASSWORDS["li"]}, timeout=10)
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 61  # the address waits too
