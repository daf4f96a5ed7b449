"""Kernel herding: an a-priori order of the pool (Chen, Welling & Smola 2010; Holmes et al. 2023).

Herding picks, one at a time and without replacement, the pool item whose RBF kernel
similarity to the whole pool is highest and to the items already picked is lowest, so every
prefix of the order covers the pool like a good sample of it. Holmes et al. order the pool
this way before labelling starts, from image features that ignore the labels.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from ..core.cache import cached_arrays
from ..embeddings.timm_embedder import TimmEmbedder
from ..types import PoolView
from .base import Sampler, samplers

EMBEDDERS = ("efficientnet_lite0", "pixels")
METHODS = ("exact", "approx")
# The exact method keeps the N x N kernel matrix when it fits in this many bytes (3 GiB: about
# 28,000 items in float32) and otherwise computes one kernel column per pick.
GRAM_MAX_BYTES = 3 * 2**30
_ROWS = 16384  # rows per block when streaming a large pool
_AXES_SAMPLE = 65536  # rows the approximate method estimates its principal axes from


def _blocks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def _floating(x: np.ndarray) -> np.dtype:
    """float64 input is kept in float64 (for exact checks); anything else runs in float32."""
    return np.dtype(np.float64 if x.dtype == np.float64 else np.float32)


def median_bandwidth(x: np.ndarray, sample: int = 2000, seed: int = 0) -> float:
    """Median pairwise distance on a seeded subsample (the median heuristic for the RBF's sigma).

    Zero distances (duplicates) are left out; when every point is the same, any bandwidth gives
    the same order and 1.0 is returned.
    """
    n = len(x)
    pick = np.sort(np.random.default_rng(seed).choice(n, size=min(sample, n), replace=False))
    sub = torch.from_numpy(np.asarray(x[pick], dtype=np.float64))
    sub -= sub.mean(0)
    sq = sub.square().sum(1)
    d2 = (sq[:, None] + sq[None, :] - 2.0 * sub @ sub.T).numpy()
    dist = np.sqrt(np.clip(d2[np.triu_indices(len(sub), k=1)], 0.0, None))
    dist = dist[dist > 0]
    return float(np.median(dist)) if len(dist) else 1.0


def _column_mean(x: np.ndarray) -> np.ndarray:
    total = np.zeros(x.shape[1], dtype=np.float64)
    for rows in _blocks(len(x), _ROWS):
        total += x[rows].sum(axis=0, dtype=np.float64)
    return total / len(x)


def principal_axes(x: np.ndarray, dim: int, mean: np.ndarray | None = None) -> np.ndarray:
    """The top-`dim` principal axes of `x` as a [d, dim] matrix, with a deterministic sign.

    These are the right singular vectors of the centred data, taken from the eigenvectors of
    its d x d scatter matrix (accumulated in float64 over row blocks, so a million rows need no
    centred copy). Each axis is signed so that its largest-magnitude loading is positive.
    """
    mean = _column_mean(x) if mean is None else mean
    scatter = np.zeros((x.shape[1], x.shape[1]), dtype=np.float64)
    for rows in _blocks(len(x), _ROWS):
        block = torch.from_numpy(np.asarray(x[rows], dtype=np.float32) - mean.astype(np.float32))
        scatter += (block.T @ block).double().numpy()
    with threadpool_limits(1, user_api="blas"):  # threaded LAPACK here measured 10-25x slower
        values, vectors = np.linalg.eigh(scatter)
    axes = vectors[:, np.argsort(-values, kind="stable")[:dim]]
    peak = axes[np.argmax(np.abs(axes), axis=0), np.arange(axes.shape[1])]
    return axes * np.where(peak < 0, -1.0, 1.0)


def pca_project(x: np.ndarray, dim: int) -> np.ndarray:
    """`x` centred and projected on its top-`dim` principal axes (float32 unless x is float64)."""
    mean = _column_mean(x)
    dtype = _floating(x)
    axes = torch.from_numpy(principal_axes(x, dim, mean).astype(dtype))
    return (torch.from_numpy(np.asarray(x, dtype=dtype) - mean.astype(dtype)) @ axes).numpy()


def _exponent_factors(
    x: np.ndarray, mean: np.ndarray, sigma: float, axes: np.ndarray | None, dtype: np.dtype
) -> torch.Tensor:
    """Rows a_i = [z_i, -q_i, 1] with z = centred x (projected on `axes`) / sigma, q = |x - mean|^2 / (2 sigma^2).

    Then a_i . b_j = z_i . z_j - q_i - q_j with b_j = [z_j, 1, -q_j] (see `_swap_last`), which is
    -|x_i - x_j|^2 / (2 sigma^2) exactly when there are no axes: one matmul gives the RBF's
    exponent. With axes, the inner product is truncated to the principal subspace and the norms
    stay exact, so the exponent is never positive.
    """
    mean = mean.astype(dtype)
    width = x.shape[1] if axes is None else axes.shape[1]
    factors = torch.empty((len(x), width + 2), dtype=torch.from_numpy(mean).dtype)
    proj = None if axes is None else torch.from_numpy(axes.astype(dtype))
    for rows in _blocks(len(x), _ROWS):
        centred = torch.from_numpy(np.asarray(x[rows], dtype=dtype) - mean)
        z = (centred if proj is None else centred @ proj) / sigma
        q = centred.square().sum(1) / (2 * sigma**2)
        factors[rows, :width] = z
        factors[rows, width] = -q
        factors[rows, width + 1] = 1.0
    return factors


def _swap_last(a: torch.Tensor) -> torch.Tensor:
    """b = a with its last two columns swapped: [z, -q, 1] -> [z, 1, -q]."""
    return torch.cat([a[..., :-2], a[..., -1:], a[..., -2:-1]], dim=-1)


def _gram(a: torch.Tensor) -> torch.Tensor:
    """The RBF kernel matrix, built one row strip at a time over the upper triangle (half the flops)."""
    n = len(a)
    b = _swap_last(a)
    gram = torch.empty((n, n), dtype=a.dtype)
    for rows in _blocks(n, 512):  # strips small enough to transpose in cache
        upper = gram[rows, rows.start :]  # the matmul writes here directly (row stride n)
        torch.mm(a[rows], b[rows.start :].T, out=upper).exp_()
        gram[rows.stop :, rows] = upper[:, rows.stop - rows.start :].T
    return gram


def _mean_kernel(a: torch.Tensor) -> np.ndarray:
    """mu(x) = (1/N) sum_j k(x, x_j), one row strip of the kernel matrix at a time."""
    n = len(a)
    b = _swap_last(a)
    mu = np.empty(n, dtype=np.float64)
    for rows in _blocks(n, max(1, 2**26 // n)):
        mu[rows] = torch.mm(a[rows], b.T).exp_().sum(1).double().numpy() / n
    return mu


def _greedy(mu: np.ndarray, column: Callable[[int], np.ndarray], n_picks: int) -> np.ndarray:
    """Herding without replacement (Chen et al. 2010, eq. 4), after t picks x_1..x_t:

    x_{t+1} = argmax over unpicked x of  mu(x) - (1 / (t + 1)) sum_{s <= t} k(x, x_s),
    mu(x) = (1/N) sum_j k(x, x_j) over the pool; ties go to the lowest index.
    """
    # Why this score: with S_t(x) = sum_{s <= t} k(x, x_s), the prefix plus a candidate x has
    #   MMD^2 = (1/(t+1)^2) [sum_{s,s'<=t} k(x_s, x_s') + 2 S_t(x) + k(x, x)]
    #           - (2/(t+1)) [sum_{s<=t} mu(x_s) + mu(x)] + (1/N^2) sum_{i,j} k(x_i, x_j).
    # Only 2 S_t(x) / (t+1)^2 + k(x, x) / (t+1)^2 - 2 mu(x) / (t+1) depends on x, and
    # k(x, x) = 1 for the RBF, so minimising MMD^2 is maximising mu(x) - S_t(x) / (t + 1).
    # We track gain = (t + 1) mu - S_t, which has the same argmax and needs one update per
    # pick (add mu, subtract the pick's kernel column); a picked item's gain is -inf.
    gain = mu.copy()
    order = np.empty(n_picks, dtype=np.int64)
    for t in range(n_picks):
        pick = int(np.argmax(gain))  # the first maximum: ties go to the lowest index
        order[t] = pick
        gain += mu
        gain -= column(pick)
        gain[pick] = -np.inf
    return order


def _kernel_columns(a: torch.Tensor) -> Callable[[int], np.ndarray]:
    """c -> k(x, x_c) for every x, as exp(a_c . b_x) over b stored feature-major (a streaming scan)."""
    b_t = _swap_last(a).T.contiguous()

    def column(c: int) -> np.ndarray:
        values = (a[c] @ b_t).numpy()
        return np.exp(values, out=values)

    return column


def _exact_order(a: torch.Tensor, n_picks: int, max_gram_bytes: int) -> np.ndarray:
    """Exact herding: from the kernel matrix when it fits in `max_gram_bytes`, else column by column."""
    n = len(a)
    if n * n * a.element_size() <= max_gram_bytes:
        gram = _gram(a)
        mu = gram.sum(1).double().numpy() / n
        return _greedy(mu, gram.numpy().__getitem__, n_picks)  # symmetric: row c is column c
    return _greedy(_mean_kernel(a), _kernel_columns(a), n_picks)


def _landmark_mean_kernel(a: torch.Tensor, sample: int, seed: int) -> np.ndarray:
    """mu(x) ~= (1/m) sum_l k(x, x_l) over m = `sample` landmarks drawn with the seed (stream 1).

    Unbiased, with an error of about std(k) / sqrt(m). As many random Fourier features
    (Rahimi & Recht 2007) cost twice as much (two passes) and, on 5,000 x 16 Gaussian data,
    were 6x less accurate: enough to make the herded prefix worse than a random one.
    """
    n = len(a)
    landmarks = np.random.default_rng([seed, 1]).choice(n, min(n, sample), replace=False)
    b_landmarks = _swap_last(a[np.sort(landmarks)]).T.contiguous()
    mu = np.empty(n, dtype=np.float32)
    for rows in _blocks(n, _ROWS):
        mu[rows] = torch.mm(a[rows], b_landmarks).exp_().mean(1).numpy()
    return mu


def _approx_order(
    x: np.ndarray, n_picks: int, sigma: float, mean_sample: int, scan_dim: int, seed: int
) -> np.ndarray:
    """Herding on float32 factors in at most `scan_dim` principal dimensions, mu from landmarks.

    The principal axes come from `_AXES_SAMPLE` rows drawn with the seed (stream 2).
    """
    axes = None
    if x.shape[1] > scan_dim:
        rows = np.random.default_rng([seed, 2]).choice(len(x), min(len(x), _AXES_SAMPLE), False)
        axes = principal_axes(x[np.sort(rows)], scan_dim)
    a = _exponent_factors(x, _column_mean(x), sigma, axes, np.dtype(np.float32))
    mu = _landmark_mean_kernel(a, mean_sample, seed)
    return _greedy(mu, _kernel_columns(a), n_picks)


def herding_order(
    x: np.ndarray,
    n_picks: int | None = None,
    *,
    bandwidth: float | None = None,
    method: str = "exact",
    median_sample: int = 2000,
    mean_sample: int = 2048,
    scan_dim: int = 64,
    seed: int = 0,
    max_gram_bytes: int = GRAM_MAX_BYTES,
) -> np.ndarray:
    """The first `n_picks` (default all) rows of `x` [N, d] in kernel herding order (Chen et al. 2010).

    RBF kernel k(x, y) = exp(-|x - y|^2 / (2 sigma^2)), sigma = `bandwidth` or the median
    heuristic on `median_sample` rows drawn with `seed`. "exact" herds with the exact kernel
    (float32, or float64 when x is float64); "approx" is for very large pools: the pool-mean
    term from `mean_sample` landmarks drawn with `seed`, and each pick's kernel column from
    float32 inner products in at most `scan_dim` principal dimensions (with exact norms).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    x = np.asarray(x)
    if x.ndim != 2 or not len(x) or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"x must be a non-empty float array [N, d], got {x.dtype} {x.shape}")
    n_picks = len(x) if n_picks is None else n_picks
    if not 0 <= n_picks <= len(x):
        raise ValueError(f"n_picks must be between 0 and the {len(x)} rows of x, got {n_picks}")
    sigma = median_bandwidth(x, median_sample, seed) if bandwidth is None else float(bandwidth)
    if method == "approx":
        return _approx_order(x, n_picks, sigma, mean_sample, scan_dim, seed)
    a = _exponent_factors(x, _column_mean(x), sigma, None, _floating(x))
    return _exact_order(a, n_picks, max_gram_bytes)


# -- the sampler -------------------------------------------------------------------------------


def _checked_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _digest(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str((array.dtype, array.shape)).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _image_batches(pool: PoolView, size: int = 256) -> Iterator[np.ndarray]:
    for rows in _blocks(len(pool), size):
        yield np.asarray(pool.raw(np.arange(rows.start, rows.stop)), dtype=np.float32)


def _lite0_features(pool: PoolView, size: int) -> np.ndarray:
    """Pooled ImageNet features [N, 1280] of EfficientNet-Lite0 (offline weights), images resized to `size`."""
    embedder = TimmEmbedder("efficientnet_lite0", input_px=size)
    embedder.bind(device="cpu", seed=0)
    return np.concatenate([embedder.embed(batch) for batch in _image_batches(pool)])


def _next_positions(order: np.ndarray, indices: np.ndarray, k: int) -> np.ndarray:
    """Positions in `indices` of the first k dataset indices of `order` that are still there."""
    wanted = order[np.isin(order, indices)][:k]
    sorter = np.argsort(indices, kind="stable")
    return sorter[np.searchsorted(indices, wanted, sorter=sorter)]


@samplers.register("kernel_herding", "kh")
class KernelHerding(Sampler):
    """The pool in kernel-herding order, fixed before labelling (Chen et al. 2010; Holmes et al. 2023).

    The first pool an instance sees (the whole pool, in round 0) is embedded, reduced by PCA and
    herded once, without labels or a model; every round then returns the next k items of that
    order still in the pool. Embeddings and orders are cached on disk (`hitlbench.core.cache`), so
    the cells of a suite share them.

    - `embedder`: "efficientnet_lite0" (pooled ImageNet features [N, 1280] of the uncropped
      images, offline weights) or "pixels" (the raw pixels, cheap).
    - `embed_size`: the side images are resized to for EfficientNet-Lite0 (`TimmEmbedder`),
      which downsamples 32x: at its native 224 px (default) a 7 x 7 final feature map resolves
      an item that fills part of the image; 64 px (a 2 x 2 map, 1/12 of the compute) carried
      little class information on cluttered canvases (`benchmarks/herding_features.py`).
    - `pca`: principal components kept (None: all).
    - `bandwidth`: the RBF's sigma; None: the median pairwise distance on `median_sample`
      items drawn with `seed`.
    - `method`: "exact", or "approx" for very large pools (the mean term from `mean_sample`
      landmarks drawn with `seed`); see `herding_order`.
    """

    uses_model = False
    # 2: features from the shared `TimmEmbedder` (antialiased only when shrinking), 224 px
    version = "2"

    def __init__(
        self,
        embedder: str = "efficientnet_lite0",
        embed_size: int = 224,
        pca: int | None = 64,
        bandwidth: float | None = None,
        median_sample: int = 2000,
        method: str = "exact",
        mean_sample: int = 2048,
        seed: int = 0,
    ):
        if embedder not in EMBEDDERS:
            raise ValueError(f"embedder must be one of {', '.join(EMBEDDERS)}, got {embedder!r}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        _checked_int("embed_size", embed_size, 32)
        if pca is not None:
            _checked_int("pca", pca, 1)
        if bandwidth is not None and (
            isinstance(bandwidth, bool) or not isinstance(bandwidth, int | float) or bandwidth <= 0
        ):
            raise ValueError(f"bandwidth must be a positive number or None, got {bandwidth!r}")
        _checked_int("median_sample", median_sample, 2)
        _checked_int("mean_sample", mean_sample, 1)
        _checked_int("seed", seed, 0)
        self.embedder = embedder
        self.embed_size = embed_size
        self.pca = pca
        self.bandwidth = bandwidth
        self.median_sample = median_sample
        self.method = method
        self.mean_sample = mean_sample
        self.seed = seed
        self._order: np.ndarray | None = None  # dataset indices, herding order

    def select(self, pool, k, *, model, rng):
        if self._order is None or not np.isin(pool.indices, self._order).all():
            self._order = pool.indices[self.order(pool)]
        return _next_positions(self._order, pool.indices, k)

    def embed(self, pool: PoolView) -> np.ndarray:
        """Features [N, D] of the pool's uncropped images; EfficientNet-Lite0's are cached on disk."""
        if self.embedder == "pixels":
            return np.concatenate([b.reshape(len(b), -1) for b in _image_batches(pool)])
        images = hashlib.sha256()
        for batch in _image_batches(pool):
            images.update(batch.tobytes())
        key = {
            "embedder": self.embedder,
            "embed_size": self.embed_size,
            "indices": _digest(np.asarray(pool.indices, dtype=np.int64)),
            "images": images.hexdigest(),
            "version": self.version,
        }

        def compute() -> dict[str, np.ndarray]:
            return {"features": _lite0_features(pool, self.embed_size)}

        return cached_arrays("embeddings", key, compute)["features"]

    def order(self, pool: PoolView) -> np.ndarray:
        """Positions of the whole pool in herding order, computed once and cached on disk."""
        features = self.embed(pool)
        key = {
            "features": _digest(features),
            "pca": self.pca,
            "bandwidth": self.bandwidth,
            "median_sample": self.median_sample,
            "method": self.method,
            "mean_sample": self.mean_sample,
            "seed": self.seed,
            "version": self.version,
        }
        return cached_arrays("herding_order", key, lambda: {"order": self._herd(features)})["order"]

    def _herd(self, features: np.ndarray) -> np.ndarray:
        if self.pca is not None and self.pca < features.shape[1]:
            features = pca_project(features, self.pca)
        return herding_order(
            features,
            bandwidth=self.bandwidth,
            method=self.method,
            median_sample=self.median_sample,
            mean_sample=self.mean_sample,
            seed=self.seed,
        )
