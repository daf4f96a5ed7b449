"""BADGE: k-means++ seeding on the gradient embeddings of the last layer (Ash et al. 2020), in
factorised form."""

from __future__ import annotations

import numpy as np

from ..classifiers.representations import FEATURES
from .base import ColdStartSampler, pool_inputs, samplers
from .coreset import squared_norms


@samplers.register("badge", "batch_active_diverse_gradient")
class BADGE(ColdStartSampler):
    """Uncertain and diverse batches: k-means++ seeding on last-layer gradient embeddings (Ash et al. 2020).

    Each pool item's gradient embedding is the gradient of the cross-entropy at the model's own prediction with respect to
    the last layer's weights, g = (p - onehot(argmax p)) x h, with p the class probabilities
    and h the `features` the last layer reads (Ash et al. 2020, "Deep batch active learning by
    diverse, uncertain gradient lower bounds"). The first pick is the largest gradient, each
    later one is drawn with probability proportional to its squared distance to the nearest
    pick so far (D^2 sampling), from the sampler's own generator.

    Factorised: g is never built. |g_i - g_j|^2 = |a_i|^2 |h_i|^2 + |a_j|^2 |h_j|^2 -
    2 (a_i . a_j)(h_i . h_j), with a = p - onehot, so each new pick costs the N x (C + D)
    products against it and memory stays O(N x (C + D)) (the N x C.D matrix would be 12.3 GB
    at 20,000 items x 100 classes x 768-d float64; scikit-activeml #589 measured 24.6 GB). Needs a classifier with features; before
    a model exists, its cold-start sampler (random) picks. The D^2 probabilities equal those of
    Ash et al.'s code (recomputed on the materialised embeddings) and, with the origin added
    as a centre as scikit-activeml 1.0.1's `Badge` does, scikit-activeml's, to 1e-6
    (tests/test_samplers_baselines.py).
    """

    needs = frozenset({FEATURES})

    def select_with(self, pool, k, *, model, rng):
        inputs = pool_inputs(pool, model)
        proba = np.asarray(model.predict_proba(inputs, items=pool.indices), np.float64)
        features = model.features(inputs, items=pool.indices)
        return badge_picks(gradient_scale(proba), features, k, rng)


def gradient_scale(proba: np.ndarray) -> np.ndarray:
    """float64 [N, C]: p - onehot(argmax p), the factor of the gradient embedding per class."""
    scale = np.array(proba, np.float64)
    scale[np.arange(len(scale)), scale.argmax(axis=1)] -= 1.0
    return scale


def badge_picks(
    scale: np.ndarray, features: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """int64 [min(k, N)] positions by k-means++ seeding on the gradient embeddings whose
    factors are `scale` [N, C] and `features` [N, D]: the largest norm first, then D^2
    sampling (`d2_probabilities`); where every distance is 0, uniformly among the rest."""
    k = min(k, len(scale))
    norms = (scale * scale).sum(axis=1) * squared_norms(features)
    picks = [int(np.argmax(norms))] if k else []
    nearest = None
    while len(picks) < k:
        probabilities, nearest = d2_probabilities(scale, features, picks[-1], nearest, norms)
        if not probabilities.any():  # all remaining items coincide with a pick
            probabilities = np.ones(len(scale))
            probabilities[picks] = 0.0
            probabilities /= probabilities.sum()
        picks.append(int(rng.choice(len(scale), p=probabilities)))
    return np.asarray(picks, np.int64)


def d2_probabilities(
    scale: np.ndarray,
    features: np.ndarray,
    centre: int,
    nearest: np.ndarray | None = None,
    norms: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities [N], squared distances [N]): each item's squared distance from its
    gradient embedding to the nearest of the picks so far, `centre` the newest (`nearest`, the
    distances to the earlier ones, or None), normalised to sum to 1 (all zero where every
    distance is 0); `norms` the embeddings' squared norms if already computed."""
    if norms is None:
        norms = (scale * scale).sum(axis=1) * squared_norms(features)
    inner = (scale @ scale[centre]) * (features @ features[centre]).astype(np.float64)
    d2 = np.maximum(norms + norms[centre] - 2.0 * inner, 0.0)
    d2[centre] = 0.0
    if nearest is not None:
        d2 = np.minimum(d2, nearest)
    total = d2.sum()
    return (d2 / total if total > 0 else np.zeros_like(d2)), d2
