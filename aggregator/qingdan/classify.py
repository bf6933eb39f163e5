"""Tag a post with the 清单 item it discloses — by rules kept as data.

The rules (`aggregator/qingdan/data/rules.toml`, extendable from `config.toml`) look
at the title first, then the source column, then the body's first lines; a
channel's `item = N` overrides them all. Every answer says which rule gave
it, the words that matched and the score, so an office can see — and fix —
why a post landed where it did.

Speed: each rule's words are indexed by their first two characters, so a
title only checks the rules whose words could occur in it (100k titles in
well under 2 s).
"""

from __future__ import annotations

import operator
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aggregator.qingdan import category_of

# Pairs of characters in most titles ("东湖科技大学关于…的通知"): never good index keys.
_COMMON_PAIRS = ["大学", "学院", "学校", "关于", "通知", "公告", "公示", "工作", "年度", "管理", "办法", "规定", "实施",
                 "我校", "举办", "举行", "召开", "开展", "20", "02", "年本", "中国", "湖北", "科技", "技大"]
_WHERE_WEIGHT = {"title": 1.0, "column": 0.9, "body": 0.8}
BODY_CHARS = 120
# News bodies mention 领导班子, 施工, 招生… in passing: from the body only the most
# specific rules (信息公开年度报告, 决算, 巡视, 学术不端, …) may decide.
BODY_MIN_PRIORITY = 80


class RuleSpec(BaseModel):
    """One rule as written in a rules file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    item: int = Field(ge=0, le=50)  # 0 = not a 清单 post
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    ends: tuple[str, ...] = ()
    priority: float = 50


class RulesError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Classification:
    item: int | None
    category: int | None
    rule: str
    score: float
    matched: tuple[str, ...] = ()
    where: str = "title"  # title | column | body | channel | manual | none

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item, "category": self.category, "rule": self.rule, "score": round(self.score, 2)}


NO_MATCH = Classification(None, None, "no rule matched", 0.0, (), "none")


def norm(text: str) -> str:
    """NFKC (full-width → half-width), no spaces: rules and titles compare alike."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _strip_qualifiers(text: str) -> str:
    """`…名单（第一批）` → `…名单`: endings are read without trailing 括注."""
    while text and text[-1] in ")]】":
        depth, i = 0, len(text) - 1
        while i >= 0:
            if text[i] in ")]】":
                depth += 1
            elif text[i] in "([【":
                depth -= 1
                if depth == 0:
                    break
            i -= 1
        if i <= 0:
            break
        text = text[:i]
    return text


@dataclass(slots=True)
class _Rule:
    spec: RuleSpec
    any: tuple[str, ...]
    all: tuple[str, ...]
    none: tuple[str, ...]
    ends: tuple[str, ...]
    keys: set[str] = field(default_factory=set)  # first two characters of every word


class Classifier:
    def __init__(self, specs: Sequence[RuleSpec]) -> None:
        self.rules: list[_Rule] = []
        self._index: dict[str, list[int]] = {}
        def words(ws: Sequence[str]) -> tuple[str, ...]:
            return tuple(norm(w) for w in ws)

        rules = [_Rule(spec, words(spec.any), words(spec.all), words(spec.none), words(spec.ends)) for spec in specs]
        # Index each word under its least common pair of characters: a title then
        # wakes only the few rules whose words could be in it (not every rule
        # with a word starting 大学…).
        common: Counter[str] = Counter(_COMMON_PAIRS * 5)
        for r in rules:
            for word in (*r.any, *r.all, *r.ends):
                if len(word) < 2:
                    raise RulesError(f"rule {r.spec.name!r}: word {word!r} is shorter than two characters")
                common.update({word[i : i + 2] for i in range(len(word) - 1)})

        def key(word: str) -> str:
            return min((word[i : i + 2] for i in range(len(word) - 1)), key=lambda pair: common[pair])

        for r in rules:
            spec = r.spec
            r.keys.update(key(w) for w in (*r.any, *r.ends))
            if r.all and not r.any and not r.ends:
                r.keys.add(min((key(w) for w in r.all), key=lambda pair: common[pair]))
            if not r.keys:
                raise RulesError(f"rule {spec.name!r}: needs at least one of any / all / ends")
            idx = len(self.rules)
            self.rules.append(r)
            for k in r.keys:
                self._index.setdefault(k, []).append(idx)

    def _match(self, text: str, where: str, min_priority: float = 0) -> Classification | None:
        t = norm(text)
        if len(t) < 2:
            return None
        stem = _strip_qualifiers(t)
        candidates: set[int] = set()
        # Every pair of adjacent characters, looked up in C (map) rather than a Python loop.
        for hit in map(self._index.get, map(operator.add, t, t[1:])):
            if hit:
                candidates.update(hit)
        if not candidates:
            return None
        best: Classification | None = None
        best_key: tuple[float, int] = (-1.0, 0)
        for idx in candidates:
            r = self.rules[idx]
            if r.spec.priority < min_priority:
                continue
            matched: list[str] = []
            if r.any:
                found = [w for w in r.any if w in t]
                if not found:
                    continue
                matched += found
            if r.all:
                if not all(w in t for w in r.all):
                    continue
                matched += r.all
            if r.ends:
                end = next((w for w in r.ends if stem.endswith(w)), None)
                if end is None:
                    continue
                matched.append(end)
            if r.none and any(w in t for w in r.none):
                continue
            longest = max(len(w) for w in matched)
            score = (r.spec.priority + min(longest, 10) / 10) * _WHERE_WEIGHT[where]
            key = (score, longest)
            if key > best_key:
                best_key = key
                item = r.spec.item or None
                best = Classification(item, category_of(item), r.spec.name, score, tuple(matched), where)
        return best

    def classify(self, title: str, column: str | None = None, body: str | None = None,
                 channel_item: int | None = None) -> Classification:
        """The item of a post: channel override, else title, else column, else body's opening."""
        if channel_item is not None:
            return Classification(channel_item, category_of(channel_item), "channel item", 100.0, (), "channel")
        for text, where in ((title, "title"), (column, "column"), ((body or "")[:BODY_CHARS], "body")):
            if text:
                found = self._match(text, where, BODY_MIN_PRIORITY if where == "body" else 0)
                if found is not None:
                    return found
        return NO_MATCH


def parse_rules(text: str, source: str) -> list[RuleSpec]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{source}: not valid TOML: {exc}") from None
    return validate_rules(raw.get("rule", []), source)


def validate_rules(raw: Iterable[dict[str, Any]], source: str) -> list[RuleSpec]:
    specs, problems = [], []
    for i, entry in enumerate(raw, 1):
        try:
            specs.append(RuleSpec.model_validate(entry))
        except ValidationError as exc:
            name = entry.get("name", f"#{i}") if isinstance(entry, dict) else f"#{i}"
            for err in exc.errors():
                key = ".".join(str(p) for p in err["loc"])
                problems.append(f"{source}: rule {name!r}: key `{key}`: {err['msg']}")
    if problems:
        raise RulesError("\n".join(problems))
    return specs


@cache
def builtin_rules() -> tuple[RuleSpec, ...]:
    text = files("aggregator.qingdan").joinpath("data/rules.toml").read_text(encoding="utf-8")
    return tuple(parse_rules(text, "aggregator/qingdan/data/rules.toml"))


def merge_rules(base: Sequence[RuleSpec], extra: Sequence[RuleSpec]) -> list[RuleSpec]:
    """The office's rules are added; one with a built-in rule's name replaces it."""
    names = {r.name for r in extra}
    return [r for r in base if r.name not in names] + list(extra)


def load_classifier(extra_files: Sequence[Path] = (), inline: Sequence[dict[str, Any]] = ()) -> Classifier:
    extra: list[RuleSpec] = []
    for path in extra_files:
        extra += parse_rules(path.read_text(encoding="utf-8"), str(path))
    extra += validate_rules(inline, "config.toml [[rules.rule]]")
    return Classifier(merge_rules(builtin_rules(), extra))


@cache
def default_classifier() -> Classifier:
    return Classifier(builtin_rules())
