"""The shared statistics of every leaderboard, on known examples worked out by hand."""

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from hitlbench.harness.records import LeaderboardError
from hitlbench.harness.verdicts import (
    compare,
    holm,
    paired_p,
    smallest_margin,
    t_interval,
    tost_p,
    verdict,
)
from hitlbench.publish.comparisons import break_even, margin_of


def test_holm_on_a_known_example():
    # sorted p: 0.01 (x3) = 0.03; 0.03 (x2) = 0.06; 0.04 (x1) = 0.04, raised to 0.06 (monotone)
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.01, 0.04, 0.03]) == pytest.approx(
        multipletests([0.01, 0.04, 0.03], method="holm")[1]
    )
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_tost_on_a_known_example():
    diffs = [1.0, 2.0, 3.0, 4.0, 5.0]  # mean 3, sd sqrt(2.5), se sqrt(0.5)
    se = np.sqrt(0.5)
    # the binding one-sided test is against +margin: t = (3 - m) / se with 4 degrees of freedom
    assert tost_p(diffs, 4.0) == pytest.approx(stats.t.cdf((3 - 4) / se, 4))  # 0.115
    assert tost_p(diffs, 4.0) == pytest.approx(0.11509982, rel=1e-6)
    assert tost_p(diffs, 5.0) == pytest.approx(stats.t.cdf((3 - 5) / se, 4))  # 0.0237
    assert tost_p(diffs, 5.0) < 0.05 < tost_p(diffs, 4.0)
    # the smallest margin TOST rejects: the 90 % interval's far bound, 3 + t(0.95, 4) * se
    assert smallest_margin(diffs) == pytest.approx(3 + stats.t.ppf(0.95, 4) * se)
    assert tost_p(diffs, smallest_margin(diffs)) == pytest.approx(0.05)
    low, high = t_interval(diffs)
    assert (low, high) == pytest.approx(stats.t.interval(0.95, 4, loc=3, scale=se))


def test_paired_p_matches_scipy_and_degenerate_differences_are_defined():
    x, y = [5.0, 7.0, 6.0, 9.0, 8.0], [4.0, 5.0, 6.0, 6.0, 6.0]
    assert paired_p(np.subtract(x, y)) == pytest.approx(stats.ttest_rel(x, y).pvalue)
    assert paired_p([0.0] * 5) == 1.0  # no difference at all
    assert paired_p([2.0] * 5) == 0.0  # the same difference on every seed
    assert tost_p([0.0] * 5, 0.1) == 0.0 and tost_p([2.0] * 5, 1.0) == 1.0


def test_the_verdict_follows_its_precedence():
    # equivalence first, even where the difference is also significant
    assert verdict(-0.1, p_holm=0.001, p_tost=0.01, n=5, direction=-1) == "equivalent"
    assert verdict(-5.0, p_holm=0.001, p_tost=0.9, n=5, direction=-1) == "better"
    assert verdict(5.0, p_holm=0.001, p_tost=0.9, n=5, direction=-1) == "worse"
    assert verdict(0.2, p_holm=0.001, p_tost=0.9, n=5, direction=1) == "better"
    assert verdict(0.2, p_holm=0.001, p_tost=0.9, n=5, direction=0) == "higher"
    assert verdict(-5.0, p_holm=0.051, p_tost=0.9, n=5, direction=-1) == "inconclusive"
    # fewer than 5 seeds on either side: inconclusive whatever the p-values
    assert verdict(-5.0, p_holm=1e-9, p_tost=1e-9, n=3, direction=-1) == "inconclusive (n = 3)"


def test_compare_adjusts_one_family_together():
    base = {s: 10.0 + s for s in range(6)}
    methods = {
        "a": {s: 10.0 + s - 3 + 0.1 * (s % 2) for s in range(6)},
        "b": {s: 10.0 + s + 0.5 * (-1) ** s for s in range(6)},
    }
    found = compare({m: (base, v) for m, v in methods.items()}, margins={}, direction=-1)
    raw = [paired_p([methods[m][s] - base[s] for s in range(6)]) for m in ("a", "b")]
    assert [found[m].p for m in ("a", "b")] == pytest.approx(raw)
    assert [found[m].p_holm for m in ("a", "b")] == pytest.approx(holm(raw))
    assert found["a"].verdict == "better" and found["b"].verdict == "inconclusive"
    assert found["a"].margin is None and found["a"].p_tost is None  # no margin, no TOST


def test_margins_are_numbers_or_shares_of_the_baseline_mean():
    assert margin_of("total_corrections", None, 200.0) == pytest.approx(6.0)  # 3 % by default
    assert margin_of("final_accuracy", {"final_accuracy": 0.02}, 0.8) == 0.02
    assert margin_of("x", {"default": "10%"}, -50.0) == pytest.approx(5.0)
    with pytest.raises(LeaderboardError, match="expected a number >= 0 or 'N%'"):
        margin_of("x", {"x": -1}, 1.0)


def effort_run(seed, total, box_correct, cost=3.5):
    return {
        "spec": {"seed": seed, "effort": {"box_correct": cost}, "dataset": {"name": "d"}},
        "summary": {"effort_s_total": total, "effort_counts": {"box_correct": box_correct}},
    }


def test_break_even_unit_costs_come_from_the_counts():
    base = [effort_run(s, 1000.0, 0) for s in range(3)]
    # 200 s more effort now, from 100 more box corrections at 3.5 s: equal at 3.5 - 200/100 = 1.5
    more = [effort_run(s, 1200.0, 100) for s in range(3)]
    assert break_even(base, more, "box_correct") == "< 1.5 s"
    much_more = [effort_run(s, 1400.0, 100) for s in range(3)]  # still dearer at 0 s a box
    assert break_even(base, much_more, "box_correct") == "never"
    cheaper = [effort_run(s, 900.0, 100) for s in range(3)]  # 100 s cheaper now
    assert break_even(base, cheaper, "box_correct") == "< 4.5 s"  # 3.5 + 100/100
    fewer = [effort_run(s, 1100.0, -100) for s in range(3)]  # counts below the baseline's
    assert break_even(base, fewer, "box_correct") == "> 4.5 s"
    same = [effort_run(s, 1100.0, 0) for s in range(3)]
    assert break_even(base, same, "box_correct") == "no difference in count"
