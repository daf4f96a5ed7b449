"""Confusion models of one annotator: row t is the distribution of their answer when the truth is
class t (rows sum to 1).

- `symmetric`: right with probability `accuracy`, else any other class uniformly.
- `similar_classes`: the errors fall on visually similar classes (the other members of the true
  class's group, e.g. Fashion-MNIST's T-shirt, pullover, coat, shirt and dress), uniformly
  elsewhere for a class in no group.
- `with_class_accuracy`: a row rescaled so that class t is answered right with its own accuracy
  (a bias against some classes), the errors keeping their shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..types import HitlbenchError

# Fashion-MNIST's visually similar classes (Xiao et al. 2017's most confused pairs: shirt with
# T-shirt, pullover and coat; sandal, sneaker and ankle boot among the shoes).
FMNIST_SIMILAR = (
    ("T-shirt/top", "Pullover", "Dress", "Coat", "Shirt"),
    ("Sandal", "Sneaker", "Ankle boot"),
)


def symmetric(n_classes: int, accuracy: float) -> np.ndarray:
    """[C, C] float64: `accuracy` on the diagonal, the rest of each row spread evenly."""
    off = (1.0 - accuracy) / (n_classes - 1)
    matrix = np.full((n_classes, n_classes), off)
    np.fill_diagonal(matrix, accuracy)
    return matrix


def similar_classes(
    class_names: Sequence[str], accuracy: float, groups: Sequence[Sequence[str]]
) -> np.ndarray:
    """[C, C]: a class's errors spread over the other classes of its group (uniformly over all
    other classes for a class in no group). Raises `HitlbenchError` for a name not in the task."""
    index = {name: k for k, name in enumerate(class_names)}
    matrix = symmetric(len(class_names), accuracy)
    for group in groups:
        unknown = [name for name in group if name not in index]
        if unknown:
            raise HitlbenchError(
                f"similar classes {list(group)}: {unknown} not among the task's classes "
                f"({', '.join(class_names)})"
            )
        members = [index[name] for name in group]
        for t in members:
            others = [m for m in members if m != t]
            if not others:
                continue
            matrix[t] = 0.0
            matrix[t, t] = accuracy
            matrix[t, others] = (1.0 - accuracy) / len(others)
    return matrix


def with_class_accuracy(
    matrix: np.ndarray, class_names: Sequence[str], accuracies: Mapping[str, float]
) -> np.ndarray:
    """`matrix` with each named class's diagonal set to its own accuracy, the row's errors
    rescaled to the rest (spread evenly where the row had none)."""
    out = matrix.copy()
    index = {name: k for k, name in enumerate(class_names)}
    for name, accuracy in accuracies.items():
        if name not in index:
            raise HitlbenchError(
                f"class_accuracy names {name!r}, not among the task's classes "
                f"({', '.join(class_names)})"
            )
        t = index[name]
        errors = np.delete(out[t], t)
        share = errors / errors.sum() if errors.sum() > 0 else np.full(len(errors), 1 / len(errors))
        out[t] = np.insert(share * (1.0 - accuracy), t, accuracy)
    return out


def draw(matrix: np.ndarray, truth: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """int64 [N]: an answer for each true label, `uniform` ([N] floats in [0, 1)) taken through
    the cumulative distribution of its row of `matrix` (inverse transform sampling)."""
    cumulative = np.cumsum(matrix[np.asarray(truth)], axis=1)
    return np.minimum((np.asarray(uniform)[:, None] > cumulative).sum(axis=1), len(matrix) - 1)


def check(matrix: np.ndarray, n_classes: int, what: str) -> np.ndarray:
    """`matrix` as a [C, C] float64 array of rows that are distributions, or `HitlbenchError`."""
    m = np.asarray(matrix, np.float64)
    if m.shape != (n_classes, n_classes):
        raise HitlbenchError(
            f"{what}: a confusion matrix must be {n_classes}x{n_classes}, got {m.shape}"
        )
    if not (np.isfinite(m).all() and (m >= 0).all() and np.allclose(m.sum(axis=1), 1.0)):
        raise HitlbenchError(
            f"{what}: every row of a confusion matrix must be probabilities summing to 1"
        )
    return m
