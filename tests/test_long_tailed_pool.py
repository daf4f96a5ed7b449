"""A long-tailed pool (`pool_imbalance`, shared by every dataset): class shares fall
geometrically to the stated ratio, the holdout keeps the split's shares, and a run without it
keeps its identity."""

import numpy as np
import pytest

from hitlbench.data.splits import long_tailed
from hitlbench.harness.spec import resolve_spec, run_id
from hitlbench.registries import datasets
from hitlbench.types import HitlbenchError


def test_class_counts_fall_geometrically_to_the_ratio():
    labels = np.repeat(np.arange(5), 200)
    pool = long_tailed(labels, np.arange(1000), 0.01, np.random.default_rng(0))
    counts = np.bincount(labels[pool], minlength=5)
    assert counts.tolist() == [200, 63, 20, 6, 2]  # 200 x 0.01^(r/4), rounded
    assert len(np.unique(pool)) == len(pool)
    with pytest.raises(HitlbenchError, match="pool_imbalance must be in"):
        long_tailed(labels, np.arange(1000), 0.0, np.random.default_rng(0))


def test_a_dataset_builds_a_long_tailed_pool_and_a_balanced_holdout():
    split = datasets.create("digits", pool_imbalance=0.1).build(np.random.default_rng(0))
    pool_counts = np.bincount(split.data.labels[split.pool], minlength=10)
    holdout_counts = np.bincount(split.data.labels[split.holdout], minlength=10)
    assert pool_counts[0] > 9 * pool_counts[-1] and np.all(np.diff(pool_counts) <= 0)
    assert holdout_counts.max() - holdout_counts.min() <= 2


def test_the_default_keeps_run_ids_and_a_ratio_makes_a_new_run():
    plain = resolve_spec({"dataset": "digits"})
    tailed = resolve_spec({"dataset": {"name": "digits", "params": {"pool_imbalance": 0.1}}})
    assert run_id(plain) == run_id(resolve_spec({"dataset": {"name": "digits", "params": {}}}))
    assert run_id(tailed) != run_id(plain)
