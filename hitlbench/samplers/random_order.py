"""Uniformly random order."""

from __future__ import annotations

from .base import Sampler, samplers


@samplers.register("random", "uniform")
class RandomSampler(Sampler):
    """Uniformly random choice without replacement (the baseline of Holmes et al. 2023)."""

    def select(self, pool, k, *, model, rng):
        return rng.choice(len(pool), size=k, replace=False)
