"""ProbCover: the items whose balls of radius delta cover the most items no label covers yet
(Yehuda, Dekel, Hacohen & Weinshall 2022)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import samplers
from .embedding_space import EmbeddingSpaceSampler
from .typiclust import cluster_ids

DELTAS = tuple(np.round(np.arange(0.2, 2.2, 0.2), 2).tolist())


@samplers.register("probcover", "probability_coverage")
class ProbCover(EmbeddingSpaceSampler):
    """Greedy coverage of the embedding space by balls of radius delta (Yehuda et al. 2022).

    Yehuda, Dekel, Hacohen & Weinshall 2022 ("Active learning through a covering lens"): items
    within `delta` (Euclidean, on `embedder`'s L2-normalised embeddings) are joined; the balls
    of the labeled items cover their neighbours; k times over, the item whose ball covers the
    most uncovered items is picked (ties at random, as scikit-activeml's, among them every
    item once all are covered) and its ball is covered. With
    `delta` None the radius is the largest of `deltas` whose purity is at least `alpha`: the
    share of items whose ball holds only items of their own k-means cluster (as many clusters
    as classes, seeded from the sampler's generator). A cold-start strategy for low budgets;
    needs no model. The graph is sparse (scikit-learn's radius_neighbors_graph), so memory
    grows with the edges, not N^2. The out-degrees it ranks by equal scikit-activeml 1.0.1's
    `ProbCover` utilities at a given radius (tests/test_samplers_baselines.py).
    """

    # 1: the purity clustering took the best of three k-means initialisations; 2: ties, and every
    # pick once all was covered, went to the lowest pool position (a pool stored in class order
    # then gave the last rounds' labels to its first classes)
    version = "3"

    def __init__(
        self,
        embedder: str | dict[str, Any] | None = None,
        delta: float | None = None,
        deltas: list[float] | None = None,
        alpha: float = 0.95,
    ):
        if delta is not None and not delta > 0:
            raise ValueError(f"delta must be > 0, got {delta}")
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        super().__init__(embedder)
        self.delta = delta
        self.deltas = deltas
        self.alpha = alpha

    def select(self, pool, k, *, model, rng):
        x, labeled = (normalised(a) for a in self.pool_and_labeled(pool))
        both = np.concatenate([x, labeled])
        deltas = self.deltas or DELTAS
        delta = self.delta or purest_radius(both, deltas, self.alpha, self.n_classes, rng)
        return coverage_picks(radius_graph(both, delta), len(x), k, rng)


def normalised(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def radius_graph(x: np.ndarray, delta: float):
    """Sparse bool [N, N] CSR: rows within `delta` of each other (each row with itself)."""
    from sklearn.neighbors import radius_neighbors_graph

    return radius_neighbors_graph(x, delta, mode="connectivity", include_self=True).tocsr()


def purest_radius(
    x: np.ndarray, deltas, alpha: float, n_clusters: int, rng: np.random.Generator
) -> float:
    """The largest of `deltas` (ascending) at which at least `alpha` of the rows have a ball
    holding only rows of their own k-means cluster; the smallest where none does."""
    clusters = cluster_ids(x, n_clusters, rng)
    best = float(min(deltas))
    for delta in sorted(deltas):
        graph = radius_graph(x, delta).tocoo()
        impure = np.zeros(len(x), bool)
        impure[graph.row[clusters[graph.row] != clusters[graph.col]]] = True
        if 1.0 - impure.mean() < alpha:
            break
        best = float(delta)
    return best


def out_degrees(graph, covered: np.ndarray) -> np.ndarray:
    """int64 [N]: how many uncovered rows each row's ball holds."""
    return np.asarray(graph @ (~covered).astype(np.int64)).ravel()


def coverage_picks(graph, n_pool: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """int64 [min(k, n_pool)] positions among the first `n_pool` rows of `graph` (the rest are
    labeled: their balls start covered), each the pool row whose ball covers the most
    uncovered rows, ties drawn at random from `rng` (once every row is covered, all the pool
    rows left tie at 0)."""
    covered = np.zeros(graph.shape[0], bool)
    labeled = np.arange(n_pool, graph.shape[0])
    if len(labeled):
        covered[graph[labeled].indices] = True
    degrees = out_degrees(graph, covered)
    eligible = np.ones(n_pool, bool)
    picks = []
    for _ in range(min(k, n_pool)):
        masked = np.where(eligible, degrees[:n_pool], -1)
        j = int(rng.choice(np.flatnonzero(masked == masked.max())))
        picks.append(j)
        eligible[j] = False
        newly = graph[j].indices[~covered[graph[j].indices]]
        covered[newly] = True
        if len(newly):  # symmetric graph: each row loses the newly covered rows it held
            degrees -= np.asarray(graph[newly].sum(axis=0)).ravel().astype(np.int64)
    return np.asarray(picks, np.int64)
