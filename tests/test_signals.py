"""Signals the office can believe, driven from outside through the real `xxgk` process:
one identity per post whatever the site's address, a 304 that clears nothing, and exit
codes a cron job can trust."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.demo.server import SampleServer
from aggregator.demo.sites import news_posts, portal_site
from storage.store import Store
from tests.helpers import run_xxgk

COLUMN = "/portal/xwzx/xxyw.htm"


def _config(path: Path, store_url: str, url: str, hosts: tuple[str, ...] = (), extra: str = "",
            entry: str | None = None) -> Path:
    listed = ", ".join(f'"{h}"' for h in hosts)
    lst = f'  [channel.list]\n  entry = "{entry}"\n' if entry else ""
    path.write_text(f'[store]\nurl = "{store_url}"\n[http]\nper_host_interval = 0.0\nretries = 0\n{extra}\n'
                    f'[[channel]]\nid = "news"\nkind = "html"\nurl = "{url}"\npreset = "vsb"\nhosts = [{listed}]\n{lst}',
                    encoding="utf-8")
    return path


def _sync(cfg: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    done = run_xxgk("--config", str(cfg), "sync", "--json", *args, env=env)
    assert done.returncode in (0, 1), done.stderr
    [result] = json.loads(done.stdout)["channels"]
    return result


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost (openssl), trusted by the syncs through SSL_CERT_FILE."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(key),
                    "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    return str(cert), str(key)


@pytest.fixture()
def pages() -> Iterator[dict]:
    yield portal_site(news_posts(24), per_page=8)


def test_a_site_moving_host_and_scheme_keeps_one_post_per_entry(
        store_url: str, store: Store, tmp_path: Path, pages: dict, certificate: tuple[str, str]) -> None:
    cert, _key = certificate
    with SampleServer(pages) as plain, SampleServer(pages, tls=certificate) as secure:
        port = plain.url.rsplit(":", 1)[1]
        first = _sync(_config(tmp_path / "a.toml", store_url, plain.url + COLUMN))
        assert first["status"] == "ok" and first["new"] == 24
        # The same site under an alias of its host (declared in hosts), read whole again.
        cfg = _config(tmp_path / "b.toml", store_url, f"http://localhost:{port}{COLUMN}", hosts=(f"127.0.0.1:{port}",))
        moved = _sync(cfg, "--full")
        assert (moved["status"], moved["new"]) == ("ok", 0), moved
        assert "网站地址已由" in moved["note"] and f"http://localhost:{port}" in moved["note"]
        assert store.posts.count("news") == 24
        # Then over https, on another port listed among the channel's hosts.
        secure_port = secure.url.rsplit(":", 1)[1]
        cfg = _config(tmp_path / "c.toml", store_url, f"https://127.0.0.1:{secure_port}{COLUMN}",
                      hosts=(f"127.0.0.1:{port}", f"localhost:{port}"))
        https = _sync(cfg, "--full", env={"SSL_CERT_FILE": cert})
        assert (https["status"], https["new"]) == ("ok", 0), https
        assert "https://127.0.0.1" in https["note"]
        again = _sync(cfg, "--full", env={"SSL_CERT_FILE": cert})
        assert "note" not in again  # said once
        assert store.posts.count("news") == 24
        assert secure.hits[COLUMN] >= 2


def test_a_store_that_counted_a_post_twice_is_told_so_not_merged(store_url: str, store: Store,
                                                                tmp_path: Path, pages: dict) -> None:
    """Keys made before identity (with their scheme) are re-spelt once; one entry stored under two
    spellings is named, both rows kept."""
    from aggregator.config import load_config
    from aggregator.pipeline.normalize import normalise
    from aggregator.services.channels import register
    from connectors.base import RawPost

    with SampleServer(pages) as site:
        cfg_path = _config(tmp_path / "a.toml", store_url, site.url + COLUMN)
        url = site.url + "/portal/info/1010/9010.htm"
        twice = [normalise(RawPost(title="同一条通知", url=u, key=u)) for u in (url, url.replace("http:", "https:"))]
        register(load_config(cfg_path), store)
        assert {r.key for r in twice} == {url.split("://")[1]}  # today's spelling is one key…
        for record, old in zip(twice, (url, url.replace("http:", "https:")), strict=True):
            record.key = old  # …as a store of the old spelling held it: two rows
            store.posts.write("news", [record])
        result = _sync(cfg_path)
        assert result["status"] == "partial" and "此前被保存了两次" in result["error"]
        assert store.posts.count("news") == 24 + 1  # nothing merged: the office decides


def test_audit_exits_2_when_a_channel_cannot_be_read(store_url: str, tmp_path: Path) -> None:
    from tests.helpers import free_port

    cfg = _config(tmp_path / "a.toml", store_url, f"http://127.0.0.1:{free_port()}{COLUMN}")
    done = run_xxgk("--config", str(cfg), "audit", "--json")
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    [row] = json.loads(done.stdout)["channels"]
    assert row["error"] and row["site_total"] is None
    assert "news" in done.stderr


# -- a quiet run carries its evidence ----------------------------------------------------------------------


def _redesign(pages: dict) -> dict:
    """The list pages with the main list's container renamed (what a template update does)."""
    from aggregator.demo.server import Resource

    return {path: Resource(res.body.replace(b'class="btlist list-con"', b'class="newslist"'), res.content_type)
            for path, res in pages.items() if "/xwzx/xxyw" in path}


def _state(cfg: Path) -> dict:
    done = run_xxgk("--config", str(cfg), "channels", "--json")
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)["channels"]
    return row


@pytest.fixture()
def hook() -> Iterator[object]:
    from tests.test_service import Webhook

    receiver = Webhook()
    yield receiver
    receiver.close()


def test_a_304_never_says_recovered_while_the_selector_is_still_broken(
        store_url: str, store: Store, tmp_path: Path, pages: dict, hook: object) -> None:
    notify = f'[notify]\nurls = ["{hook.url}"]\ndigest = ""\n'  # type: ignore[attr-defined]
    with SampleServer(pages) as site:
        cfg = _config(tmp_path / "a.toml", store_url, site.url + COLUMN, extra=notify, entry=".btlist li")
        assert _sync(cfg)["status"] == "ok" and store.posts.count("news") == 24
        site.pages.update(_redesign(pages))
        broken = _sync(cfg)
        assert broken["status"] == "partial" and "没有匹配到任何条目" in broken["error"], broken
        assert _state(cfg)["state"] == "incomplete" and "没有匹配到任何条目" in _state(cfg)["last_error"]
        assert len(hook.received) == 1 and "不完整" in hook.received[0]["title"]  # type: ignore[attr-defined]
        for _ in range(2):  # the unchanged page answers 304: nothing parsed, nothing cleared
            site.hits.clear()
            quiet = _sync(cfg)
            assert quiet["requests"] == 1 and quiet["new"] == 0
            assert quiet["status"] == "partial" and "304" in quiet["error"] and ".btlist li" in quiet["error"]
            row = _state(cfg)
            assert row["state"] == "incomplete" and row["detected"]["entry"]
        assert len(hook.received) == 1  # type: ignore[attr-defined]
        # The office fixes the config: the page is read afresh (not answered from the old validators).
        fixed = _config(tmp_path / "a.toml", store_url, site.url + COLUMN, extra=notify, entry=".newslist li")
        again = _sync(fixed)
        assert again["status"] == "ok", again
        assert _state(fixed)["state"] == "ok" and _state(fixed)["detected"] is None
        assert _state(fixed)["last_error"] is None  # recovered: the old error is not shown any more
        assert len(hook.received) == 2 and "已恢复" in hook.received[1]["title"]  # type: ignore[attr-defined]
        assert store.posts.count("news") == 24


def test_accepting_the_detected_selectors_is_recorded_and_recovers_the_channel(
        store_url: str, store: Store, tmp_path: Path, pages: dict, hook: object) -> None:
    notify = f'[notify]\nurls = ["{hook.url}"]\ndigest = ""\n'  # type: ignore[attr-defined]
    with SampleServer(pages) as site:
        cfg = _config(tmp_path / "a.toml", store_url, site.url + COLUMN, extra=notify, entry=".btlist li")
        nothing = run_xxgk("--config", str(cfg), "accept", "news")
        assert nothing.returncode != 0 and "没有自动识别出的选择器" in nothing.stderr
        _sync(cfg)
        site.pages.update(_redesign(pages))
        assert _sync(cfg)["status"] == "partial"
        done = run_xxgk("--config", str(cfg), "accept", "news")
        assert done.returncode == 0, done.stderr
        row = _state(cfg)
        assert row["accepted"]["entry"] == row["detected"]["entry"]
        recovered = _sync(cfg)
        assert recovered["status"] == "ok" and recovered["requests"] >= 1, recovered
        assert _state(cfg)["state"] == "ok"
        assert [m["title"].rsplit("：", 1)[-1] for m in hook.received] == ["不完整", "已恢复"]  # type: ignore[attr-defined]
        assert _sync(cfg)["status"] == "ok"  # and stays so: the accepted selectors match on every read
        log = json.loads(run_xxgk("--config", str(cfg), "admin", "log", "--json").stdout)["changes"]
        assert [(c["action"], c["target"]) for c in log] == [("accept", "channel:news")]
        assert log[0]["actor"].startswith("命令行 ") and ".btlist li" in log[0]["before"]
        assert row["accepted"]["entry"] in log[0]["after"]
        # A config edit supersedes what was accepted: the configured selector is read again.
        edited = _config(tmp_path / "a.toml", store_url, site.url + COLUMN, extra=notify, entry=".btlist li")
        assert _sync(edited)["status"] == "ok"  # the same text: still the config it was accepted for
        other = _config(tmp_path / "a.toml", store_url, site.url + COLUMN, extra=notify, entry="ul.gone li")
        assert _sync(other)["status"] == "partial"


def test_a_lease_holder_is_dead_only_when_this_machine_can_tell() -> None:
    """Same machine: a pid that is gone, or is another process now, or a machine rebooted since, is dead.
    Another machine (or another pid namespace, a container) is never judged: its TTL rules."""
    import subprocess
    import sys
    from dataclasses import replace
    from datetime import datetime

    from aggregator.services.leases import _started, is_dead, this_process
    from storage.store import Lease

    me = this_process()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        alive = replace(me, pid=child.pid, pid_start=_started(child.pid))
        now = datetime(2026, 1, 1)

        def lease(process: object) -> Lease:
            return Lease("news", False, "xxgk sync @ somewhere", now, now, process)  # type: ignore[arg-type]

        assert not is_dead(lease(alive), me)
        assert is_dead(lease(replace(alive, pid_start="1")), me)  # the pid is another process now
        assert is_dead(lease(replace(alive, boot_id="rebooted")), me)
        assert not is_dead(lease(replace(alive, host="other-host")), me)
        assert not is_dead(lease(None), me)  # a lease from before holders said who they are
    finally:
        child.kill()
        child.wait()
    assert is_dead(lease(alive), me)  # gone
    assert not is_dead(lease(replace(alive, host="other-host")), me)


def test_a_burst_of_failed_sign_ins_is_refused_before_any_check_and_alerted_once(
        store_url: str, store: Store, tmp_path: Path, hook: object) -> None:
    from aggregator.config import load_config
    from aggregator.services.accounts import save_user, sign_in

    cfg_path = tmp_path / "a.toml"
    cfg_path.write_text(f'[store]\nurl = "{store_url}"\n[notify]\nurls = ["{hook.url}"]\ndigest = ""\n'  # type: ignore[attr-defined]
                        '[web]\nlogin_attempts = 3\n', encoding="utf-8")
    cfg = load_config(cfg_path)
    save_user(store, "wang", "editor", "right-password-1", "test")
    for _ in range(3):
        assert sign_in(store, cfg, "wang", "wrong", "192.0.2.9").refused == "用户名或密码不正确"
    refused = sign_in(store, cfg, "wang", "right-password-1", "192.0.2.9")
    assert refused.account is None and refused.wait > 50 and "次数过多" in (refused.refused or "")
    other = sign_in(store, cfg, "wang", "right-password-1", "192.0.2.10")  # the account waits, from anywhere
    assert other.account is None and other.wait > 0
    assert len(hook.received) == 1 and "wang" in hook.received[0]["message"]  # type: ignore[attr-defined]
