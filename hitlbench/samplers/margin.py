"""Smallest-margin uncertainty sampling."""

from __future__ import annotations

import numpy as np

from .base import ScoreSampler, samplers


@samplers.register("margin", "smallest_margin")
class MarginSampler(ScoreSampler):
    """Smallest gap between the two most probable classes first (Scheffer et al. 2001; Stretcu et al. 2023)."""

    def scores(self, proba):
        top2 = np.sort(proba, axis=1)[:, -2:]
        return -(top2[:, 1] - top2[:, 0])
