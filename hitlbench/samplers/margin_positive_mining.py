"""Margin sampling that mines for positives while they are scarce."""

from __future__ import annotations

import numpy as np

from ..types import HitlbenchError
from .base import ScoreSampler, samplers


@samplers.register("margin_positive_mining", "margin_pm")
class MarginPositiveMining(ScoreSampler):
    """Margin sampling with positive mining (Mullapudi et al. 2021; Agile Modeling §3.5).

    The rule as Stretcu et al. 2023 compare it with margin: while the labeled positives (class 1 of a two-class task) are at least as many
    as the labeled negatives, the smallest margin first; otherwise the highest probability of
    the positive class first, to find more of them. The paper decides per sub-round of a
    round's ratings; here the decision is made per batch, on the labels given before it.
    Raises `HitlbenchError` on a task with other than two classes.
    """

    def __init__(self, cold_start: str = "random"):
        super().__init__(cold_start=cold_start)
        self._mining = False

    def select(self, pool, k, *, model, rng):
        labeled = np.asarray(pool.labeled if pool.labeled is not None else [], np.int64)
        self._mining = int((labeled == 1).sum()) < int((labeled != 1).sum())
        return super().select(pool, k, model=model, rng=rng)

    def scores(self, proba):
        if proba.shape[1] != 2:
            raise HitlbenchError(
                f"sampler 'margin_positive_mining' needs a two-class task (class 1 the "
                f"concept), got {proba.shape[1]} classes; use margin"
            )
        if self._mining:
            return proba[:, 1]
        return -np.abs(proba[:, 1] - proba[:, 0])
