"""Holdout metrics and the effort summaries of a run (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred))) if len(y_true) else float("nan")


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unweighted mean F1 over the classes present in the truth or the predictions."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    scores = []
    for c in np.union1d(y_true, y_pred):
        tp = np.sum((y_pred == c) & (y_true == c))
        denom = np.sum(y_pred == c) + np.sum(y_true == c)
        scores.append(2.0 * tp / denom if denom else 0.0)
    return float(np.mean(scores)) if scores else float("nan")


def aulc_effort(effort_cum: Sequence[float], acc: Sequence[float], budget: float) -> float:
    """Area under accuracy vs cumulative effort up to `budget`, divided by `budget`.

    Accuracy is a step function: 0 before the first round's effort is spent, then each round's
    holdout accuracy until the next round's effort; the last value holds up to the budget.
    """
    if budget <= 0:
        raise ValueError(f"effort budget must be > 0, got {budget}")
    edges = np.minimum(np.append(np.asarray(effort_cum, float), budget), budget)
    return float(np.sum(np.asarray(acc, float) * np.diff(edges)) / budget)


def effort_to_reach(
    effort_cum: Sequence[float], acc: Sequence[float], target: float
) -> float | None:
    """The cumulative effort when accuracy first reached `target`, or None if it never did."""
    for spent, value in zip(effort_cum, acc, strict=True):
        if value >= target:
            return float(spent)
    return None
