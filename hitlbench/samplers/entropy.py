"""Maximum-entropy uncertainty sampling."""

from __future__ import annotations

import numpy as np

from .base import ScoreSampler, samplers


@samplers.register("entropy", "max_entropy")
class EntropySampler(ScoreSampler):
    """Highest predictive entropy first (Settles 2009, active learning survey)."""

    def scores(self, proba):
        p = np.clip(proba, 1e-12, 1.0)
        return -(p * np.log(p)).sum(axis=1)
