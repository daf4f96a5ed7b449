"""Inter-annotator agreement: Krippendorff's alpha (nominal), from the `krippendorff` package,
which allows a different number of raters per item."""

from __future__ import annotations

from itertools import combinations

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
    for item n, -1 where they gave none) and the true labels `truth` [N]:

    - `wrong_agreement`: over every pair of annotators who both answered one item wrongly, the
      share that gave the same wrong label (independent errors spread evenly over C - 1
      classes give 1 / (C - 1));
    - `error_correlation`: the phi coefficient (Matthews, scikit-learn) between two annotators
      being wrong on the same item, computed per pair of annotators and averaged weighted by
      their items in common (0 for independent errors, whatever each one's error rate; a
      pair in which either is always right, or always wrong, has none and is left out).

    Each is None where undefined (no pair both wrong; no pair with a phi).
    """
    from sklearn.metrics import matthews_corrcoef

    answers, truth = np.asarray(answers), np.asarray(truth)
    same = both_wrong = 0
    phis, weights = [], []
    for a, b in combinations(range(answers.shape[1]), 2):
        shared = (answers[:, a] >= 0) & (answers[:, b] >= 0)
        x, y, t = answers[shared, a], answers[shared, b], truth[shared]
        wrong_x, wrong_y = x != t, y != t
        both = wrong_x & wrong_y
        same, both_wrong = same + int((x[both] == y[both]).sum()), both_wrong + int(both.sum())
        if 0 < wrong_x.sum() < len(t) and 0 < wrong_y.sum() < len(t):
            phis.append(matthews_corrcoef(wrong_x, wrong_y))
            weights.append(len(t))
    agreement = same / both_wrong if both_wrong else None
    correlation = float(np.average(phis, weights=weights)) if phis else None
    return {
        "wrong_agreement": None if agreement is None else round(agreement, 6),
        "error_correlation": None if correlation is None else round(correlation, 6),
    }
