"""The 清单 model an office's store uses, refitting it on the office's corrections, and the
rules those corrections imply.

Every manual tag (`xxgk tag`, the web's re-tag form) is a labelled example. `retrain`
fits the title model on the shipped labelled sets plus those tags and keeps it in the
store, where every process (sync, service, web) finds it; `suggest` turns corrections the
rules got wrong into rule proposals (a title ending and the item) for a person to accept
into the office's rules file.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aggregator.qingdan.classify import Classifier, strip_qualifiers
from aggregator.qingdan.model import (
    OFFICE_WEIGHT,
    TitleModel,
    digest,
    fit,
    fold_digits,
    norm,
    shipped_examples,
    shipped_model,
)
from storage.store import Store

if TYPE_CHECKING:
    from aggregator.config import Config

_cache_lock = threading.Lock()
_cached: dict[tuple[str, int], TitleModel] = {}


def model_for(store: Store) -> TitleModel:
    """The newest model refitted for this store, else the shipped one."""
    model_id = store.models.latest_id()
    if model_id is None:
        return shipped_model()
    key = (str(store.engine.url), model_id)
    with _cache_lock:
        if key not in _cached:
            _cached.clear()
            _cached[key] = TitleModel.from_bytes(store.models.blob(model_id))
        return _cached[key]


# (config, model, classifier) by their ids; holding the config and the model keeps their ids theirs.
_classifiers: dict[tuple[int, int], tuple[Config, TitleModel, Classifier]] = {}


def classifier_of(config: Config, store: Store) -> Classifier:
    """The built-in and office rules with this store's model — built once per config and model in a
    process (the scheduler syncs one channel at a time, and each asked for it afresh)."""
    from aggregator.config import classifier_for

    model = model_for(store)
    key = (id(config), id(model))
    with _cache_lock:
        found = _classifiers.get(key)
    if found is not None and found[0] is config and found[1] is model:
        return found[2]
    built = classifier_for(config, model)
    with _cache_lock:
        if len(_classifiers) >= 8:
            _classifiers.clear()
        _classifiers[key] = (config, model, built)
    return built


@dataclass(slots=True)
class Retrained:
    model_id: int
    examples: int
    office_examples: int
    digest: str


def _training_set(store: Store) -> tuple[list[tuple[str, int]], list[float], int, str]:
    office = [(title, item or 0) for title, item, _ in store.posts.manual_tags() if title.strip()]
    examples = list(shipped_examples()) + office
    weights = [1.0] * (len(examples) - len(office)) + [OFFICE_WEIGHT] * len(office)
    return examples, weights, len(office), digest(examples, weights)


def retrain_if_changed(store: Store) -> Retrained | None:
    """Retrain when the office's tags changed since the store's newest model (the service
    runs this nightly); None when there is nothing new to learn."""
    examples, weights, office, key = _training_set(store)
    model_id = store.models.latest_id()
    if model_id is None and office == 0:
        return None
    if model_id is not None and store.models.digest(model_id) == key:
        return None
    return _fit_and_keep(store, examples, weights, office, key)


def retrain(store: Store) -> Retrained:
    """Refit on the shipped sets plus every manual tag (each counting `OFFICE_WEIGHT` times)."""
    return _fit_and_keep(store, *_training_set(store))


def _fit_and_keep(store: Store, examples: list[tuple[str, int]], weights: list[float], office: int,
                  key: str) -> Retrained:
    model = fit(examples, weights, meta={"digest": key, "office_examples": office})
    model_id = store.models.save(model.to_bytes(), examples=len(examples), office_examples=office, digest=key)
    return Retrained(model_id, len(examples), office, key)


@dataclass(slots=True)
class Suggestion:
    item: int | None
    ending: str
    titles: list[str]  # the office's corrections of this form

    def toml(self) -> str:
        item = self.item or 0
        label = f"第{item}项" if item else "非清单"
        return (f'[[rule]]\nname = "办公室标注·{label}·以“{self.ending}”结尾"\nitem = {item}\n'
                f'ends = ["{self.ending}"]\npriority = 70\n')


def _form(title: str) -> str:
    return fold_digits(strip_qualifiers(norm(title)))


def suggest(config: Config, store: Store, *, min_titles: int = 2, min_len: int = 4,
            max_len: int = 16) -> list[Suggestion]:
    """Rules the office's corrections imply: among manual tags the rules alone answer
    differently, the title ending (`min_len`–`max_len` characters, no digits) shared by the
    most corrections to one item — the longest such ending — that no other manual tag and
    no shipped example with another item has; then the next, for the corrections left."""
    from aggregator.config import classifier_for

    rules = classifier_for(config, None)
    tags = store.posts.manual_tags()
    corrected: dict[int | None, list[str]] = defaultdict(list)
    for title, item, column in tags:
        if rules.classify(title, column, explain=False).item != item:
            corrected[item].append(title)
    labelled = [(_form(t), item) for t, item, _ in tags] + [(_form(t), item or None) for t, item in shipped_examples()]
    out: list[Suggestion] = []
    for item, titles in corrected.items():
        forms = [_form(t) for t in titles]
        left = set(range(len(forms)))
        while len(left) >= min_titles:
            groups: dict[str, set[int]] = defaultdict(set)
            for i in left:
                f = forms[i]
                for n in range(min_len, min(max_len, len(f)) + 1):
                    if "0" not in f[-n:]:
                        groups[f[-n:]].add(i)
            ranked = sorted(((len(m), len(e), e) for e, m in groups.items()
                             if len(m) >= min_titles and not any(o != item and f.endswith(e) for f, o in labelled)),
                            reverse=True)
            if not ranked:
                break
            ending = ranked[0][2]
            members = sorted(groups[ending])
            left -= set(members)
            out.append(Suggestion(item, ending, [titles[i] for i in members]))
    return sorted(out, key=lambda s: (-len(s.titles), s.item or 0, s.ending))
