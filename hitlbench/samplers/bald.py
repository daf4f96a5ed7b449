"""BALD: the mutual information between a label and the model's weights, from Monte Carlo
dropout (Houlsby et al. 2011; Gal et al. 2017 for images)."""

from __future__ import annotations

import numpy as np

from ..classifiers.representations import SAMPLE_PROBA
from .base import ColdStartSampler, pool_inputs, samplers, top_k

_TINY = 1e-12  # p log p is taken as 0 at p = 0


@samplers.register("bald", "mc_dropout_bald")
class BALD(ColdStartSampler):
    """Highest mutual information between label and weights first, by Monte Carlo dropout (Gal et al. 2017).

    The score is the entropy of the mean prediction over `passes`
    stochastic forward passes minus the mean of their entropies (Houlsby et al. 2011, "Bayesian
    active learning for classification and preference learning"; Gal, Islam & Ghahramani
    2017, "Deep Bayesian active learning with image data", where the passes are Monte Carlo
    dropout). High where the passes disagree, not where each is merely unsure.

    Cost: `passes` forward passes over the pool; O(passes x N x C) memory. The dropout masks
    come from the sampler's own generator. Needs a classifier with sample_proba (dropout).
    Before a model exists, its cold-start sampler (random) picks. The scores equal scikit-
    activeml 1.0.1's `batch_bald` at batch size 1 on the same passes, to 1e-6.
    """

    needs = frozenset({SAMPLE_PROBA})

    def __init__(self, passes: int = 20, cold_start: str = "random"):
        if passes < 2:
            raise ValueError(f"passes must be >= 2, got {passes}")
        super().__init__(cold_start=cold_start)
        self.passes = passes

    def select_with(self, pool, k, *, model, rng):
        inputs = pool_inputs(pool, model)
        samples = model.sample_proba(inputs, self.passes, items=pool.indices, rng=rng)
        answered = samples.mean(axis=0).any(axis=1)
        return top_k(bald_scores(samples), answered, k, rng=rng, who=self.registered_name)


def bald_scores(samples: np.ndarray) -> np.ndarray:
    """float64 [N]: mutual information (nats) from `samples` [T, N, C] (T passes' class
    probabilities): H(mean over T) - mean over T of H."""
    samples = np.asarray(samples, np.float64)
    mean = samples.mean(axis=0)
    entropy_of_mean = -(mean * np.log(np.maximum(mean, _TINY))).sum(axis=1)
    mean_entropy = -(samples * np.log(np.maximum(samples, _TINY))).sum(axis=2).mean(axis=0)
    return entropy_of_mean - mean_entropy
