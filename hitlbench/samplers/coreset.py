"""Core-Set: greedy k-center on the classifier's features (Sener & Savarese 2018)."""

from __future__ import annotations

import numpy as np

from ..classifiers.representations import FEATURES
from .base import Sampler, labeled_inputs, pool_inputs, samplers
from .random_order import RandomSampler

CHUNK = 65536  # pool rows per block of the distance computations (bounds the scratch memory)


@samplers.register("coreset", "k_center_greedy")
class CoreSet(Sampler):
    """Greedy k-center on the classifier's features (Sener & Savarese 2018).

    The pool item farthest from everything labeled or already picked, k times over: the
    greedy 2-approximation of the k-center problem on the classifier's `features` (Sener &
    Savarese 2018, "Active learning for convolutional neural networks: a core-set approach",
    Euclidean distance). Plain random before a model exists.

    Cost: the first pick needs the distances from the N pool items to the L labeled ones
    (N x L x D), each later pick N x D more; memory O(N x D) for the features plus O(N) for the
    distances. Ties go to the lowest pool position. Needs a classifier with features. The
    picks equal scikit-activeml 1.0.1's `k_greedy_center` for a given labeled set.
    """

    uses_model = True
    needs = frozenset({FEATURES})

    def select(self, pool, k, *, model, rng):
        if model is None or not model.ready or pool.labeled_items is None:
            return RandomSampler().select(pool, k, model=None, rng=rng)
        x = model.features(pool_inputs(pool, model), items=pool.indices)
        centres = model.features(labeled_inputs(pool, model), items=pool.labeled_items)
        return greedy_k_center(x, centres, k)


def greedy_k_center(x: np.ndarray, centres: np.ndarray, k: int) -> np.ndarray:
    """int64 [min(k, N)] positions into `x` [N, D], chosen one at a time as the row farthest
    (Euclidean) from `centres` [L, D] and the rows chosen before it; with no centres the first
    pick is the row of largest norm, as if the origin were the one centre."""
    k = min(k, len(x))
    nearest = min_squared_distances(x, centres if len(centres) else np.zeros((1, x.shape[1])))
    picks = np.empty(k, np.int64)
    for i in range(k):
        picks[i] = int(np.argmax(nearest))
        np.minimum(nearest, min_squared_distances(x, x[picks[i] : picks[i] + 1]), out=nearest)
    return picks


def min_squared_distances(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """float64 [N]: each row's squared Euclidean distance to its nearest row of `centres`,
    computed in blocks of `CHUNK` rows as |x|^2 - 2 x.c + |c|^2 (clipped at 0)."""
    centres = np.asarray(centres, x.dtype)
    centre_norms = np.einsum("ij,ij->i", centres, centres)
    out = np.empty(len(x), np.float64)
    for start in range(0, len(x), CHUNK):
        block = x[start : start + CHUNK]
        d2 = np.einsum("ij,ij->i", block, block)[:, None] - 2.0 * (block @ centres.T)
        out[start : start + CHUNK] = np.maximum(d2 + centre_norms[None, :], 0.0).min(axis=1)
    return out
