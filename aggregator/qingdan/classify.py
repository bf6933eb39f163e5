"""Tag a post with the 清单 item it discloses — by rules kept as data, with a learned second opinion.

The rules (`aggregator/qingdan/data/rules.toml`, extendable from `config.toml`) look
at the title first, then the source column, then the body's first lines; a
channel's `item = N` overrides them all. The rules recognise the *form* of a title
(…招生章程, …拟录取名单公示, 我校召开…) and carry a priority.

The learned model (`aggregator.qingdan.model`, character n-grams) is asked about the
title too, and decides in three cases only:
- no rule matched the title, column or body, and the model is confident (p ≥ `ANSWER_P`);
- a low-priority rule (a fallback such as "…办法 → 规章制度") matched and the model is
  confident of another answer (p ≥ `OVERRIDE_P`);
- a rule below `VETO_BELOW` gave an item and the model is sure the title is news,
  not a disclosure (p ≥ `VETO_P`).
When neither rules nor model are confident, the post is *untagged, needs review*
(`where = "review"`) rather than guessed. Every answer says which part decided, the
words or n-grams that carried it and the score, so an office can see — and fix —
why a post landed where it did. The thresholds were chosen on the shipped dev set.

Speed: each rule's words are indexed by their first two characters, so a
title only checks the rules whose words could occur in it (100k titles in
well under 2 s).
"""

from __future__ import annotations

import operator
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aggregator.qingdan import category_of
from aggregator.qingdan.model import Opinion, TitleModel, norm, shipped_model
from connectors.messages import config_value, key_problem

# Pairs of characters in most titles ("某某大学关于…的通知"): never good index keys. Words of the
# 清单's own vocabulary only — nothing that names a school or a province.
_COMMON_PAIRS = ["大学", "学院", "学校", "关于", "通知", "公告", "公示", "工作", "年度", "管理", "办法", "规定", "实施",
                 "我校", "举办", "举行", "召开", "开展", "20", "02", "年本", "中国"]
_WHERE_WEIGHT = {"title": 1.0, "column": 0.9, "body": 0.8}
BODY_CHARS = 120
# News bodies mention 领导班子, 施工, 招生… in passing: from the body only the most
# specific rules (信息公开年度报告, 决算, 巡视, 学术不端, …) may decide.
BODY_MIN_PRIORITY = 80
# When the learned model speaks (see the module docstring).
ANSWER_P = 0.35
OVERRIDE_P = 0.6
OVERRIDE_BELOW = 60
VETO_P = 0.8
VETO_BELOW = 70


class RuleSpec(BaseModel):
    """One rule as written in a rules file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    item: int = Field(ge=0, le=50)  # 0 = not a 清单 post
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    ends: tuple[str, ...] = ()
    starts: tuple[str, ...] = ()
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
    where: str = "title"  # title | column | body | channel | manual | model | review | none
    priority: float = 0  # of the rule that decided

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item, "category": self.category, "rule": self.rule, "score": round(self.score, 2)}


NO_MATCH = Classification(None, None, "no rule matched", 0.0, (), "none")


def source_of(c: Classification) -> str:
    """What a stored post's `item_source` says decided: channel | rule | model | review."""
    return {"channel": "channel", "model": "model", "review": "review"}.get(c.where, "rule")


def strip_qualifiers(text: str) -> str:
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
    starts: tuple[str, ...]
    keys: set[str] = field(default_factory=set)  # first two characters of every word


class Classifier:
    def __init__(self, specs: Sequence[RuleSpec], model: TitleModel | None = None) -> None:
        self.model = model
        self.rules: list[_Rule] = []
        self._index: dict[str, list[int]] = {}
        def words(ws: Sequence[str]) -> tuple[str, ...]:
            return tuple(norm(w) for w in ws)

        # Highest priority first: a title's candidates, taken in index order, can stop at the first
        # rule whose best possible score cannot beat the answer found so far.
        ordered = sorted(specs, key=lambda spec: -spec.priority)
        rules = [_Rule(spec, words(spec.any), words(spec.all), words(spec.none), words(spec.ends), words(spec.starts))
                 for spec in ordered]
        # Index each word under its least common pair of characters: a title then
        # wakes only the few rules whose words could be in it (not every rule
        # with a word starting 大学…).
        common: Counter[str] = Counter(_COMMON_PAIRS * 5)
        for r in rules:
            for word in (*r.any, *r.all, *r.ends, *r.starts):
                if len(word) < 2:
                    raise RulesError(f"rule {r.spec.name!r}: word {word!r} is shorter than two characters")
                common.update({word[i : i + 2] for i in range(len(word) - 1)})

        def key(word: str) -> str:
            return min((word[i : i + 2] for i in range(len(word) - 1)), key=lambda pair: common[pair])

        for r in rules:
            spec = r.spec
            r.keys.update(key(w) for w in (*r.any, *r.ends, *r.starts))
            if r.all and not r.any and not r.ends and not r.starts:
                r.keys.add(min((key(w) for w in r.all), key=lambda pair: common[pair]))
            if not r.keys:
                raise RulesError(f"rule {spec.name!r}: needs at least one of any / all / ends / starts")
            idx = len(self.rules)
            self.rules.append(r)
            for k in r.keys:
                self._index.setdefault(k, []).append(idx)

    def _match(self, text: str, where: str, min_priority: float = 0, *, normed: bool = False) -> Classification | None:
        t = text if normed else norm(text)
        if len(t) < 2:
            return None
        stem: str | None = None
        weight = _WHERE_WEIGHT[where]
        candidates: set[int] = set()
        # Every pair of adjacent characters, looked up in C (map) rather than a Python loop.
        for hit in map(self._index.get, map(operator.add, t, t[1:])):
            if hit:
                candidates.update(hit)
        if not candidates:
            return None
        best: Classification | None = None
        best_key: tuple[float, int] = (-1.0, 0)
        for idx in sorted(candidates):
            r = self.rules[idx]
            if r.spec.priority < min_priority or (r.spec.priority + 1) * weight < best_key[0]:
                break  # this rule and every later one score lower than the answer found
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
                stem = strip_qualifiers(t) if stem is None else stem
                end = next((w for w in r.ends if stem.endswith(w)), None)
                if end is None:
                    continue
                matched.append(end)
            if r.starts:
                start = next((w for w in r.starts if t.startswith(w)), None)
                if start is None:
                    continue
                matched.append(start)
            if r.none and any(w in t for w in r.none):
                continue
            longest = max(len(w) for w in matched)
            score = (r.spec.priority + min(longest, 10) / 10) * weight
            key = (score, longest)
            if key > best_key:
                best_key = key
                item = r.spec.item or None
                best = Classification(item, category_of(item), r.spec.name, score, tuple(matched), where,
                                      r.spec.priority)
        return best

    def classify(self, title: str, column: str | None = None, body: str | None = None,
                 channel_item: int | None = None, *, explain: bool = True) -> Classification:
        """The item of a post: channel override, else title, else column, else body's opening.
        `explain=False` (a sync) leaves out the model's evidence, which only a reader needs."""
        if channel_item is not None:
            return Classification(channel_item, category_of(channel_item), "channel item", 100.0, (), "channel")
        t = norm(title) if title else ""
        rule = self._match(t, "title", normed=True) if t else None
        opinion = self.model.opinion(t, normed=True) if self.model is not None and t and asks_model(rule) else None
        return self._decide(rule, opinion, column, body, explain)

    def classify_many(self, titles: Sequence[str]) -> list[Classification]:
        """`classify(title)` for many titles, the model asked once for all that need it."""
        normed = [norm(t) for t in titles]
        rules = [self._match(t, "title", normed=True) if t else None for t in normed]
        ask = [i for i, r in enumerate(rules) if normed[i] and asks_model(r)] if self.model is not None else []
        opinions: list[Opinion | None] = [None] * len(titles)
        if ask and self.model is not None:
            for i, o in zip(ask, self.model.opinions([normed[i] for i in ask], normed=True), strict=True):
                opinions[i] = o
        return [self._decide(r, o, None, None) for r, o in zip(rules, opinions, strict=True)]

    def _decide(self, rule: Classification | None, opinion: Opinion | None, column: str | None,
                body: str | None, explain: bool = True) -> Classification:
        if rule is not None:
            decided = second_opinion(rule, opinion, self.model, explain) if opinion is not None else None
            return decided or rule
        for text, where in ((column, "column"), ((body or "")[:BODY_CHARS], "body")):
            if text:
                found = self._match(text, where, BODY_MIN_PRIORITY if where == "body" else 0)
                if found is not None:
                    return found
        if opinion is None or self.model is None:
            return NO_MATCH
        decided = second_opinion(None, opinion, self.model, explain)
        if decided is not None:
            return decided
        return Classification(None, None, f"待复核：没有规则匹配，学习模型把握不足（{_said(opinion)}）",
                              opinion.p * 100, self.model.evidence(opinion) if explain else (), "review")


def asks_model(rule: Classification | None) -> bool:
    """Could the model change this title rule's answer? Not when a confident rule decided."""
    if rule is None:
        return True
    return rule.priority < OVERRIDE_BELOW or (rule.item is not None and rule.priority < VETO_BELOW)


def _said(o: Opinion) -> str:
    what = f"第 {o.item} 项" if o.item else "不属于清单"
    return f"模型倾向{what}，概率 {o.p:.2f}"


def second_opinion(rule: Classification | None, o: Opinion, title_model: TitleModel | None,
                   explain: bool = True) -> Classification | None:
    """The title rule's answer, or the model's where the module docstring says it decides;
    None when there is no title rule and the model is not confident."""
    item = o.item or None

    def model(why: str) -> Classification:
        evidence = title_model.evidence(o) if title_model is not None and explain else ()
        return Classification(item, category_of(item), why, o.p * 100, evidence, "model")

    if rule is None:
        return model(f"学习模型（没有规则匹配；{_said(o)}）") if o.p >= ANSWER_P else None
    if rule.item is not None and o.item == 0 and o.p >= VETO_P and rule.priority < VETO_BELOW:
        return model(f"学习模型否决规则「{rule.rule}」：像新闻而非公开事项（概率 {o.p:.2f}）")
    if rule.priority < OVERRIDE_BELOW and item != rule.item and o.p >= OVERRIDE_P:
        return model(f"学习模型取代兜底规则「{rule.rule}」（{_said(o)}）")
    return rule


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
                problems.append(f"{source}: 规则 {name!r}: {key_problem(key, config_value(err))}")
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


def load_classifier(extra_files: Sequence[Path] = (), inline: Sequence[dict[str, Any]] = (),
                    model: TitleModel | None = None) -> Classifier:
    extra: list[RuleSpec] = []
    for path in extra_files:
        extra += parse_rules(path.read_text(encoding="utf-8"), str(path))
    extra += validate_rules(inline, "config.toml [[rules.rule]]")
    return Classifier(merge_rules(builtin_rules(), extra), model)


@cache
def default_classifier() -> Classifier:
    """The built-in rules with the shipped model."""
    return Classifier(builtin_rules(), shipped_model())


@cache
def rules_only() -> Classifier:
    return Classifier(builtin_rules())
