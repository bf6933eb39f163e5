"""Attachments kept as evidence: fetched once behind extension-less `download.jsp` links,
named by Content-Disposition, stored once by content, their text searchable, a changed
one kept in both versions, an oversized one refused without being held in memory."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from typer.testing import CliRunner

from aggregator.attachments.extract import Extractor
from aggregator.attachments.names import best_name, clean_name, name_from_disposition
from aggregator.cli import app
from aggregator.demo.attachments import docx_bytes, pdf_bytes, scanned_pdf_bytes, xlsx_bytes
from aggregator.demo.server import Resource, SampleServer
from aggregator.demo.sites import OWNER, SamplePost, portal_site
from aggregator.services.attachments import file_path
from storage.records import AttachmentUsage
from storage.store import Store
from tests.helpers import free_port, wait_until_up, write_config

JSP = f"/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner={OWNER}&wbfileid="
PDF = pdf_bytes(["2025年硕士研究生拟录取名单", "计算机学院 鲲鹏 张三 复试成绩 86.5"], pages=3)
DOCX = docx_bytes(["2025年本科招生简章（含专业目录）", "学费标准见下表。"],
                  table=[["专业", "学费"], ["软件工程", "5850元/年"]])
XLSX = xlsx_bytes([["项目", "标准"], ["住宿费", "1200元/年"], ["教材费", "据实收取"]], sheet="收费标准")


def star(name: str) -> dict[str, str]:
    """RFC 5987, as VSB sends it: percent-encoded UTF-8 in `filename*`."""
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}


def posts() -> list[SamplePost]:
    day = datetime(2025, 6, 20, 9, 0)
    return [
        SamplePost(9101, "2025年硕士研究生拟录取名单公示", day, ["名单见附件，请下载附件查阅。"],
                   department="研究生院", attachments=["拟录取名单", "招生简章"]),
        SamplePost(9102, "2025年学生收费标准公示", day.replace(day=18), ["请下载附件查阅。"],
                   department="财务处", attachments=["收费标准"]),
        SamplePost(9103, "2025年硕士研究生拟录取名单（转载）", day.replace(day=16), ["同上。"],
                   department="计算机学院", attachments=["名单"]),
    ]


def pages() -> dict[str, Resource]:
    out = portal_site(posts())
    octet = "application/octet-stream"
    out[JSP + "91010"] = Resource(PDF, octet, headers=star("2025年硕士研究生拟录取名单.pdf"))
    # A plain `filename=` that is percent-encoded UTF-8 (no `*`), as many servers send it.
    out[JSP + "91011"] = Resource(DOCX, octet, headers={
        "Content-Disposition": f'attachment; filename="{quote("招生简章（含专业目录）.docx")}"'})
    out[JSP + "91020"] = Resource(XLSX, octet, headers=star("收费标准.xlsx"))
    out[JSP + "91030"] = Resource(PDF, octet, headers=star("拟录取名单（转载）.pdf"))  # the same bytes
    return out


CHANNEL = '''
[[channel]]
id = "portal"
name = "学校门户"
kind = "html"
url = "{base}/portal/xwzx/xxyw.htm"
preset = "vsb"
attachments = "{mode}"
'''


@pytest.fixture
def site() -> SampleServer:
    server = SampleServer(pages()).start()
    yield server
    server.stop()


def _config(tmp_path: Path, store_url: str, base: str, mode: str = "index", extra: str = "") -> Path:
    return write_config(tmp_path / "config.toml", store_url, CHANNEL.format(base=base, mode=mode) + extra,
                        http="[http]\nper_host_interval = 0.0\n")


def _cli(cfg: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["--config", str(cfg), *args])
    assert result.exit_code == code, result.output
    return result.stdout


def _post(store: Store, title: str) -> int:
    return next(r["id"] for r in store.posts.iter_rows() if r["title"] == title)


def test_attachments_are_kept_once_and_searchable(tmp_path: Path, store_url: str, site: SampleServer) -> None:
    cfg = _config(tmp_path, store_url, site.url)
    result = json.loads(_cli(cfg, "sync", "--json"))["channels"][0]
    assert result["status"] == "ok", result
    store = Store.open(store_url)
    first = _post(store, "2025年硕士研究生拟录取名单公示")
    rows = store.attachments.of_post(first)
    assert [(r.name, r.status, r.kind) for r in rows] == [
        ("2025年硕士研究生拟录取名单.pdf", "kept", "pdf"), ("招生简章（含专业目录）.docx", "kept", "docx")]
    assert rows[0].pages == 3 and rows[0].text_status == "text"
    # Four links, three distinct files: the same PDF behind two links is kept once.
    assert store.attachments.usage() == AttachmentUsage(files=3, bytes=len(PDF) + len(DOCX) + len(XLSX), links=4)
    kept = [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]
    assert sorted(p.name for p in kept) == sorted(r.sha256 for r in [*rows, *store.attachments.of_post(
        _post(store, "2025年学生收费标准公示"))])
    assert file_path(tmp_path / "attachments", rows[0].sha256).read_bytes() == PDF

    # A two-character word only the PDF carries finds both posts that link it, and the
    # snippet names the attachment; the DOCX's table and the XLSX's cells are searchable too.
    found = json.loads(_cli(cfg, "search", "鲲鹏", "--json"))
    assert {r["title"] for r in found["results"]} == {"2025年硕士研究生拟录取名单公示", "2025年硕士研究生拟录取名单（转载）"}
    assert "附件《2025年硕士研究生拟录取名单.pdf》" in _cli(cfg, "search", "鲲鹏")
    assert [r["title"] for r in json.loads(_cli(cfg, "search", "5850元", "--json"))["results"]] == [
        "2025年硕士研究生拟录取名单公示"]
    assert [r["title"] for r in json.loads(_cli(cfg, "search", "住宿费", "--json"))["results"]] == [
        "2025年学生收费标准公示"]

    # Fetched once: a second sync asks for none of them again.
    _cli(cfg, "sync")
    assert site.hits[JSP + "91010"] == 1 and site.hits[JSP + "91020"] == 1

    # The export lists them (an extension, asked for with --attachments).
    lines = [json.loads(x) for x in _cli(cfg, "export", "--attachments").splitlines()]
    listed = next(x for x in lines if x["id"] == first)["attachments"]
    assert [(a["name"], a["status"], a["size"], a["sha256"]) for a in listed][0] == (
        "2025年硕士研究生拟录取名单.pdf", "kept", len(PDF), rows[0].sha256)
    assert "attachments" not in json.loads(_cli(cfg, "export").splitlines()[0])  # the contract's shape
    store.close()


def test_a_changed_or_gone_attachment_keeps_every_version(tmp_path: Path, store_url: str,
                                                           site: SampleServer) -> None:
    cfg = _config(tmp_path, store_url, site.url)
    _cli(cfg, "sync")
    store = Store.open(store_url)
    first = _post(store, "2025年硕士研究生拟录取名单公示")
    old_sha = store.attachments.of_post(first)[0].sha256

    new_pdf = pdf_bytes(["2025年硕士研究生拟录取名单（更正）", "计算机学院 鲲鹏 张三 复试成绩 88.0 凤凰"])
    site.pages[JSP + "91010"] = Resource(new_pdf, "application/octet-stream",
                                         headers=star("2025年硕士研究生拟录取名单.pdf"))
    del site.pages[JSP + "91020"]  # the 收费标准 is taken down
    _cli(cfg, "sync", "--full")

    rows = store.attachments.of_post(first)
    versions = [(r.status, r.sha256) for r in rows if r.url.endswith("91010")]
    assert versions[0] == ("changed", old_sha) and versions[1][0] == "kept" and versions[1][1] != old_sha
    root = tmp_path / "attachments"
    assert file_path(root, old_sha).read_bytes() == PDF and file_path(root, versions[1][1]).read_bytes() == new_pdf
    # The post's revision says which file it published until now.
    revisions = store.posts.revisions(first)
    assert revisions and any(a.get("sha256") == old_sha for a in revisions[-1].attachments)
    # The new version's text is searched; the DOCX, unchanged, was asked with its validators (304).
    assert [r["title"] for r in json.loads(_cli(cfg, "search", "凤凰", "--json"))["results"]] == [
        "2025年硕士研究生拟录取名单公示"]

    fees = _post(store, "2025年学生收费标准公示")
    gone = store.attachments.of_post(fees)[0]
    assert gone.status == "gone" and file_path(root, gone.sha256).exists()
    assert len(store.posts.revisions(fees)) == 1
    # The post page shows both versions and the revision names the file it replaced.
    with served(cfg) as client:
        page = client.get(f"/posts/{first}").text
        assert "旧版本（来源已更换）" in page and f"sha256 {old_sha[:12]}" in page
        assert "来源已删除，副本保留" in client.get(f"/posts/{fees}").text
        assert client.get(f"/attachments/{gone.id}").content == XLSX
    store.close()


def _huge(size: int, *, declared: bool):
    """A fault handler streaming `size` bytes of PDF-looking data, with or without a Content-Length."""
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Disposition", "attachment; filename*=UTF-8''" + quote("招生专业目录.pdf"))
        if declared:
            handler.send_header("Content-Length", str(size))
        else:
            handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"%PDF" + b"0" * (1 << 20 - 4)
        try:
            for _ in range(size // len(chunk)):
                handler.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if not declared else chunk)
            if not declared:
                handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client stopped reading: what we expect
        handler.close_connection = True
    return answer


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_an_oversized_attachment_is_refused_without_holding_it(tmp_path: Path, store_url: str,
                                                               site: SampleServer, declared: bool) -> None:
    site.faults[JSP + "91020"] = _huge(60 << 20, declared=declared)
    cfg = _config(tmp_path, store_url, site.url)
    tracemalloc.start()
    try:
        result = json.loads(_cli(cfg, "sync", "--json", code=1))["channels"][0]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 << 20  # the 60 MB never sat in memory
    assert result["status"] == "partial" and "91020" in result["error"] and "cap" in result["error"]
    store = Store.open(store_url)
    row = store.attachments.of_post(_post(store, "2025年学生收费标准公示"))[0]
    assert row.status == "refused" and row.sha256 is None and "max_bytes" in row.error
    # Nothing of it is left on disk; every other attachment and post is kept.
    assert not [p for p in (tmp_path / "attachments" / ".tmp").iterdir()]
    assert store.attachments.usage().files == 2 and store.posts.count() == 3
    store.close()


def test_scanned_pdfs_archive_bombs_and_hostile_names(tmp_path: Path, store_url: str, site: SampleServer) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (300 << 20))  # 300 MB of zeros, ~300 KB packed
    site.pages[JSP + "91010"] = Resource(scanned_pdf_bytes(2), "application/octet-stream",
                                         headers={"Content-Disposition": 'attachment; filename="../../etc/passwd.pdf"'})
    site.pages[JSP + "91011"] = Resource(bomb.getvalue(), "application/octet-stream", headers=star("简章.docx"))
    cfg = _config(tmp_path, store_url, site.url)
    assert json.loads(_cli(cfg, "sync", "--json"))["channels"][0]["status"] == "ok"
    store = Store.open(store_url)
    scanned, docx = store.attachments.of_post(_post(store, "2025年硕士研究生拟录取名单公示"))
    assert (scanned.name, scanned.text_status, scanned.pages) == ("passwd.pdf", "no_text_layer", 2)
    assert "扫描件" in scanned.note
    assert docx.status == "kept" and docx.text_status == "failed" and "压缩炸弹" in docx.note
    assert not (tmp_path / "etc").exists()
    store.close()


def test_off_fetches_nothing_and_list_keeps_without_reading(tmp_path: Path, store_url: str,
                                                             site: SampleServer) -> None:
    cfg = _config(tmp_path, store_url, site.url, mode="off")
    _cli(cfg, "sync")
    assert not [k for k in site.hits if "download.jsp" in k]
    store = Store.open(store_url)
    first = _post(store, "2025年硕士研究生拟录取名单公示")
    assert [a["name"] for a in store.posts.by_id(first).attachments] == ["拟录取名单", "招生简章"]
    store.close()

    cfg = _config(tmp_path, store_url, site.url, mode="list")
    _cli(cfg, "sync")
    store = Store.open(store_url)
    rows = store.attachments.of_post(first)
    assert [r.status for r in rows] == ["kept", "kept"] and {r.text_status for r in rows} == {"off"}
    assert json.loads(_cli(cfg, "search", "鲲鹏", "--json"))["total"] == 0
    # Switched to "index", the files kept already are read — not fetched again.
    cfg = _config(tmp_path, store_url, site.url, mode="index")
    _cli(cfg, "sync")
    assert json.loads(_cli(cfg, "search", "鲲鹏", "--json"))["total"] == 2
    assert site.hits[JSP + "91010"] == 1
    store.close()


def test_the_kept_copy_is_served_as_a_download_never_as_a_page(tmp_path: Path, store_url: str,
                                                                site: SampleServer) -> None:
    site.pages[JSP + "91020"] = Resource(b"<html><script>alert(1)</script></html>", "text/html",
                                         headers=star("收费标准.xlsx"))
    cfg_path = _config(tmp_path, store_url, site.url)
    _cli(cfg_path, "sync")
    store = Store.open(store_url)
    with served(cfg_path) as client:
        _check_served(client, store)
    store.close()


@contextmanager
def served(cfg: Path) -> Iterator[httpx.Client]:
    """`xxgk serve` on a free loopback port, and a client for it."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(cfg), "serve", "--no-scheduler",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        with httpx.Client(base_url=base, timeout=10) as client:
            yield client
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _check_served(client: httpx.Client, store: Store) -> None:
    first = _post(store, "2025年硕士研究生拟录取名单公示")
    page = client.get(f"/posts/{first}").text
    assert "2025年硕士研究生拟录取名单.pdf" in page and "PDF" in page and "文字已可检索" in page
    link = store.attachments.of_post(first)[0].id
    got = client.get(f"/attachments/{link}")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    assert got.headers["x-content-type-options"] == "nosniff" and "sandbox" in got.headers["content-security-policy"]
    hostile = store.attachments.of_post(_post(store, "2025年学生收费标准公示"))[0]
    served = client.get(f"/attachments/{hostile.id}")
    assert served.headers["content-type"] == "application/octet-stream"  # an HTML body is never served as HTML
    assert client.get("/attachments/999999").status_code == 404
    api = client.get(f"/api/posts/{first}").json()["attachment_files"]
    assert [(a["name"], a["status"], a["download"]) for a in api][0] == (
        "2025年硕士研究生拟录取名单.pdf", "kept", f"/attachments/{link}")


def test_names_from_headers_links_and_urls() -> None:
    assert name_from_disposition("attachment; filename*=UTF-8''%E6%8B%9F%E5%BD%95%E5%8F%96.pdf") == "拟录取.pdf"
    assert name_from_disposition("attachment; filename=\"%E9%99%84%E4%BB%B6.docx\"") == "附件.docx"
    gbk = "附件.xlsx".encode("gbk").decode("latin-1")  # raw GBK bytes as an HTTP library reads them
    assert name_from_disposition(f'attachment; filename="{gbk}"') == "附件.xlsx"
    assert best_name(None, "附件1：招生章程.pdf", "http://x/download.jsp?wbfileid=1") == "招生章程.pdf"
    assert best_name(None, "", "http://x/files/%E7%AE%80%E7%AB%A0.pdf") == "简章.pdf"
    assert clean_name("a\x00b/../c<d>.pdf") == "c_d_.pdf" and len(clean_name("名" * 300 + ".pdf")) <= 120


def test_extraction_is_capped_in_time_and_recovers(tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    big.write_bytes(pdf_bytes(["第一行 文字"] * 30, pages=200))
    small = tmp_path / "small.pdf"
    small.write_bytes(PDF)
    with Extractor(seconds=0.001) as hurried:
        got = hurried.run(big, "pdf", 1_000_000)
    assert got.status == "failed" and "已中止" in (got.note or "")
    with Extractor(seconds=30) as patient:
        assert "鲲鹏" in patient.run(small, "pdf", 1000).text
        assert patient.run(big, "pdf", 1_000_000).pages == 200


def test_a_nul_in_a_document_is_dropped_from_its_text(tmp_path: Path) -> None:
    """PostgreSQL refuses text with NUL: a text file carrying one is read without it."""
    doc = tmp_path / "名单.txt"
    doc.write_bytes("拟录取\x00名单".encode() + b"\x00")
    with Extractor(seconds=30) as x:
        got = x.run(doc, "text", 1000)
    assert (got.status, got.text) == ("text", "拟录取名单")
