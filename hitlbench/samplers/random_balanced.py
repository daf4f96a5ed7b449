"""Random items stratified by the model's predicted class toward equal class shares: this
project's classification analogue of an "improved" random (nnActive, 2025)."""

from __future__ import annotations

import numpy as np

from ..classifiers.base import answered_argmax
from ..types import NO_ANSWER
from .base import ColdStartSampler, pool_inputs, samplers


@samplers.register("random_balanced", "class_balanced_random")
class RandomBalanced(ColdStartSampler):
    """Random items stratified by predicted class toward equal shares: an improved random (nnActive 2025).

    Random items, as many from each class as brings the labeled set closest to equal
    shares: the batch's slots go one at a time to the class with the fewest labels so far
    (labeled plus slots already given; ties at random) that still has pool items the model
    predicts as it, and each class's items are drawn at random among those. Items the model
    cannot answer fill what is left. The classification analogue of the foreground-aware
    random that nnActive (Lüth et al. 2025) found no method reliably beats; the class is the
    model's guess, so the balance is only as good as the model. Plain random (its cold-start
    sampler) before a model exists.

    Cost: one prediction over the pool and O(k x C) to share out the slots.
    """

    def select_with(self, pool, k, *, model, rng):
        proba = model.predict_proba(pool_inputs(pool, model), items=pool.indices)
        labeled = np.asarray(pool.labeled if pool.labeled is not None else [], np.int64)
        counts = np.bincount(labeled[labeled >= 0], minlength=proba.shape[1])
        return balanced_draw(answered_argmax(proba), counts, k, rng)


def balanced_draw(
    predicted: np.ndarray, counts: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """int64 [min(k, N)] positions: slots shared out toward equal class counts (`counts` [C],
    the labels so far), each class's positions drawn at random among those `predicted` [N] as
    it (`NO_ANSWER` rows only once every class is used up)."""
    k = min(k, len(predicted))
    counts = np.asarray(counts, np.int64).copy()
    groups = [rng.permutation(np.flatnonzero(predicted == c)) for c in range(len(counts))]
    left = np.array([len(g) for g in groups])
    taken = np.zeros(len(counts), np.int64)
    tie_break = rng.random(len(counts))
    for _ in range(k):
        open_classes = np.flatnonzero(taken < left)
        if not len(open_classes):
            break
        order = np.lexsort((tie_break[open_classes], counts[open_classes]))
        c = open_classes[order[0]]
        taken[c] += 1
        counts[c] += 1
    picks = [g[:n] for g, n in zip(groups, taken, strict=True)]
    unanswered = rng.permutation(np.flatnonzero(predicted == NO_ANSWER))
    picks.append(unanswered[: k - int(taken.sum())])
    return np.concatenate(picks).astype(np.int64)
