"""Sums of money as procurement notices write them, in yuan.

One parser for every spelling: `569800.00元`, `￥56.98万元`, `56.980000 万元（人民币）`,
`人民币肆拾捌万元整（￥480000.00）`, `1,250,000.00`, and a label's own unit
(`预算金额（万元）：48`). A figure that states its own unit (元, 万元, ￥, or
大写 ending in 元) is preferred to a bare one; a unit price (`125元/套`,
`3000元/年`) is never a total; percentages and years are not sums.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_FIGURE = re.compile(
    r"(?P<cur>[￥¥]|RMB|人民币)?\s*"
    r"(?P<num>\d{1,3}(?:[,，]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*"
    r"(?P<unit>亿元|万元|元|万|亿)?"
    r"(?P<after>\s*(?:/|每|%|％|年|月|日|个|人|项|套|台|件|次|天|小时))?"
)
_UPPER_DIGITS = {"零": 0, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9,
                 "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UPPER_UNITS = {"拾": 10, "十": 10, "佰": 100, "百": 100, "仟": 1000, "千": 1000}
_UPPER = re.compile(r"[壹贰叁肆伍陆柒捌玖拾][零壹贰叁肆伍陆柒捌玖拾佰仟万亿]*[元圆]"
                    r"(?:[零壹贰叁肆伍陆柒捌玖]角)?(?:[零壹贰叁肆伍陆柒捌玖]分)?整?")
_FACTORS = {"亿元": Decimal(100_000_000), "亿": Decimal(100_000_000), "万元": Decimal(10_000), "万": Decimal(10_000),
            "元": Decimal(1)}


def upper_amount(text: str) -> Decimal | None:
    """人民币大写 → yuan: `肆拾捌万元整` → 480000, `壹佰贰拾万零伍佰元伍角` → 1200500.5.

    >>> upper_amount("肆拾捌万元整")
    Decimal('480000')
    >>> upper_amount("壹佰贰拾万零伍佰元伍角")
    Decimal('1200500.5')
    """
    integer, fraction = (re.split(r"[元圆]", text, maxsplit=1) + [""])[:2]
    total = Decimal(0)
    section = Decimal(0)  # below 万
    digit = Decimal(0)
    seen = False
    for ch in integer:
        if ch in _UPPER_DIGITS:
            digit = Decimal(_UPPER_DIGITS[ch])
            seen = True
        elif ch in _UPPER_UNITS:
            section += (digit or Decimal(1)) * _UPPER_UNITS[ch]
            digit = Decimal(0)
            seen = True
        elif ch in "万亿":
            factor = Decimal(10_000) if ch == "万" else Decimal(100_000_000)
            total = (total + section + digit) * factor
            section = digit = Decimal(0)
            seen = True
    total += section + digit
    for ch, unit in (("角", Decimal("0.1")), ("分", Decimal("0.01"))):
        m = re.search(rf"([{''.join(_UPPER_DIGITS)}]){ch}", fraction)
        if m:
            total += _UPPER_DIGITS[m.group(1)] * unit
            seen = True
    return total if seen else None


def parse_money(text: str | None) -> float | None:
    """The sum a field states, in yuan; None when it states none.

    >>> parse_money("人民币肆拾捌万元整（￥480000.00）")
    480000.0
    >>> parse_money("￥56.980000 万元（人民币）")
    569800.0
    >>> parse_money("125元/套") is None
    True
    >>> parse_money("预算金额（万元）：48")
    480000.0
    """
    if not text:
        return None
    own: list[Decimal] = []
    bare: list[Decimal] = []
    for m in _UPPER.finditer(text):
        value = upper_amount(m.group(0))
        if value is not None:
            own.append(value)
    for m in _FIGURE.finditer(text):
        after = (m["after"] or "").strip()
        if after in ("/", "每", "%", "％") or (after and not m["unit"]):
            continue  # 125元/套, 5%, 2025年, 3台: a unit price, a rate, a date or a count — not a total
        try:
            value = Decimal(m["num"].replace(",", "").replace("，", ""))
        except InvalidOperation:
            continue
        if m["unit"]:
            own.append(value * _FACTORS[m["unit"]])
        elif m["cur"]:
            own.append(value)  # ￥480000.00: yuan, whatever a label says
        else:
            bare.append(value)
    if own:
        return float(own[0].quantize(Decimal("0.01")))
    if bare:
        # A bare figure takes the unit its label states: 预算金额（万元）：48.
        label = re.search(r"[（(]\s*(亿元|万元|元)\s*[）)]", text) or re.search(r"(亿元|万元)", text)
        factor = _FACTORS[label.group(1)] if label else Decimal(1)
        return float((bare[0] * factor).quantize(Decimal("0.01")))
    return None
