"""Smallest-margin uncertainty sampling."""

from __future__ import annotations

import numpy as np

from .base import ScoreSampler, samplers


@samplers.register("margin", "smallest_margin")
class MarginSampler(ScoreSampler):
    """Smallest gap between the two most probable classes first (Scheffer et al. 2001; Stretcu et al. 2023)."""

    # two classes scored without a sort (the same values); benchmarks/same_behaviour.py gave
    # 24 of 26 records equal (the other two differ only in a crowd's new field); then the same
    # score computed in place: 26 of 26 records equal
    same_behaviour_as = ("a2327ccc21756c15", "79ab94226a1f929e")

    def scores(self, proba):
        if proba.shape[1] == 2:  # the same values, without sorting every row (15x faster)
            gap = proba[:, 1] - proba[:, 0]  # one temporary, negated in place
            return np.negative(np.abs(gap, out=gap), out=gap)
        top2 = np.sort(proba, axis=1)[:, -2:]
        return -(top2[:, 1] - top2[:, 0])
