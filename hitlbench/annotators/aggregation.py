"""Several people's answers to one item turned into one training label.

`majority_vote` is hitlbench's own (ties broken at random with the oracle's stream); Dawid–Skene
(Dawid & Skene 1979), GLAD (Whitehill et al. 2009) and MACE (Hovy et al. 2013) come from
crowd-kit, an optional extra: `pip install 'hitlbench[crowd]'`.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..types import HitlbenchError

METHODS = ("majority_vote", "dawid_skene", "glad", "mace")
CROWD_KIT = {"dawid_skene": "DawidSkene", "glad": "GLAD", "mace": "MACE"}


def majority_vote(
    items: np.ndarray, labels: np.ndarray, n_classes: int, rng: np.random.Generator
) -> dict[int, int]:
    """{item: the most frequent label among its answers}, a tie drawn at random."""
    out = {}
    for item in np.unique(items):
        counts = np.bincount(labels[items == item], minlength=n_classes)
        top = np.flatnonzero(counts == counts.max())
        out[int(item)] = int(top[0] if len(top) == 1 else rng.choice(top))
    return out


def crowd_kit(
    method: str, items: np.ndarray, workers: np.ndarray, labels: np.ndarray, seed: int
) -> dict[int, int]:
    """{item: label} from crowd-kit's `method` fitted on every answer given (deterministic)."""
    try:
        import pandas as pd
        from crowdkit import aggregation
    except ImportError:
        raise HitlbenchError(
            f"aggregation {method!r} needs crowd-kit: pip install 'hitlbench[crowd]' "
            "(majority_vote needs nothing more)"
        ) from None
    model = getattr(aggregation, CROWD_KIT[method])
    model = model(random_state=seed) if method == "mace" else model()
    frame = pd.DataFrame({"task": items, "worker": workers, "label": labels})
    with warnings.catch_warnings():  # crowd-kit's own pandas deprecations, nothing of ours
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        fitted = model.fit_predict(frame)
    return {int(k): int(v) for k, v in fitted.items()}


def aggregate(
    method: str,
    items: np.ndarray,
    workers: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    rng: np.random.Generator,
) -> dict[int, int]:
    """{item: aggregated label} by `method` (one of `METHODS`) over all the answers given.

    `items`, `workers` and `labels` are int arrays [n], one answer each (unsure answers left
    out). With no answer at all (n = 0: everyone unsure) no item has a label and the result is
    {} for every method, where crowd-kit's GLAD and MACE would divide by zero; the loop then
    refuses a round that leaves nothing to train on (`LoopState.take`).
    """
    if not len(items):
        return {}
    if method == "majority_vote":
        return majority_vote(items, labels, n_classes, rng)
    return crowd_kit(method, items, workers, labels, int(rng.integers(2**31)))
