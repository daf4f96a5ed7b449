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
    distances. Ties go to the lowest pool position; a picked item is never picked again, so
    duplicate rows are taken in turn once everything else is covered. Needs a classifier with features. The
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
    norms = squared_norms(x)
    if not len(centres):
        centres = np.zeros((1, x.shape[1]), x.dtype)
    nearest = min_squared_distances(x, norms, np.asarray(centres, x.dtype))
    picks = np.empty(k, np.int64)
    for i in range(k):
        picks[i] = j = int(np.argmax(nearest))
        to_pick = norms - 2.0 * (x @ x[j]) + norms[j]  # one matrix-vector product per pick
        np.minimum(nearest, np.maximum(to_pick, 0.0), out=nearest)
        nearest[j] = -np.inf  # never again, even where every distance left is 0 (duplicates)
    return picks


def squared_norms(x: np.ndarray) -> np.ndarray:
    """float64 [N]: each row's squared Euclidean norm."""
    return np.einsum("ij,ij->i", x, x).astype(np.float64)


def min_squared_distances(x: np.ndarray, norms: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """float64 [N]: each row's squared Euclidean distance to its nearest row of `centres`
    [L, D], as |x|^2 - 2 x.c + |c|^2 (clipped at 0; `norms` = |x|^2), in blocks of `CHUNK`
    rows so the scratch stays CHUNK x L."""
    centre_norms = squared_norms(centres)
    out = np.empty(len(x), np.float64)
    for start in range(0, len(x), CHUNK):
        cross = x[start : start + CHUNK] @ centres.T
        d2 = norms[start : start + CHUNK, None] - 2.0 * cross + centre_norms[None, :]
        out[start : start + CHUNK] = np.maximum(d2, 0.0).min(axis=1)
    return out
