"""Samplers choose which pool items the person labels next."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..component import Component
from ..registry import Registry
from ..types import PoolView

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
    """A model-based sampler: takes the k highest scores; before any model, its cold-start sampler."""

    uses_model = True

    def __init__(self, cold_start: str = "random"):
        self.cold_start = cold_start
        self._cold = samplers.create(cold_start)
        if self._cold.uses_model:
            raise ValueError(f"cold_start {cold_start!r} needs a model itself; use e.g. 'random'")

    @abstractmethod
    def scores(self, proba: np.ndarray) -> np.ndarray:
        """Higher means more worth labeling next; `proba` is [N, C]."""

    def select(self, pool, k, *, model, rng):
        if model is None or not model.ready:
            return self._cold.select(pool, k, model=None, rng=rng)
        positions = np.arange(len(pool))
        proba = model.predict_proba(pool.crops(positions))
        # stable sort on negated scores: ties go to the lowest position
        return np.argsort(-self.scores(proba), kind="stable")[:k]
