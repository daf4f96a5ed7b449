"""Samplers choose which pool items the person labels next."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..core.component import Component
from ..core.registry import Registry
from ..types import DivergedError, HitlbenchError, PoolView

if TYPE_CHECKING:
    from ..classifiers.base import Classifier
    from ..data.base import ImageData


class Sampler(Component, ABC):
    """Returns k distinct positions into the pool; never mutates the pool."""

    uses_model: ClassVar[bool] = False  # False: the order is fixed a priori (random, herding)
    # what it asks of the classifier beyond probabilities (`Classifier.capabilities`)
    needs: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def select(
        self, pool: PoolView, k: int, *, model: Classifier | None, rng: np.random.Generator
    ) -> np.ndarray: ...

    def check_classifier(self, classifier: Classifier) -> None:
        """Refuse (`HitlbenchError`, one line) a bound classifier without what `needs` names;
        called once before the loop."""
        missing = sorted(self.needs - classifier.capabilities())
        if missing:
            raise HitlbenchError(
                f"sampler {self.registered_name!r} needs a classifier with "
                f"{' and '.join(missing)}; classifier {classifier.registered_name!r} offers "
                f"{', '.join(sorted(classifier.capabilities())) or 'neither'}"
            )

    def prepare(self, data: ImageData, *, progress: bool) -> str | None:
        """Called once before the loop with the whole collection (pool positions index
        `PoolView.indices`, which are rows of `data`), for a sampler that precomputes per-item
        scores (`expansion`: its embeddings and queries); returns a line for the user or None."""
        return None


samplers: Registry[Sampler] = Registry("sampler", Sampler, group="hitlbench.samplers")


class ColdStartSampler(Sampler):
    """A model-based sampler: before any model is ready its cold-start sampler (`cold_start`, a
    sampler that needs no model) picks; after, `select_with` does."""

    uses_model = True

    def __init__(self, cold_start: str = "random"):
        self.cold_start = cold_start
        self._cold = samplers.create(cold_start)
        if self._cold.uses_model:
            raise ValueError(f"cold_start {cold_start!r} needs a model itself; use e.g. 'random'")

    def prepare(self, data, *, progress):
        """The cold-start sampler's preparation (it picks until the model is ready)."""
        return self._cold.prepare(data, progress=progress)

    def select(self, pool, k, *, model, rng):
        if model is None or not model.ready:
            return self._cold.select(pool, k, model=None, rng=rng)
        return self.select_with(pool, k, model=model, rng=rng)

    @abstractmethod
    def select_with(
        self, pool: PoolView, k: int, *, model: Classifier, rng: np.random.Generator
    ) -> np.ndarray:
        """`select` once `model` is ready."""


class ScoreSampler(ColdStartSampler):
    """A model-based sampler: takes the k highest scores; before any model, its cold-start sampler.

    Items the model cannot answer (all-zero probabilities, e.g. a zero-shot labeler's
    unparseable replies) come first, in random order, then the rest by score.

    Ties are broken at random with the sampler's own random stream (as modAL's
    `random_tie_break`), so a fresh or collapsed model, whose scores tie, does not pick the
    lowest pool positions (a single class, when the pool is stored in class order). A score that
    is not finite is refused (`DivergedError`), never ranked.
    """

    version = "2"  # 1: ties went to the lowest pool position

    @abstractmethod
    def scores(self, proba: np.ndarray) -> np.ndarray:
        """[N] float, higher means more worth labeling next; `proba` is [N, C] with C >= 2, rows
        summing to 1 (a class the labeled set has not yet seen may have probability 0)."""

    def select_with(self, pool, k, *, model, rng):
        proba = model.predict_proba(pool_inputs(pool, model), items=pool.indices)
        return self.rank(np.asarray(proba), k, rng=rng)

    def rank(self, proba: np.ndarray, k: int, *, rng: np.random.Generator) -> np.ndarray:
        """The k positions `select` takes given the model's probabilities `proba` [N, C]:
        int64 [min(k, N)], unanswered rows first (random order), then the highest scores, ties
        at random (the values of one `rng.random(N)` draw). Raises `DivergedError` for a score
        that is not finite, ValueError for k < 0."""
        # an item the model cannot answer (an all-zero row) ranks first: it needs the person
        answered = answered_rows(proba)
        if answered.all():  # the usual case: no copy of the probabilities
            scores = np.asarray(self.scores(proba))  # float64 a chunk at a time, in `top_k`
        else:
            scores = np.zeros(len(proba), np.float64)
            scores[answered] = self.scores(proba[answered])
        return top_k(scores, answered, k, rng=rng, who=self.registered_name)


RANK_CHUNK = 1 << 20  # rows ranked at a time: scratch arrays of 8 MB, whatever N


def top_k(
    scores: np.ndarray,
    answered: np.ndarray,
    k: int,
    *,
    rng: np.random.Generator,
    who: str,
    chunk: int = RANK_CHUNK,
) -> np.ndarray:
    """int64 [min(k, N)] positions: unanswered rows (`answered` False) first, then the highest
    `scores` [N] (any float dtype, compared as float64), ties at random: by the values of one
    `rng.random(N)` draw, then by position.

    Ranked `chunk` rows at a time: each chunk's own first k (`lexsort_top_k`) are candidates,
    and the first k of the candidates are the first k of all, so no temporary grows with N (at
    10M rows, fresh full-length arrays cost more in page faults than the ranking itself). The
    tie-break values are drawn a chunk at a time, the same stream as one draw of N. Raises
    `DivergedError` (naming the sampler `who`) for a score that is not finite, ValueError for
    k < 0."""
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    positions, keys, not_finite = [], [], 0
    for start in range(0, len(scores), chunk):
        part = slice(start, start + chunk)
        negated = -np.asarray(scores[part], np.float64)
        not_finite += int(np.count_nonzero(~np.isfinite(negated)))
        chunk_keys = (rng.random(len(negated)), negated, answered[part])
        if not_finite:
            continue
        best = np.sort(lexsort_top_k(chunk_keys, k))  # position order, for ties on every key
        positions.append(start + best)
        keys.append([key[best] for key in chunk_keys])
    if not_finite:
        raise DivergedError(
            f"sampler {who!r}: {not_finite} of {len(scores)} scores are "
            "not finite (the classifier's probabilities hold NaN or infinities); refusing "
            "to rank them"
        )
    if not positions:
        return np.zeros(0, np.int64)
    merged = tuple(np.concatenate(column) for column in zip(*keys, strict=True))
    return np.concatenate(positions)[lexsort_top_k(merged, k)].astype(np.int64)


def answered_rows(proba: np.ndarray) -> np.ndarray:
    """bool [N]: rows of `proba` [N, C] with any non-zero entry (`proba.any(axis=1)`, a column
    at a time where there are few columns: several times faster on millions of rows)."""
    if proba.shape[1] > 8:
        return proba.any(axis=1)
    answered = proba[:, 0] != 0
    for column in range(1, proba.shape[1]):
        answered |= proba[:, column] != 0
    return answered


def pool_inputs(pool: PoolView, model: Classifier) -> np.ndarray | None:
    """What `model` reads for every pool item: their crops, or None for a classifier that
    answers from cached rows of whole images (`whole_images_only`)."""
    if getattr(model, "whole_images_only", False):
        return None
    return pool.crops(np.arange(len(pool)))


def labeled_inputs(pool: PoolView, model: Classifier) -> np.ndarray | None:
    """The same for the items labeled so far (`PoolView.labeled_items`)."""
    if getattr(model, "whole_images_only", False) or pool.labeled_items is None:
        return None
    return pool.labeled_crops(np.arange(len(pool.labeled_items)))


def lexsort_top_k(keys: tuple[np.ndarray, ...], k: int) -> np.ndarray:
    """`np.lexsort(keys)[:k]` (the last key sorts first, equal keys keep position order),
    computed without sorting everything: each key, from the primary on, keeps the items that are
    at least as good as the k-th (`np.partition`), and only the survivors are lexsorted.

    `keys` are 1-D arrays of one length N (bool, int or float without NaN). Returns int64
    positions [min(k, N)]. Raises ValueError for k < 0.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    n = len(keys[0])
    if k >= n:
        return np.lexsort(keys)
    taken = []  # positions surely among the first k: better than the k-th on a key, tied before
    tied = None  # positions tied with the k-th on every key so far; None: all (none split yet)
    need = k  # how many of the tied positions the first k still hold
    for key in reversed(keys):
        if not need:
            break
        values = key if tied is None else key[tied]
        kth = np.partition(values, need - 1)[need - 1]
        same = values == kth
        if same.all():  # this key splits none off
            continue
        better, same = np.flatnonzero(values < kth), np.flatnonzero(same)
        if tied is not None:
            better, same = tied[better], tied[same]
        taken.append(better)
        need -= len(better)
        tied = same
    taken.append(np.arange(need) if tied is None else tied[:need])  # position order decides
    chosen = np.sort(np.concatenate(taken))
    return chosen[np.lexsort(tuple(key[chosen] for key in keys))]
