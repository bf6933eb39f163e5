"""The compliance rules as data: the shipped `data/rules.toml`, and an office's own file over it
(a rule with a shipped id replaces it, a new id is added)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

KINDS = ("annual", "within", "posting")
UNITS = ("workdays", "days")
BASES = ("document", "contract", "result", "approval")


class RuleError(ValueError):
    """A rule file the office wrote wrong (the message names the file, the rule and the key)."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    kind: str  # annual | within | posting
    source: str
    days: int = 0
    unit: str = "workdays"
    items: tuple[int, ...] = ()
    all_items: bool = False
    types: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    basis: str | None = None  # within: document | contract | result | approval
    labels: tuple[str, ...] = ()  # posting: the labels its period follows (default: 公示期, 公示时间, …)
    due: str | None = None  # annual: MM-DD after the academic year
    confirmed: bool = False  # the source's article was checked against its text

    def governs(self, title: str, item: int | None, kind: str | None) -> bool:
        """Whether a post (its title, 清单 item, procurement type) falls under the rule: any of
        `all_items`, `items`, `types`, `titles` takes it in, any word of `none` leaves it out."""
        if any(word in title for word in self.none):
            return False
        return ((self.all_items and item is not None) or (item is not None and item in self.items)
                or (kind is not None and kind in self.types) or any(word in title for word in self.titles))


_KEYS = {"id", "kind", "source", "days", "unit", "items", "all_items", "types", "titles", "none", "basis", "labels",
         "due", "confirmed"}


def _rule(raw: dict[str, Any], where: str) -> Rule:
    unknown = set(raw) - _KEYS
    rid = raw.get("id")
    label = f"{where}: [[rule]] id={rid!r}"
    if unknown:
        raise RuleError(f"{label}: unknown key {', '.join(sorted(unknown))} "
                        f"(expected one of {', '.join(sorted(_KEYS))})")
    if not isinstance(rid, str) or not rid:
        raise RuleError(f"{label}: every rule needs an id")
    if raw.get("kind") not in KINDS:
        raise RuleError(f"{label}: kind must be one of {', '.join(KINDS)}")
    if raw.get("unit", "workdays") not in UNITS:
        raise RuleError(f"{label}: unit must be workdays or days")
    if raw["kind"] == "within" and raw.get("basis") not in BASES:
        raise RuleError(f"{label}: a within rule needs basis = one of {', '.join(BASES)}")
    if raw["kind"] == "annual" and not (isinstance(raw.get("due"), str) and len(raw["due"].split("-")) == 2):
        raise RuleError(f"{label}: an annual rule needs due = \"MM-DD\"")
    if raw["kind"] != "annual" and not (isinstance(raw.get("days"), int) and raw["days"] > 0):
        raise RuleError(f"{label}: days must be a whole number above 0")
    if not raw.get("source"):
        raise RuleError(f"{label}: say where the rule comes from (source = \"…\")")
    try:
        return Rule(
            id=rid, kind=raw["kind"], source=str(raw["source"]), days=int(raw.get("days", 0)),
            unit=raw.get("unit", "workdays"), items=tuple(int(i) for i in raw.get("items", ())),
            all_items=bool(raw.get("all_items", False)), types=tuple(raw.get("types", ())),
            titles=tuple(raw.get("titles", ())), none=tuple(raw.get("none", ())), basis=raw.get("basis"),
            labels=tuple(raw.get("labels", ())), due=raw.get("due"), confirmed=bool(raw.get("confirmed", False)))
    except (TypeError, ValueError) as exc:
        raise RuleError(f"{label}: {exc}") from None


def _read(text: str, where: str) -> list[Rule]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{where}: not valid TOML ({exc})") from None
    return [_rule(raw, where) for raw in data.get("rule", [])]


def load_rules(extra: Path | None = None) -> list[Rule]:
    """The shipped rules, with the office's file (if any) over them, in file order."""
    shipped = _read(files("aggregator.compliance").joinpath("data/rules.toml").read_text(encoding="utf-8"),
                    "shipped")
    rules = {r.id: r for r in shipped}
    if extra is not None:
        try:
            text = extra.read_text(encoding="utf-8")
        except OSError as exc:
            raise RuleError(f"{extra}: cannot read the compliance rules file ({exc.strerror})") from None
        for rule in _read(text, str(extra)):
            rules[rule.id] = rule
    return list(rules.values())
