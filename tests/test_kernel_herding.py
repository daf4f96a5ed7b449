"""Kernel herding (Chen, Welling & Smola 2010): the MMD identity, determinism, the sampler contract."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from hitlbench.samplers import samplers
from hitlbench.samplers.kernel_herding import (
    KernelHerding,
    herding_order,
    median_bandwidth,
    pca_project,
)
from hitlbench.testing import check_sampler, tiny_data
from hitlbench.types import PoolView


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path / "cache"))


def rbf(x: np.ndarray, sigma: float, y: np.ndarray | None = None) -> np.ndarray:
    """The RBF kernel matrix in float64, from the pairwise differences."""
    d2 = cdist(x, x if y is None else y, "sqeuclidean")
    return np.exp(-d2 / (2 * sigma**2))


def mmd2(kernel: np.ndarray, subset: np.ndarray) -> float:
    """MMD^2 between the empirical distribution of `subset` and the whole pool."""
    return float(kernel[np.ix_(subset, subset)].mean() - 2 * kernel[subset].mean() + kernel.mean())


def test_each_pick_minimises_the_mmd_of_the_prefix():
    x = np.random.default_rng(0).standard_normal((300, 5))
    sigma = median_bandwidth(x)
    kernel = rbf(x, sigma)
    order = herding_order(x)
    pool_term = kernel.mean()
    for t, chosen in enumerate(order):
        prefix = order[:t]
        rest = np.setdiff1d(np.arange(len(x)), prefix)
        # MMD^2(prefix + {x}) for every candidate x at once, term by term from the kernel matrix
        within = (
            kernel[np.ix_(prefix, prefix)].sum()
            + 2 * kernel[np.ix_(rest, prefix)].sum(1)
            + kernel[rest, rest]
        ) / (t + 1) ** 2
        cross = (kernel[prefix].sum() + kernel[rest].sum(1)) / ((t + 1) * len(x))
        values = within - 2 * cross + pool_term
        assert values[rest == chosen][0] <= values.min() + 1e-9, f"step {t}"


def test_the_herded_prefix_is_closer_to_the_pool_than_random_prefixes():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((400, 4))
    kernel = rbf(x, median_bandwidth(x))
    herded = mmd2(kernel, herding_order(x, 20))
    randoms = [mmd2(kernel, rng.choice(len(x), 20, replace=False)) for _ in range(50)]
    assert herded < min(randoms)
    assert herded < 0.25 * np.mean(randoms)


def test_the_order_is_a_deterministic_permutation():
    x = np.random.default_rng(2).standard_normal((200, 6)).astype(np.float32)
    first = herding_order(x)
    assert np.array_equal(np.sort(first), np.arange(len(x)))
    assert np.array_equal(first, herding_order(x))
    assert np.array_equal(herding_order(x, 50), first[:50])


def test_ties_go_to_the_lowest_index():
    assert np.array_equal(herding_order(np.ones((6, 3))), np.arange(6))
    points = np.random.default_rng(3).standard_normal((10, 3))
    order = list(herding_order(np.concatenate([points, points])))
    for copy in range(10, 20):  # the second copy of a point never comes before the first
        assert order.index(copy - 10) < order.index(copy)


def test_the_median_heuristic_is_deterministic_for_a_seed():
    x = np.random.default_rng(4).standard_normal((3000, 5))
    assert median_bandwidth(x, 500, seed=7) == median_bandwidth(x, 500, seed=7)
    assert median_bandwidth(x, 500, seed=7) != median_bandwidth(x, 500, seed=8)
    every = median_bandwidth(x[:500], 500)
    small = x[:500]
    dist = np.sqrt(((small[:, None] - small[None]) ** 2).sum(-1))
    assert every == pytest.approx(np.median(dist[np.triu_indices(500, k=1)]))


def test_the_gram_and_column_paths_agree():
    x = np.random.default_rng(5).standard_normal((300, 8))
    assert np.array_equal(herding_order(x), herding_order(x, max_gram_bytes=0))


def test_pca_signs_are_deterministic_and_variance_is_ordered():
    x = np.random.default_rng(6).standard_normal((500, 10)) * np.arange(1, 11)
    z = pca_project(x, 3)
    assert z.shape == (500, 3)
    assert np.all(np.diff(z.var(axis=0)) < 0)
    assert np.array_equal(z, pca_project(x, 3))
    assert np.allclose(np.abs(z), np.abs(pca_project(-x, 3)), atol=1e-9)


def test_the_approximation_is_close_to_exact_herding():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5000, 16)).astype(np.float32)
    sigma = median_bandwidth(x)
    pool_term = rbf(x, sigma).mean()

    def distance(subset):  # MMD^2 of the subset to the pool
        return rbf(x[subset], sigma).mean() - 2 * rbf(x[subset], sigma, x).mean() + pool_term

    exact = distance(herding_order(x, 100))
    approx = distance(herding_order(x, 100, method="approx"))
    randoms = [distance(rng.choice(len(x), 100, replace=False)) for _ in range(10)]
    # 2,048 random landmarks for the mean term: measured 1.1-1.4x the exact MMD^2 over seeds
    assert approx <= 1.5 * exact
    assert approx < 0.25 * min(randoms)


def test_the_approximation_reduces_wide_inputs():
    x = np.random.default_rng(8).standard_normal((2000, 96)).astype(np.float16)
    order = herding_order(x, 30, method="approx", scan_dim=16, mean_sample=256)
    assert len(np.unique(order)) == 30
    assert np.array_equal(
        order, herding_order(x, 30, method="approx", scan_dim=16, mean_sample=256)
    )


def pool_of(data, indices):
    def raw(pos):
        return data.images[indices[pos]].astype(np.float32) / 255.0

    return PoolView(indices, crops=raw, raw=raw)


def test_the_sampler_passes_the_contract():
    check_sampler(KernelHerding(embedder="pixels", pca=None))
    check_sampler(samplers.create("kh", embedder="pixels", method="approx"))


def test_the_sampler_returns_the_next_items_as_the_pool_shrinks():
    data = tiny_data(n=80)
    indices = np.arange(3, 80)[::-1].copy()  # dataset indices, in no particular order
    sampler = KernelHerding(embedder="pixels", pca=8)
    first = indices[sampler.select(pool_of(data, indices), 10, model=None, rng=None)]
    features = data.images[indices].reshape(len(indices), -1).astype(np.float32) / 255.0
    expected = indices[herding_order(pca_project(features, 8))]
    assert np.array_equal(first, expected[:10])
    remaining = indices[~np.isin(indices, first)]
    second = remaining[sampler.select(pool_of(data, remaining), 10, model=None, rng=None)]
    assert np.array_equal(second, expected[10:20])
    fresh = KernelHerding(embedder="pixels", pca=8)  # a new instance reads the order from the cache
    again = indices[fresh.select(pool_of(data, indices), 10, model=None, rng=None)]
    assert np.array_equal(again, first)


@pytest.mark.parametrize(
    "params",
    [
        {"embedder": "clip"},
        {"method": "greedy"},
        {"pca": 0},
        {"bandwidth": -1.0},
        {"embed_size": 8},
        {"seed": True},
    ],
)
def test_bad_parameters_are_refused(params):
    with pytest.raises(ValueError, match=next(iter(params))):
        KernelHerding(**params)


def test_the_efficientnet_embedder_gives_pooled_features():
    data = tiny_data(n=6, size=28)
    indices = np.arange(6)
    pool = pool_of(data, indices)
    assert KernelHerding().embed(pool).shape == (6, 1280)
    order = KernelHerding(pca=4).select(pool, 6, model=None, rng=None)
    assert sorted(order) == list(range(6))
