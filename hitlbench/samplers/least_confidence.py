"""Least-confidence uncertainty sampling."""

from __future__ import annotations

from .base import ScoreSampler, samplers


@samplers.register("least_confidence", "lc")
class LeastConfidenceSampler(ScoreSampler):
    """Lowest top-class probability first (Culotta & McCallum 2005)."""

    def scores(self, proba):
        return 1.0 - proba.max(axis=1)
