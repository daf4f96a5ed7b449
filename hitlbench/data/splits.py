"""Stratified, seeded splits: holdout vs pool (of items, or of groups of near-copies), and a
stratified subset of the pool."""

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


def long_tailed(
    labels: np.ndarray, pool: np.ndarray, ratio: float, rng: np.random.Generator
) -> np.ndarray:
    """A long-tailed subset of `pool` (dataset indices, sorted): class shares falling
    geometrically with the class id, from the smallest class count m in the pool for class 0
    down to m x `ratio` for the last class (at least 1 item each), drawn without replacement.
    Raises HitlbenchError for a ratio outside (0, 1]."""
    if not 0.0 < ratio <= 1.0:
        raise HitlbenchError(f"pool_imbalance must be in (0, 1], got {ratio}")
    classes, counts = np.unique(labels[pool], return_counts=True)
    steps = max(1, len(classes) - 1)
    keep = np.maximum(1, np.round(counts.min() * ratio ** (np.arange(len(classes)) / steps)))
    chosen = [
        rng.permutation(pool[labels[pool] == c])[: int(n)]
        for c, n in zip(classes, keep, strict=True)
    ]
    return np.sort(np.concatenate(chosen))


def grouped_take(
    labels: np.ndarray,
    groups: np.ndarray,
    candidates: np.ndarray,
    share: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Every item of a stratified `share` of the groups among `candidates`, sorted.

    `groups` [N] names each item's group (e.g. the source photo of augmented copies), so all
    copies of one source fall on the same side. The share counts groups, not items: a group is
    one source, and a holdout of sources is what a leak-free score needs. Raises HitlbenchError
    when a group holds items of more than one class (it could not be stratified).
    """
    names, first, inverse = np.unique(groups[candidates], return_index=True, return_inverse=True)
    group_labels = labels[candidates][first]
    mixed = labels[candidates] != group_labels[inverse]
    if mixed.any():
        name = str(names[inverse[np.argmax(mixed)]])
        raise HitlbenchError(
            f"group {name!r} holds items of more than one class; a grouped split needs one "
            "class per group"
        )
    n_held = int(round(share * len(names)))
    chosen = stratified_take(group_labels, np.arange(len(names)), n_held, rng)
    return np.sort(candidates[np.isin(inverse, chosen)])


def make_split(
    labels: np.ndarray,
    *,
    official_test: np.ndarray | None,
    holdout: float,
    pool_size: int | None,
    rng: np.random.Generator,
    exclude: np.ndarray | None = None,
    groups: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(pool, holdout) dataset indices; `official_test` (bool mask) overrides the fraction;
    with `groups` ([N] group names) the holdout is a `holdout` share of the groups
    (`grouped_take`); items where `exclude` (bool mask) is set are in neither."""
    everything = np.arange(len(labels))
    if exclude is not None:
        everything = everything[~np.asarray(exclude, bool)]
    if official_test is not None:
        held = np.flatnonzero(official_test)
    elif groups is not None:
        held = grouped_take(labels, groups, everything, holdout, rng)
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
