"""`procurement` channels: an `html` channel whose posts are 采购 announcements.

Every post gets a canonical `type` (README.md, "Procurement fields") — from the title's
ending first, then the source column, then the body — and, where the page
has them, 项目编号, 采购人, 采购方式, 预算金额 and 中标（成交）金额 in yuan, 供应商.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from connectors.base import FetchContext, RawPost
from connectors.dom import Element
from connectors.html import HtmlConnector, HtmlSettings, parse_html
from connectors.http import Page
from connectors.listwalk import Entry
from connectors.money import parse_money
from connectors.settings import ChannelSettings

OTHER = "其他"
# The canonical announcement types (README.md), in the order statistics and the report list them.
PROCUREMENT_TYPES = ("采购意向", "招标公告", "磋商谈判公告", "询价公告", "单一来源公示", "中标成交公告", "更正公告",
                     "终止公告", "合同公告", "验收公告", OTHER)
# (type, pattern on the end of a title or a column name), most specific first:
# a 更正公告 of a 招标公告 ends in 更正公告.
_ENDINGS: list[tuple[str, str]] = [
    ("更正公告", r"(更正|澄清|变更|补充)(公告|公示|通知)"),
    ("终止公告", r"(终止|废标|流标|废标终止|取消)(公告|公示)"),
    ("验收公告", r"验收(结果)?(公告|公示)"),
    ("合同公告", r"合同(公告|公示)"),
    ("中标成交公告", r"(中标|成交|中选|结果|中标候选人|成交候选人|采购结果)(结果)?(公告|公示)"),
    ("单一来源公示", r"单一来源(采购)?(公示|公告)"),
    ("询价公告", r"询价(采购)?(公告|公示)"),
    ("磋商谈判公告", r"(竞争性)?(磋商|谈判)(采购)?(公告|公示)"),
    ("采购意向", r"(采购意向|意向公开|意向公告)"),
    ("招标公告", r"(公开招标|邀请招标|招标|资格预审|采购)(公告|公示)?"),
]
_END_PATTERNS = [(t, re.compile(f"(?:{p})$")) for t, p in _ENDINGS]
_ANY_PATTERNS = [(t, re.compile(p)) for t, p in _ENDINGS if t != "招标公告"]
_QUALIFIER = re.compile(r"[（(][^（）()]{1,12}[）)]$")  # "（第二次）", "(二次)"
_BRACKETS = re.compile(r"[（）()【】\[\]〔〕\s]")
# ccgp channel codes in URLs (docs/sites.md).
_CCGP_CODES = {
    "gkzb": "招标公告", "yqzbgg": "招标公告", "zgysgg": "招标公告", "jzxtpgg": "磋商谈判公告",
    "jzxcs": "磋商谈判公告", "xjgg": "询价公告", "dylygg": "单一来源公示", "zbgg": "中标成交公告",
    "cjgg": "中标成交公告", "gzgg": "更正公告", "fblbgg": "终止公告", "qtgg": OTHER,
}


def _squash(text: str) -> str:
    text = text.strip()
    while _QUALIFIER.search(text):
        text = _QUALIFIER.sub("", text).strip()
    return _BRACKETS.sub("", text).replace("（成交）", "")


def type_from_title(title: str) -> str | None:
    """…公开招标公告 → 招标公告; …中标(成交)结果公告 → 中标成交公告; else None."""
    t = _squash(title).replace("中标成交", "中标")
    for kind, pattern in _END_PATTERNS:
        if pattern.search(t):
            if kind == "招标公告" and not re.search(r"(招标|资格预审|采购)公告$|招标$", t):
                continue
            return kind
    return None


def procurement_type(title: str, column: str | None = None, body: str = "", url: str = "") -> str:
    """The canonical type: the title's ending decides first, then the source column
    (or ccgp channel code), then the body's opening lines (result notices also
    mention 中标金额, so the body is last), then the body's own 采购方式：… line.
    A generic column (采购公告) yields to the body.

    >>> procurement_type("实验室设备采购项目", "采购公告", "一、采购方式：竞争性磋商。")
    '磋商谈判公告'
    """
    found = type_from_title(title)
    if found:
        return found
    generic: str | None = None
    for part in reversed([p for p in re.split(r"[>»/]", column or "") if p]):
        found = type_from_title(part) or _search(_squash(part))
        if found == "招标公告":
            generic = generic or found  # "采购公告", "招标采购": says little about the notice
        elif found:
            return found
    m = re.search(r"/(?:dfgg|zygg)/([a-z]+)/", url)
    if m and m.group(1) in _CCGP_CODES:
        return _CCGP_CODES[m.group(1)]
    found = _search(_squash(body[:200]))
    if found and found != "招标公告":
        return found
    method = _METHOD.search(body)
    if method:
        return _METHOD_TYPES[method.group(1)]
    return found or generic or OTHER


# 采购方式：… in a notice's body names the kind of notice when title and column are silent.
_METHOD = re.compile(r"采购方式\s*[:：]\s*(公开招标|邀请招标|竞争性磋商|竞争性谈判|询价|单一来源)")
_METHOD_TYPES = {"公开招标": "招标公告", "邀请招标": "招标公告", "竞争性磋商": "磋商谈判公告",
                 "竞争性谈判": "磋商谈判公告", "询价": "询价公告", "单一来源": "单一来源公示"}
_LABEL_UNIT = r"[（(]\s*(?:人民币)?\s*(?:万元|元|亿元)\s*[）)]"
_TRAILING = "。；;，,、.． \u3000"


def _search(text: str) -> str | None:
    for kind, pattern in _ANY_PATTERNS:
        if pattern.search(text):
            return kind
    if re.search(r"(公开招标|邀请招标|招标公告|资格预审)", text):
        return "招标公告"
    return None


def amount_yuan(text: str | None) -> float | None:
    """`￥56.980000 万元（人民币）` → 569800.0; `569800.00(元)` → 569800.0 (`connectors.money`)."""
    return parse_money(text)


# Field → labels as pages write them (docs/sites.md), read "label：value".
_LABELS: dict[str, tuple[str, ...]] = {
    "project_code": ("项目编号", "采购项目编号", "招标编号", "采购编号"),
    "buyer": ("采购人名称", "采购单位名称", "采购人", "采购单位"),
    "method": ("采购方式",),
    "budget": ("预算金额", "项目预算", "采购预算", "最高限价"),
    "award": ("总中标金额", "中标（成交）金额", "中标(成交)金额", "中标金额", "成交金额", "合同金额"),
    "supplier": ("中标（成交）供应商", "中标(成交)供应商", "中标供应商名称", "中标供应商", "成交供应商",
                 "供应商名称", "中标人"),
}


def _pairs(root: Element) -> dict[str, str]:
    """Label/value cells of summary tables (ccgp 公告概要, university notices)."""
    pairs: dict[str, str] = {}
    for row in root.iter("tr"):
        cells = [" ".join(c.text_content().split()) for c in row if c.tag in ("td", "th")]
        for label, value in zip(cells[::2], cells[1::2], strict=False):
            label = label.rstrip("：: ")
            if label and value and label not in pairs:
                pairs[label] = value
    # ccgp marks fields by class (docs/sites.md) rather than by a label cell.
    for cls, label in (("code-winningSupplierName", "中标供应商"), ("code-summaryPrice", "中标金额"),
                       ("code-00004", "项目编号"), ("code-00003", "项目名称"), ("code-00014", "采购人名称")):
        for node in root.find_class(cls):
            text = " ".join(node.text_content().split())
            if text:
                pairs.setdefault(label, text)
                break
    return pairs


def procurement_fields(body: str, html: str | None = None) -> dict[str, object]:
    """The announcement's fields that the page states; absent ones are left out."""
    pairs = _pairs(parse_html(html)) if html else {}
    out: dict[str, object] = {}
    for field, labels in _LABELS.items():
        value: str | None = None
        unit = ""  # a unit the label states: 预算金额（万元）：48
        for label in labels:
            found = next((k for k in pairs if k == label or re.fullmatch(rf"{re.escape(label)}{_LABEL_UNIT}", k)),
                         None)
            if found is not None:
                value, unit = pairs[found], found[len(label):]
                break
            m = re.search(rf"(?:^|[\s一二三四五六七八九十、.]){re.escape(label)}\s*(?P<unit>{_LABEL_UNIT})?"
                          r"\s*[：:]\s*(?P<value>[^\n；;]+)", body)
            if m:
                value, unit = m["value"].strip(), m["unit"] or ""
                break
        if value is None:
            continue
        if field in ("budget", "award"):
            amount = amount_yuan(f"{unit}{value}" if unit else value)
            if amount is not None:
                out[field] = amount
        else:
            text = re.split(r"\s{2,}|\s+(?=[一二三四五六七八九十]、)", value)[0].strip()
            out[field] = text.rstrip(_TRAILING)[:200]
    return out


class ProcurementSettings(HtmlSettings):
    """A `procurement` channel: an html channel whose posts are 采购 announcements."""

    kind: Literal["procurement"] = "procurement"  # type: ignore[assignment]


class ProcurementConnector(HtmlConnector):
    kind: ClassVar[str] = "procurement"
    settings: ClassVar[type[ChannelSettings]] = ProcurementSettings

    def enrich(self, post: RawPost, page: Page | None, entry: Entry, ctx: FetchContext) -> RawPost:
        post.type = procurement_type(post.title, post.column or ctx.channel.display_name, post.body, post.url or "")
        fields = procurement_fields(post.body, page.text if page is not None else None)
        post.extra.update(fields)
        return post
