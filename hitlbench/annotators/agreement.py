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
