"""TypiClust: the most typical item of each of the largest clusters no label covers (Hacohen,
Dekel & Weinshall 2022)."""

from __future__ import annotations

from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from .base import samplers
from .embedding_space import EmbeddingSpaceSampler

MINIBATCH_ABOVE = 50  # more clusters than this: MiniBatchKMeans, as Hacohen et al.'s code


@samplers.register("typiclust", "typical_clustering")
class TypiClust(EmbeddingSpaceSampler):
    """The most typical item of each of the k largest clusters that hold no labeled item (Hacohen et al. 2022).

    Hacohen, Dekel & Weinshall 2022 ("Active learning on a budget: opposite strategies suit high
    and low budgets"): pool and labeled items are clustered by k-means (scikit-learn's KMeans,
    MiniBatchKMeans beyond 50 clusters) into as many clusters as labeled items plus k; clusters
    holding a labeled item are covered; from each of the k largest uncovered clusters it takes
    the item of highest typicality, the inverse of its mean Euclidean distance to its
    `neighbours` nearest neighbours in the cluster (the paper's K = 20), where fewer uncovered
    clusters remain, the most typical items left. A cold-start strategy for low budgets: it
    needs no model, only `embedder`'s embeddings of every item (cached). The clustering's seed
    comes from the sampler's own generator; ties in size go to the lower cluster id.

    Cost: k-means (one k-means++ initialisation, on one thread) over N + L items in (L + k)
    clusters, and a nearest-neighbour search inside each chosen cluster (scikit-learn's
    NearestNeighbors). Typicality equals scikit-activeml 1.0.1's `_typicality` at the same K
    (tests/test_samplers_baselines.py).
    """

    version = "2"  # 1: three k-means initialisations on as many threads as OpenMP chose

    def __init__(self, embedder: str | dict[str, Any] | None = None, neighbours: int = 20):
        if neighbours < 1:
            raise ValueError(f"neighbours must be >= 1, got {neighbours}")
        super().__init__(embedder)
        self.neighbours = neighbours

    def select(self, pool, k, *, model, rng):
        x, labeled = self.pool_and_labeled(pool)
        k = min(k, len(x))
        clusters = cluster_ids(np.concatenate([x, labeled]), len(labeled) + k, rng)
        return typical_picks(
            x, clusters[: len(x)], set(clusters[len(x) :].tolist()), k, self.neighbours
        )


def cluster_ids(x: np.ndarray, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """int64 [N]: k-means cluster of each row, seeded from `rng`.

    One k-means++ initialisation (scikit-learn's `n_init="auto"` for k-means++), on one thread
    so that the clusters do not depend on how many cores OpenMP finds: three initialisations at
    550 clusters over 5,050 x 1,280 rows cost three times as long and, with two cells sharing two
    cores, most of a cell's time went to threads competing in k-means++."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    n_clusters = min(n_clusters, len(x))
    seed = int(rng.integers(2**31))
    algo = KMeans if n_clusters <= MINIBATCH_ABOVE else MiniBatchKMeans
    with threadpool_limits(1):
        clusters = algo(n_clusters=n_clusters, random_state=seed, n_init=1).fit_predict(x)
    return clusters.astype(np.int64)


def typical_picks(
    x: np.ndarray, clusters: np.ndarray, covered: set[int], k: int, neighbours: int
) -> np.ndarray:
    """int64 [min(k, N)] positions into `x`: the most typical item of each of the k largest
    clusters (ids `clusters` [N]) not in `covered`, largest first; then the most typical of
    what is left in order of typicality within their clusters."""
    sizes = np.bincount(clusters)
    order = [c for c in np.argsort(-sizes, kind="stable") if sizes[c] and c not in covered]
    picks = []
    for c in order[:k]:
        members = np.flatnonzero(clusters == c)
        picks.append(int(members[np.argmax(typicality(x[members], neighbours))]))
    if len(picks) < k:  # fewer uncovered clusters than k: the most typical items left
        rest = np.setdiff1d(np.arange(len(x)), picks)
        score = np.zeros(len(x))
        for c in np.unique(clusters[rest]):
            members = np.flatnonzero(clusters == c)
            score[members] = typicality(x[members], neighbours)
        picks += rest[np.argsort(-score[rest], kind="stable")][: k - len(picks)].tolist()
    return np.asarray(picks, np.int64)


def typicality(x: np.ndarray, neighbours: int, eps: float = 1e-7) -> np.ndarray:
    """float64 [N]: 1 / (mean Euclidean distance to the `neighbours` nearest other rows; the
    row itself, at 0, is counted in the sum as in scikit-activeml), 1 for a lone row."""
    from sklearn.neighbors import NearestNeighbors

    if len(x) == 1:
        return np.ones(1)
    k = min(len(x) - 1, neighbours)
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    return 1.0 / ((distances.sum(axis=1) + eps) / k)
