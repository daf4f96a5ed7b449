"""Samplers choose which pool items the person labels next."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..component import Component
from ..registry import Registry
from ..types import DivergedError, PoolView

if TYPE_CHECKING:
    from ..classifiers.base import Classifier


class Sampler(Component, ABC):
    """Returns k distinct positions into the pool; never mutates the pool."""

    uses_model: ClassVar[bool] = False  # False: the order is fixed a priori (random, herding)

    @abstractmethod
    def select(
        self, pool: PoolView, k: int, *, model: Classifier | None, rng: np.random.Generator
    ) -> np.ndarray: ...


samplers: Registry[Sampler] = Registry("sampler", Sampler, group="hitlbench.samplers")


class ScoreSampler(Sampler):
    """A model-based sampler: takes the k highest scores; before any model, its cold-start sampler.

    Items the model cannot answer (all-zero probabilities, e.g. a zero-shot labeler's
    unparseable replies) come first, in random order, then the rest by score.

    Ties are broken at random with the sampler's own random stream (as modAL's
    `random_tie_break`), so a fresh or collapsed model, whose scores tie, does not pick the
    lowest pool positions (a single class, when the pool is stored in class order). A score that
    is not finite is refused (`DivergedError`), never ranked.
    """

    version = "2"  # 1: ties went to the lowest pool position

    uses_model = True

    def __init__(self, cold_start: str = "random"):
        self.cold_start = cold_start
        self._cold = samplers.create(cold_start)
        if self._cold.uses_model:
            raise ValueError(f"cold_start {cold_start!r} needs a model itself; use e.g. 'random'")

    @abstractmethod
    def scores(self, proba: np.ndarray) -> np.ndarray:
        """[N] float, higher means more worth labeling next; `proba` is [N, C] with C >= 2, rows
        summing to 1 (a class the labeled set has not yet seen may have probability 0)."""

    def select(self, pool, k, *, model, rng):
        if model is None or not model.ready:
            return self._cold.select(pool, k, model=None, rng=rng)
        proba = np.asarray(
            model.predict_proba(pool.crops(np.arange(len(pool))), items=pool.indices)
        )
        # an item the model cannot answer (an all-zero row) ranks first: it needs the person
        answered = proba.any(axis=1)
        scores = np.zeros(len(proba), np.float64)
        scores[answered] = self.scores(proba[answered])
        bad = ~np.isfinite(scores)
        if bad.any():
            raise DivergedError(
                f"sampler {self.registered_name!r}: {int(bad.sum())} of {len(scores)} scores are "
                "not finite (the classifier's probabilities hold NaN or infinities); refusing "
                "to rank them"
            )
        tie_break = rng.random(len(scores))
        return np.lexsort((tie_break, -scores, answered))[:k]
