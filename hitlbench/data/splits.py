"""Stratified, seeded splits: holdout vs pool, and a stratified subset of the pool."""

from __future__ import annotations

import numpy as np

from ..types import HitlbenchError


def stratified_take(
    labels: np.ndarray, candidates: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """`n` of `candidates` with class shares as in `candidates` (largest remainder), sorted."""
    if n > len(candidates):
        raise HitlbenchError(f"cannot take {n} items from {len(candidates)}")
    classes, counts = np.unique(labels[candidates], return_counts=True)
    exact = counts * n / len(candidates)
    quota = np.floor(exact).astype(int)
    leftover = n - quota.sum()
    # largest remainders first; ties go to the lower class id
    quota[np.argsort(-(exact - quota), kind="stable")[:leftover]] += 1
    chosen = [
        rng.permutation(candidates[labels[candidates] == c])[:q]
        for c, q in zip(classes, quota, strict=True)
    ]
    return np.sort(np.concatenate(chosen))


def make_split(
    labels: np.ndarray,
    *,
    official_test: np.ndarray | None,
    holdout: float,
    pool_size: int | None,
    rng: np.random.Generator,
    exclude: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(pool, holdout) dataset indices; `official_test` (bool mask) overrides the fraction;
    items where `exclude` (bool mask) is set are in neither."""
    everything = np.arange(len(labels))
    if exclude is not None:
        everything = everything[~np.asarray(exclude, bool)]
    if official_test is not None:
        held = np.flatnonzero(official_test)
    else:
        held = stratified_take(labels, everything, int(round(holdout * len(everything))), rng)
    pool = np.setdiff1d(everything, held)
    if pool_size is not None:
        if pool_size > len(pool):
            raise HitlbenchError(
                f"pool_size {pool_size} is larger than the pool ({len(pool)} items)"
            )
        pool = stratified_take(labels, pool, pool_size, rng)
    return pool, held
