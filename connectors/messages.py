"""What a sync says to the office, written once: each reason a page, an entry or a run was not read
whole, in Chinese that says what happened and what to do, with the technical detail (address,
status, selector) kept beside it. The fetcher, the list walk and the pipeline all word their notes
here, so a reason reads the same on the channels page, in `sync --json` and in an alert.
Logs stay technical and are not worded here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


# -- fetching ----------------------------------------------------------------------------------------
def off_hosts(url: str, landed: str, hosts: list[str]) -> str:
    return (f"{url} 跳转到了 {landed}，不在本渠道的网站范围（{', '.join(hosts)}）内：未读取。"
            "如果该网站属于本校，请把它加入渠道的 hosts")


def robots(detail: str) -> str:
    return f"{detail}：网站的 robots.txt 不允许程序读取"


def timeout(url: str) -> str:
    return f"{url} 响应超时：稍后会再试；如经常如此，请调大 [http] timeout"


def unreachable(url: str, kind: str, detail: str) -> str:
    return f"{url} 无法连接（{kind}: {detail}）：请检查网址，以及本机能否访问该网站"


def too_many_redirects(url: str, limit: int) -> str:
    return f"{url} 跳转超过 {limit} 次：未读取"


def too_large(url: str, max_bytes: int) -> str:
    return f"{url} 超过 {max_bytes:,} 字节：未读取（上限为 [http] max_bytes）"


def http_status(url: str, status: int) -> str:
    return f"{url} 返回 HTTP {status}"


# -- the list walk ------------------------------------------------------------------------------------
def list_unread(detail: str) -> str:
    return f"列表页未能读取：{detail}"


def list_walk_stopped(detail: str) -> str:
    return f"列表页未能读取，本次翻页到此为止（下次同步从这里继续）：{detail}"


def list_gone(url: str) -> str:
    return f"列表页 {url} 返回 HTTP 404：栏目是否已迁移？请检查渠道的 url"


def list_empty(selector: str, url: str, title: str) -> str:
    return (f"列表选择器 `{selector}` 在 {url} 上没有匹配到任何条目（页面标题：{title}）："
            "网站是否改版？请检查 [channel.list] entry，或对该页运行 xxgk probe")


def list_found_by_shape(selector: str, found: str, entries: int) -> str:
    return (f"列表选择器 `{selector}` 没有匹配到任何条目；已按页面结构找到列表 `{found}`"
            f"（{entries} 条）并照此读取：请设置 [channel.list] entry = \"{found}\"，或在渠道页接受识别出的选择器")


# -- finding a list from its URL alone ---------------------------------------------------------------
def chrome_set_aside(shape: str, links: int) -> str:
    return f"`{shape}` 的 {links} 个链接在本站另一页上重复出现（菜单、侧栏或页脚）：不当作列表"


def preset_confirmed(preset: str, entries: int) -> str:
    return f"页面是 {preset} 站点，预设 {preset} 读到了按结构找到的列表（{entries} 条）"


def preset_unconfirmed(cms: str) -> str:
    return f"页面像 {cms} 站点，但预设 {cms} 没有读到主列表：按页面结构读取"


def pager_not_found(pages: int) -> str:
    return f"列表自报共 {pages} 页，但没有找到翻页方式：请设置 [channel.list] next 或 pages"


def page_two_unread(url: str) -> str:
    return f"第 2 页 {url} 上，同样的选择器没有读到条目：请检查 [channel.list] next 或 pages"


def list_changed(before: str, had: int, now: int, found: str, entries: int) -> str:
    return (f"列表的结构变了：上次识别的 `{before}`（{had} 条）现在只读到 {now} 条；"
            f"已按页面结构重新找到列表 `{found}`（{entries} 条）并照此读取，请核对本次同步的文章")


def list_not_found(url: str, title: str) -> str:
    return (f"{url}（页面标题：{title}）上没有找到三条以上带标题的链接列表：这是栏目的列表页吗？"
            "请对该页运行 xxgk probe，或设置 [channel.list] entry")


def not_rechecked(finding: str) -> str:
    return f"{finding}（未重新检查：列表页返回 304 未修改，上次解析的这一发现仍然成立）"


def page_without_entries() -> str:
    return "列表页没有可用的条目，已继续读下一页"


def count_gap_total(total: int, rows: int, pages: int) -> str:
    return (f"列表自报共 {total} 条，翻页只找到 {rows} 条（{pages} 页），少 {total - rows} 条："
            "请检查翻页（list.next / list.pages）和条目选择器")


def count_gap_pages(pages: int, walked: int) -> str:
    return (f"列表自报共 {pages} 页，只读到 {walked} 页，少 {pages - walked} 页："
            "请检查翻页（list.next / list.pages）")


# -- detail pages ---------------------------------------------------------------------------------------
def detail_unread(detail: str) -> str:
    return f"详情页未能读取：{detail}"


def detail_gone() -> str:
    return "详情页返回 HTTP 404（已删除或移动），列表仍链接它"


def detail_waiting(next_at: str) -> str:
    return f"详情页仍未读取（已按列表信息保存）；下次重试时间 {next_at}"


def detail_retried(reason: str, tries: int) -> str:
    return f"{reason}；已按列表信息保存，下次同步重试（第 {tries} 次）"


def detail_given_up(reason: str, tries: int, since: str, days: int) -> str:
    return f"已放弃：自 {since} 起尝试 {tries} 次（超过 {days} 天）：{reason}；该帖子仍按列表信息保存"


# -- a run's summary ------------------------------------------------------------------------------------
def listed(head: str, items: list[str], shown: int) -> str:
    """`head：a；b；……另有 N 条` — the first `shown` items of a list, and how many more."""
    more = len(items) - shown
    return f"{head}：{'；'.join(items[:shown])}" + (f"；……另有 {more} 条" if more > 0 else "")


# A run's summary: heads of its lists, and what ends a run that failed on its own. Format strings,
# filled where the run knows the numbers (`SKIPPED.format(n=…)`).
SKIPPED = "跳过 {n} 条"  # the head of a run's skips: the health reason shows what comes before it
UNDATED = "已保存但没有发布日期（不计入月度统计）{n} 条"
ATTACHMENTS_NOT_KEPT = "附件未保存 {n} 个"
UNEXPECTED = "意外错误（{kind}）：{detail}。已读取的帖子均已保存；如反复出现，请把这条信息报告给维护者"
ATTACHMENTS_NOT_FETCHED = "附件未获取（{kind}: {detail}）：帖子已保存，附件下次同步再取"
STORE_FAILED_AFTER = "{error}；另外，保存失败前已读取的帖子时出错：{detail}"


# -- configuration -----------------------------------------------------------------------------------
# A config problem is one line: where (file, [[channel]] id, key), what is wrong, and what is wanted.
_PYDANTIC = {
    "int_parsing": "应为整数", "int_type": "应为整数", "int_from_float": "应为整数",
    "float_parsing": "应为数字", "float_type": "应为数字",
    "bool_parsing": "应为 true 或 false", "bool_type": "应为 true 或 false",
    "string_type": "应为带引号的文字", "list_type": "应为列表 […]", "tuple_type": "应为列表 […]",
    "dict_type": "应为表 {…} 或 [节]", "model_type": "应为表 {…} 或 [节]",
    "model_attributes_type": "应为表 {…} 或 [节]",
}
_BOUNDS = {"greater_than": "应大于 {gt}", "greater_than_equal": "应不小于 {ge}", "less_than": "应小于 {lt}",
           "less_than_equal": "应不大于 {le}", "string_too_short": "至少 {min_length} 个字符",
           "string_too_long": "至多 {max_length} 个字符", "too_short": "至少 {min_length} 项",
           "too_long": "至多 {max_length} 项"}

_PATTERNS = {"^[a-z0-9][a-z0-9-]*$": "只能用小写字母、数字和连字符（-），并以字母或数字开头"}


def config_value(err: Mapping[str, Any]) -> str:
    """One pydantic validation error as the office reads it: what is wanted, what was given, and the
    validator's own words after 「（」 when there are no Chinese ones."""
    kind, given = err["type"], err.get("input")
    if kind == "value_error":  # our validators' messages, already worded below
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        return f"应为以下之一：{err.get('ctx', {}).get('expected', '')}，实际为 {given!r}"
    if kind in _BOUNDS:
        return f"{_BOUNDS[kind].format(**err.get('ctx', {}))}，实际为 {given!r}"
    if kind == "string_pattern_mismatch":
        pattern = err.get("ctx", {}).get("pattern", "")
        wanted = _PATTERNS.get(pattern, f"应符合 {pattern}")
        return f"格式不对：{wanted}，实际为 {given!r}"
    if kind in _PYDANTIC:
        return f"{_PYDANTIC[kind]}，实际为 {given!r}"
    return f"取值不对：{given!r}（{err['msg']}）"


def unknown_key(key: str, close: str | None, names: list[str]) -> str:
    hint = f"——是不是 `{close}`？" if close else ""
    return f"未知的键 `{key}`{hint}（可用的键：{', '.join(names)}）"


def missing_key(key: str, why: str = "") -> str:
    return f"缺少必填的键 `{key}`{why}"


def key_problem(key: str, problem: str) -> str:
    return f"键 `{key}`：{problem}" if key else problem


def not_a_url(given: object) -> str:
    return f"应为 http:// 或 https:// 开头的网址，实际为 {given!r}"


def not_a_selector(given: object, detail: object) -> str:
    return f"应为 CSS 选择器（可带 `@属性`），实际为 {given!r}：{detail}"


def not_a_cron(given: str, detail: object) -> str:
    return f'应为五段式 cron 表达式，如 "*/30 * * * *"（每 30 分钟），实际为 {given!r}（{detail}）'
