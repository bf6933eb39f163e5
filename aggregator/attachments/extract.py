"""The text of a kept attachment: PDF (pypdf), DOCX (python-docx), XLSX (openpyxl), plain text.

A scanned PDF — pages, but no text on any — is `no_text_layer`, not an empty text.
DOC, XLS, WPS, archives and images are kept but not read (`unsupported`); archives are
never unpacked. A DOCX or XLSX is a ZIP: one whose members would unpack to more than
`MAX_UNPACKED` bytes, or at a ratio above `MAX_RATIO`, is refused as a likely archive
bomb before any library opens it.

`Extractor` runs documents in a worker process with a time cap per document and an
address-space limit, so a hostile or pathological file costs at most `seconds` and never
the service's memory.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

MAX_UNPACKED = 500_000_000
MAX_RATIO = 200
CHILD_MEMORY = 2 << 30  # bytes of address space a child may use


@dataclass(slots=True)
class Extracted:
    status: str  # text | no_text_layer | unsupported | failed
    text: str = ""
    pages: int | None = None
    note: str | None = None


class Refused(ValueError):
    """A document not opened (archive bomb, encrypted): the message says why, in Chinese."""


def check_zip(path: Path) -> None:
    """Refuse a ZIP container that would unpack to too much, or too suspiciously much."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except zipfile.BadZipFile as exc:
        raise Refused(f"文件已损坏（不是有效的 ZIP 容器：{exc}）") from None
    unpacked = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if unpacked > MAX_UNPACKED or unpacked / packed > MAX_RATIO:
        raise Refused(f"疑似压缩炸弹：{packed:,} 字节解压后为 {unpacked:,} 字节，未读取")


def _pdf(path: Path, max_chars: int) -> Extracted:
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted and not reader.decrypt(""):
        raise Refused("PDF 已加密，无法读取文字（原件已保存）")
    parts: list[str] = []
    size = 0
    for page in reader.pages:
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        if size >= max_chars:
            break
    text = "\n".join(p.strip() for p in parts if p.strip())
    n = len(reader.pages)
    if not text.strip():
        return Extracted("no_text_layer", "", n, f"共 {n} 页，没有文字层（可能是扫描件）；原件已保存")
    return Extracted("text", text[:max_chars], n)


def _docx(path: Path, max_chars: int) -> Extracted:
    from docx import Document

    check_zip(path)
    doc = Document(str(path))
    lines = [p.text for p in doc.paragraphs if p.text.strip()]
    for table in doc.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            if any(cells):
                lines.append("\t".join(cells))
    return Extracted("text" if lines else "no_text_layer", "\n".join(lines)[:max_chars], None,
                     None if lines else "文档中没有文字")


def _xlsx(path: Path, max_chars: int) -> Extracted:
    from openpyxl import load_workbook

    check_zip(path)
    fh = open(path, "rb")  # a file object: openpyxl refuses a path without .xlsx (kept copies have none)
    wb = load_workbook(fh, read_only=True, data_only=True)
    lines: list[str] = []
    size = 0
    try:
        for ws in wb.worksheets:
            lines.append(f"【{ws.title}】")
            for row in ws.iter_rows(values_only=True):
                cells = ["" if v is None else str(v) for v in row]
                if any(cells):
                    line = "\t".join(cells).rstrip()
                    lines.append(line)
                    size += len(line)
                if size >= max_chars:
                    break
            if size >= max_chars:
                break
    finally:
        wb.close()
        fh.close()
    return Extracted("text", "\n".join(lines)[:max_chars], len(wb.sheetnames))


def _text(path: Path, max_chars: int) -> Extracted:
    raw = path.read_bytes()[: max_chars * 4]
    for codec in ("utf-8-sig", "gb18030"):
        try:
            return Extracted("text", raw.decode(codec)[:max_chars])
        except UnicodeDecodeError:
            continue
    return Extracted("failed", note="文本编码无法识别")


READERS = {"pdf": _pdf, "docx": _docx, "xlsx": _xlsx, "text": _text}


def extract(path: Path, kind: str, max_chars: int) -> Extracted:
    """The document's text, in this process (see `extract_in_child`)."""
    reader = READERS.get(kind)
    if reader is None:
        return Extracted("unsupported", note="此格式不提取文字（原件已保存，可下载查看）")
    try:
        got = reader(path, max_chars)
        # NUL (a text file, a PDF's broken layer) is no text, and PostgreSQL refuses to store it.
        got.text = got.text.replace("\x00", "")
        return got
    except Refused as exc:
        return Extracted("failed", note=str(exc))
    except Exception as exc:  # a broken file is reported, never raised: the post is stored regardless
        return Extracted("failed", note=f"无法读取（{type(exc).__name__}: {str(exc)[:200]}）；原件已保存")


class Extractor:
    """`extract` in a worker process, one document at a time, killed (and restarted for the
    next document) when one takes longer than `seconds`; the worker may use at most
    `CHILD_MEMORY` bytes of address space. `with Extractor(60) as x: x.run(path, kind, n)`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _worker(self) -> subprocess.Popen[str]:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen([sys.executable, "-m", "aggregator.attachments.extract"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         text=True, encoding="utf-8")
        return self.proc

    def run(self, path: Path, kind: str, max_chars: int) -> Extracted:
        if kind not in READERS:
            return extract(path, kind, max_chars)
        proc = self._worker()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps({"path": str(path), "kind": kind, "max_chars": max_chars}) + "\n")
            proc.stdin.flush()
        except OSError:
            self.close()
            return Extracted("failed", note="读取进程意外退出，未提取文字；原件已保存")
        ready, _, _ = select.select([proc.stdout], [], [], self.seconds)
        if not ready:
            self.close()
            return Extracted("failed", note=f"超过 {self.seconds:g} 秒仍未读完，已中止；原件已保存")
        line = proc.stdout.readline()
        if not line:
            self.close()
            return Extracted("failed", note="读取进程意外退出（可能内存超限），未提取文字；原件已保存")
        return Extracted(**json.loads(line))

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(5)
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None:
                    pipe.close()
            self.proc = None


def serve() -> None:
    """The worker: one JSON job a line on stdin, one JSON result a line on stdout."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    for line in sys.stdin:
        job = json.loads(line)
        try:
            got = extract(Path(job["path"]), job["kind"], int(job["max_chars"]))
        except MemoryError:
            got = Extracted("failed", note="读取时内存超限，未提取文字；原件已保存")
        sys.stdout.write(json.dumps(asdict(got), ensure_ascii=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
