"""The k best positions of a score sampler without a full sort: the same as `np.lexsort`'s first
k on random keys with many ties and unanswered rows, and the same picks from `select`."""

from __future__ import annotations

import numpy as np
import pytest

from hitlbench.samplers import samplers
from hitlbench.samplers.base import answered_rows, lexsort_top_k, top_k
from hitlbench.samplers.entropy import EntropySampler
from hitlbench.samplers.margin import MarginSampler
from hitlbench.types import DivergedError, PoolView


def sampler_keys(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tie_break, -scores, answered) as `ScoreSampler.rank` builds them: scores on a coarse
    grid (many ties, -0.0 among them), a third of the rows unanswered (score 0)."""
    answered = rng.random(n) < 0.67
    scores = np.where(answered, rng.integers(-3, 3, n) / 4.0, 0.0)
    return rng.random(n), -scores, answered


@pytest.mark.parametrize("n", [1, 2, 17, 300, 5000])
def test_the_first_k_of_a_full_lexsort(n):
    rng = np.random.default_rng(n)
    keys = sampler_keys(rng, n)
    for k in sorted({0, 1, 2, 7, 100, n // 3, n - 1, n, n + 5}):
        expected = np.lexsort(keys)[:k]
        assert np.array_equal(lexsort_top_k(keys, k), expected), k


def test_ties_on_every_key_keep_position_order():
    rng = np.random.default_rng(1)
    n = 1000
    keys = (rng.integers(0, 2, n).astype(float), np.zeros(n), rng.random(n) < 0.5)
    for k in (1, 10, 499, 500, 501, 999, 1000):
        assert np.array_equal(lexsort_top_k(keys, k), np.lexsort(keys)[:k]), k


@pytest.mark.parametrize("chunk", [1, 7, 64, 5000])
def test_ranked_a_chunk_at_a_time_as_one_full_lexsort(chunk):
    rng = np.random.default_rng(chunk)
    n = 1000
    _, negated, answered = sampler_keys(rng, n)
    scores = (-negated).astype(np.float32)  # a float32 score, compared as float64
    for k in (0, 1, 50, 333, n, n + 3):
        expected = np.lexsort((np.random.default_rng(k).random(n), negated, answered))[:k]
        picked = top_k(scores, answered, k, rng=np.random.default_rng(k), who="t", chunk=chunk)
        assert picked.dtype == np.int64
        assert np.array_equal(picked, expected), (chunk, k)


def test_a_score_that_is_not_finite_is_counted_over_every_chunk_and_refused():
    scores = np.zeros(100)
    scores[[3, 40, 99]] = [np.nan, np.inf, -np.inf]
    with pytest.raises(DivergedError, match="3 of 100 scores are not finite"):
        top_k(scores, np.ones(100, bool), 5, rng=np.random.default_rng(0), who="t", chunk=16)


def test_a_negative_k_is_refused():
    with pytest.raises(ValueError, match="k must be >= 0"):
        lexsort_top_k((np.zeros(3),), -1)
    with pytest.raises(ValueError, match="k must be >= 0"):
        top_k(np.zeros(3), np.ones(3, bool), -1, rng=np.random.default_rng(0), who="t")


class Fixed:
    """A ready model whose probabilities are given: ties, and all-zero (unanswered) rows."""

    ready = True
    whole_images_only = False

    def __init__(self, proba: np.ndarray):
        self.proba = proba

    def predict_proba(self, images, *, items):
        return self.proba[items]


def pool(n: int) -> PoolView:
    def blank(positions):
        return np.zeros((len(positions), 1, 1, 1), np.float32)

    return PoolView(np.arange(n), crops=blank, raw=blank)


@pytest.mark.parametrize("unanswered", [0.0, 0.1])
@pytest.mark.parametrize("name", ["margin", "entropy", "least_confidence"])
def test_select_picks_what_the_full_lexsort_picked(name, unanswered):
    rng = np.random.default_rng(2)
    n = 4000
    p = rng.integers(0, 5, n) / 4.0  # five distinct probabilities: many tied scores
    proba = np.stack([p, 1 - p], axis=1)
    proba[rng.random(n) < unanswered] = 0.0
    sampler = samplers.create(name)
    for k in (1, 50, 399, n):
        picked = sampler.select(pool(n), k, model=Fixed(proba), rng=np.random.default_rng(k))
        draws = np.random.default_rng(k)
        answered = proba.any(axis=1)
        scores = np.zeros(n)
        scores[answered] = sampler.scores(proba[answered])
        expected = np.lexsort((draws.random(n), -scores, answered))[:k]
        assert np.array_equal(picked, expected), k


def test_the_fast_paths_give_what_the_plain_computations_give():
    rng = np.random.default_rng(11)
    proba = rng.dirichlet(np.ones(2), 5000).astype(np.float32)
    proba[::7] = proba[::7, ::-1]  # both orders of the larger class
    proba[::13] = 0.0  # rows the model could not answer
    top2 = np.sort(proba, axis=1)[:, -2:]
    assert np.array_equal(MarginSampler().scores(proba), -(top2[:, 1] - top2[:, 0]))
    p = np.clip(proba, 1e-12, 1.0)
    assert np.array_equal(EntropySampler().scores(proba), -(p * np.log(p)).sum(axis=1))
    for c in (2, 5, 12):
        wide = rng.random((300, c)) * (rng.random((300, 1)) > 0.2)
        assert np.array_equal(answered_rows(wide), wide.any(axis=1))
