"""The learned second opinion: which 清单 item a title's characters point to.

A linear model (multinomial logistic regression, fitted by scikit-learn) over the
title's character 1–3-grams. It is trained on the labelled titles shipped in the
package (`data/qingdan_dev.csv`, `data/qingdan_real_dev.csv` — real titles from many
universities) and, after `xxgk classify retrain`, on the office's own manual tags.
Nothing is downloaded: the shipped model is fitted from those files on first use
(about a second) and kept as `data/model.npz` — or, where the package is not writable,
in the user's cache folder — keyed by a digest of the training data, so
`xxgk classify train` rebuilds exactly the same model.

Prediction needs only numpy: a title's n-grams index rows of the weight matrix. The
model says 0 for "not a 清单 post"; `Opinion.p` is its probability.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

SHIPPED_SETS = ("data/qingdan_dev.csv", "data/qingdan_real_dev.csv")
# The office's corrections count more than one shipped example: 20 of them must move the
# model for their form, against hundreds of shipped titles.
OFFICE_WEIGHT = 3.0
# Regularisation: C = 30 was the best of 3/10/30 on the shipped dev set (not the real set).
C = 30.0
FORMAT = 2

_DIGITS = re.compile(r"\d+")


def norm(text: str) -> str:
    """NFKC (full-width → half-width), no spaces: rules, model and titles compare alike."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def fold_digits(text: str) -> str:
    """`2025年` and `2024年` are one form: every run of digits becomes `0`."""
    return _DIGITS.sub("0", text)


def _folded_with_places(text: str) -> tuple[str, list[tuple[int, int]]]:
    """`fold_digits(text)` and, for each of its characters, the stretch of `text` it stands for."""
    out, places, last = [], [], 0
    for m in _DIGITS.finditer(text):
        for i in range(last, m.start()):
            out.append(text[i])
            places.append((i, i + 1))
        out.append("0")
        places.append((m.start(), m.end()))
        last = m.end()
    for i in range(last, len(text)):
        out.append(text[i])
        places.append((i, i + 1))
    return "".join(out), places


def marked_stretches(text: str, grams: Sequence[tuple[str, float]]) -> tuple[str, ...]:
    """The stretches of `text` that the weighted n-grams `grams` (digits folded) cover, merged where
    they touch, strongest first."""
    folded, places = _folded_with_places(text)
    weight = [0.0] * len(text)
    for gram, w in grams:
        at = folded.find(gram)
        while at >= 0:
            for start, end in places[at : at + len(gram)]:
                for i in range(start, end):
                    weight[i] = max(weight[i], w)
            at = folded.find(gram, at + 1)
    runs: list[tuple[float, int, int]] = []
    i = 0
    while i < len(text):
        if weight[i] <= 0:
            i += 1
            continue
        j = i
        while j < len(text) and weight[j] > 0:
            j += 1
        runs.append((max(weight[i:j]), i, j))
        i = j
    return tuple(text[a:b] for _, a, b in sorted(runs, key=lambda r: -r[0]))


def features(title: str) -> list[str]:
    """The title's character 1–3-grams (a repeated one counts again), digits folded, ^ and $ its ends.

    >>> features("2024年预算")[:4]
    ['^', '0', '年', '预']
    """
    return normed_features(norm(title))


def normed_features(text: str) -> list[str]:
    """`features` of a title already NFKC-normalised with spaces removed (the rules' `norm`)."""
    t = "^" + fold_digits(text) + "$"
    pairs = list(map(str.__add__, t, t[1:]))
    return [*t, *pairs, *map(str.__add__, pairs, t[2:])]


@dataclass(frozen=True, slots=True)
class Opinion:
    item: int  # 0 = not a 清单 post
    p: float
    rows: list[int]  # the title's known n-grams (rows of the weights)
    text: str = ""  # the title as the model read it (normalised), to show the evidence in its own words


@dataclass(slots=True)
class TitleModel:
    vocab: dict[str, int]
    classes: np.ndarray  # items, 0 first
    weights: np.ndarray  # features × classes, float32
    intercept: np.ndarray
    meta: dict[str, Any]
    _names: list[str] = field(init=False, repr=False)
    _shown: np.ndarray = field(init=False, repr=False)  # n-grams worth showing a reader as evidence

    def __post_init__(self) -> None:
        self._names = sorted(self.vocab, key=self.vocab.__getitem__)
        # single characters and the ^ $ ends say little to a reader
        self._shown = np.array([len(g) > 1 and "^" not in g and "$" not in g for g in self._names], dtype=bool)

    def _rows(self, normed: str) -> list[int]:
        return [i for i in map(self.vocab.get, normed_features(normed)) if i is not None]

    def opinion(self, title: str, *, normed: bool = False) -> Opinion:
        """What the model says of a title (`normed`: already passed through the rules' `norm`)."""
        text = title if normed else norm(title)
        rows = self._rows(text)
        logits = self.intercept.copy()
        if rows:
            logits += self.weights[rows].sum(axis=0) / np.sqrt(len(rows))
        k = int(logits.argmax())
        return Opinion(int(self.classes[k]), round(float(1 / np.exp(logits - logits[k]).sum()), 4), rows, text)

    def opinions(self, titles: Sequence[str], *, normed: bool = False) -> list[Opinion]:
        """Many titles at once: one sparse product instead of a loop of small ones."""
        from scipy import sparse

        texts = [title if normed else norm(title) for title in titles]
        rows = [self._rows(text) for text in texts]
        counts = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        indptr = np.concatenate([[0], np.cumsum(counts)])
        indices = np.fromiter(chain.from_iterable(rows), dtype=np.int32, count=int(indptr[-1]))
        data = np.repeat(1 / np.sqrt(np.maximum(counts, 1)), counts)
        x = sparse.csr_matrix((data, indices, indptr), shape=(len(titles), len(self.vocab)))
        logits = np.asarray(x @ self.weights) + self.intercept
        best = logits.argmax(axis=1)
        logits -= logits[np.arange(len(titles)), best][:, None]
        p = (1 / np.exp(logits).sum(axis=1)).round(4).tolist()
        items = self.classes[best].tolist()
        return [Opinion(k, q, r, s) for k, q, r, s in zip(items, p, rows, texts, strict=True)]

    def evidence(self, o: Opinion) -> tuple[str, ...]:
        """Where in the title the model's answer comes from, in the title's own words: the (at most
        five) n-grams that pull hardest towards the answer, marked on the title and merged into the
        (at most three) stretches they cover, strongest first — `2025届毕业` rather than `0届、届毕`."""
        rows = np.unique(np.asarray(o.rows, dtype=np.int64))
        rows = rows[self._shown[rows]]
        if not rows.size:
            return ()
        pull = self.weights[rows, int(np.flatnonzero(self.classes == o.item)[0])]
        order = np.argsort(-pull, kind="stable")[:5]
        strongest = [(self._names[rows[i]], float(pull[i])) for i in order if pull[i] > 0]
        if not o.text:
            return tuple(g for g, _ in strongest[:3])
        return marked_stretches(o.text, strongest)[:3]

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        np.savez_compressed(out, vocab=np.array(self._names), classes=self.classes, weights=self.weights,
                            intercept=self.intercept, meta=np.array(json.dumps(self.meta, ensure_ascii=False)))
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TitleModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            vocab = {g: i for i, g in enumerate(z["vocab"].tolist())}
            return cls(vocab, z["classes"], z["weights"], z["intercept"], json.loads(str(z["meta"])))


def fit(examples: Sequence[tuple[str, int]], weights: Sequence[float] | None = None,
        meta: dict[str, Any] | None = None) -> TitleModel:
    """Fit the model on `(title, item)` pairs (item 0 = not a 清单 post)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for r, (title, _) in enumerate(examples):
        grams = features(title)
        for g in grams:  # a repeated n-gram is summed by the sparse matrix
            rows.append(r)
            cols.append(vocab.setdefault(g, len(vocab)))
            vals.append(1 / np.sqrt(len(grams)))
    x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(examples), len(vocab)))
    y = np.array([item for _, item in examples])
    model = LogisticRegression(C=C, max_iter=3000)
    model.fit(x, y, sample_weight=None if weights is None else np.asarray(weights))
    classes = model.classes_.astype(np.int16)
    if len(classes) == 2:  # a binary fit keeps one row of weights: make it two, one per class
        coef = np.vstack([-model.coef_[0], model.coef_[0]]) / 2
        intercept = np.array([-model.intercept_[0], model.intercept_[0]]) / 2
    else:
        coef, intercept = model.coef_, model.intercept_
    return TitleModel(vocab, classes, np.ascontiguousarray(coef.T, dtype=np.float32), intercept.astype(np.float64),
                      {"format": FORMAT, "examples": len(examples), **(meta or {})})


def read_labelled(text: str) -> list[tuple[str, int]]:
    """`title,item` rows (other columns ignored; an empty item is "not a 清单 post")."""
    return [(r["title"].strip(), int(r["item"]) if (r.get("item") or "").strip() else 0)
            for r in csv.DictReader(io.StringIO(text)) if r.get("title", "").strip()]


@cache
def shipped_examples() -> tuple[tuple[str, int], ...]:
    out: list[tuple[str, int]] = []
    for name in SHIPPED_SETS:
        out += read_labelled(files("aggregator.qingdan").joinpath(name).read_text(encoding="utf-8"))
    return tuple(out)


def digest(examples: Iterable[tuple[str, int]], weights: Iterable[float] = ()) -> str:
    h = hashlib.sha256(f"format {FORMAT} C {C}\n".encode())
    for title, item in examples:
        h.update(f"{item}\t{title}\n".encode())
    for w in weights:
        h.update(f"{w}\n".encode())
    return h.hexdigest()[:16]


def train_shipped() -> TitleModel:
    examples = shipped_examples()
    return fit(examples, meta={"digest": digest(examples), "office_examples": 0})


def _places() -> list[Path]:
    here = Path(str(files("aggregator.qingdan").joinpath("data")))
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return [here / "model.npz", cache_home / "xxgk" / "model.npz"]


def save_shipped(model: TitleModel) -> Path | None:
    """Keep the shipped model where the next process finds it (the package, else the cache)."""
    data = model.to_bytes()
    for path in _places():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
            return path
        except OSError:
            continue
    return None


@cache
def shipped_model() -> TitleModel:
    """The model of the shipped labelled sets: read if kept and current, else fitted (and kept)."""
    want = digest(shipped_examples())
    for path in _places():
        try:
            model = TitleModel.from_bytes(path.read_bytes())
        except (OSError, ValueError, KeyError):
            continue
        if model.meta.get("digest") == want:
            return model
    log.info("fitting the 清单 title model from the shipped labelled sets")
    model = train_shipped()
    save_shipped(model)
    return model
