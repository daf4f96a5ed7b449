"""Inter-annotator agreement: Krippendorff's alpha (nominal), from the `krippendorff` package,
which allows a different number of raters per item."""

from __future__ import annotations

import numpy as np


def krippendorff_alpha(items: np.ndarray, workers: np.ndarray, labels: np.ndarray) -> float | None:
    """Alpha over the answers given (item, worker, label), or None where it is undefined (no item
    with two answers, or a single label value in all)."""
    import krippendorff

    item_ids, item_pos = np.unique(items, return_inverse=True)
    worker_ids, worker_pos = np.unique(workers, return_inverse=True)
    data = np.full((len(worker_ids), len(item_ids)), np.nan)
    data[worker_pos, item_pos] = labels
    paired = (~np.isnan(data)).sum(axis=0) >= 2
    if not paired.any() or len(np.unique(labels)) < 2:
        return None
    alpha = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    return float(alpha) if np.isfinite(alpha) else None


def error_agreement(answers: np.ndarray, truth: np.ndarray) -> dict[str, float | None]:
    """How alike the annotators' mistakes were, from `answers` int64 [N, K] (annotator k's label
    for item n, -1 where they gave none) and the true labels `truth` [N]; over every pair of
    annotators who answered one item:

    - `wrong_agreement`: of the pairs where both were wrong, the share that gave the same
      wrong label (independent errors spread evenly over C - 1 classes give 1 / (C - 1));
    - `error_correlation`: the phi coefficient (Matthews, scikit-learn) between the two being
      wrong, symmetric in the pair's order (0 for independent errors).

    Each is None where undefined (no pair both wrong; no error, or nothing but errors).
    """
    from sklearn.metrics import matthews_corrcoef

    x, y, t = _answer_pairs(np.asarray(answers), np.asarray(truth))
    wrong_x, wrong_y = x != t, y != t
    both_wrong = wrong_x & wrong_y
    agreement = float((x[both_wrong] == y[both_wrong]).mean()) if both_wrong.any() else None
    correlation = None
    if 0 < wrong_x.sum() + wrong_y.sum() < 2 * len(t):
        one, other = np.concatenate([wrong_x, wrong_y]), np.concatenate([wrong_y, wrong_x])
        correlation = float(matthews_corrcoef(one, other))
    return {
        "wrong_agreement": None if agreement is None else round(agreement, 6),
        "error_correlation": None if correlation is None else round(correlation, 6),
    }


def _answer_pairs(answers: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, ...]:
    """(first's label, second's label, truth), one row per pair of annotators on one item."""
    rows = []
    for a in range(answers.shape[1]):
        for b in range(a + 1, answers.shape[1]):
            both = (answers[:, a] >= 0) & (answers[:, b] >= 0)
            rows.append(np.stack([answers[both, a], answers[both, b], truth[both]]))
    pairs = np.concatenate(rows, axis=1) if rows else np.zeros((3, 0), np.int64)
    return pairs[0], pairs[1], pairs[2]
