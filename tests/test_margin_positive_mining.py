"""Margin + positive mining (Mullapudi et al. 2021, as compared in Stretcu et al. 2023)."""

import numpy as np
import pytest

from hitlbench.samplers import samplers
from hitlbench.types import HitlbenchError, PoolView

PROBA = np.array([[0.5, 0.5], [0.1, 0.9], [0.45, 0.55], [0.9, 0.1], [0.3, 0.7]], np.float32)


class Fixed:
    ready = True

    def __init__(self, proba):
        self.proba = proba

    def predict_proba(self, images, *, items):
        return self.proba[items]


def picked(labeled, proba=PROBA, k=2):
    pool = PoolView(
        np.arange(len(proba)), crops=lambda p: np.zeros((len(p), 1, 2, 2)), raw=None,
        labeled=np.asarray(labeled),
    )  # fmt: skip
    sampler = samplers.create("margin_positive_mining")
    return sampler.select(pool, k, model=Fixed(proba), rng=np.random.default_rng(0)).tolist()


def test_mines_the_most_probable_positives_while_negatives_outnumber_positives():
    assert picked([0, 0, 1]) == [1, 4]


def test_takes_the_smallest_margin_once_positives_are_as_many():
    assert picked([0, 1]) == [0, 2]
    assert picked([1, 1, 0]) == [0, 2]


def test_refuses_a_task_of_more_than_two_classes():
    with pytest.raises(HitlbenchError, match="two-class"):
        picked([0, 1], proba=np.full((4, 3), 1 / 3, np.float32))
