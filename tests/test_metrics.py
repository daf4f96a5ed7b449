import numpy as np
import pytest
from sklearn.metrics import f1_score

from hitlbench.core.metrics import accuracy, aulc_effort, effort_to_reach, macro_f1


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


def test_explanation_metrics_known_values():
    from hitlbench.core.metrics import explanation_metrics

    maps = np.zeros((2, 4, 4))
    maps[0, :2, :2] = 1.0  # image 0: all mass on the top-left square
    spurious = np.zeros((2, 4, 4), bool)
    spurious[:, :2, :2] = True
    got = explanation_metrics(maps, {"spurious": spurious, "object": ~spurious})
    assert got["zero_map_rate"] == 0.5  # image 1's map is all zero
    assert got["dice_spurious"] == pytest.approx((1.0 + 0.0) / 2)
    assert got["cam_share_spurious"] == pytest.approx((1.0 + 0.0) / 2)
    assert got["dice_object"] == 0.0 and got["cam_share_object"] == 0.0
