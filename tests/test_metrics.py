import pytest
from sklearn.metrics import f1_score

from hitlbench.metrics import accuracy, aulc_effort, effort_to_reach, macro_f1


def test_macro_f1_matches_scikit_learn(rng):
    y, p = rng.integers(0, 5, 200), rng.integers(0, 6, 200)
    assert macro_f1(y, p) == pytest.approx(f1_score(y, p, average="macro"))
    assert accuracy(y, y) == 1.0


def test_aulc_is_a_step_function_up_to_the_budget():
    # 0 until 100 s, 0.5 until 300 s, 0.8 until the 400 s budget
    assert aulc_effort([100, 300], [0.5, 0.8], 400) == pytest.approx((0.5 * 200 + 0.8 * 100) / 400)
    # effort past the budget is cut off
    assert aulc_effort([100, 900], [0.5, 0.8], 400) == pytest.approx(0.5 * 300 / 400)


def test_effort_to_reach_first_crossing_or_none():
    assert effort_to_reach([10, 20, 30], [0.6, 0.75, 0.7], 0.7) == 20
    assert effort_to_reach([10, 20], [0.6, 0.65], 0.7) is None
