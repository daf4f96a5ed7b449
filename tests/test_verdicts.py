"""The shared statistics of every leaderboard, on known examples worked out by hand."""

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from hitlbench.harness import power
from hitlbench.harness.questions import parse_questions
from hitlbench.harness.verdicts import (
    compare,
    holm,
    paired_p,
    smallest_margin,
    t_interval,
    tost_p,
    verdict,
)
from hitlbench.publish.comparisons import break_even
from hitlbench.types import HitlbenchError


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
    # a difference that the adjusted test finds wins; within the margin it says so
    assert verdict(-0.1, p_holm=0.001, p_tost=0.01, n=5, direction=-1) == "better, within margin"
    assert verdict(-5.0, p_holm=0.001, p_tost=0.9, n=5, direction=-1) == "better"
    assert verdict(5.0, p_holm=0.001, p_tost=0.9, n=5, direction=-1) == "worse"
    assert verdict(0.2, p_holm=0.001, p_tost=0.9, n=5, direction=1) == "better"
    assert verdict(0.2, p_holm=0.001, p_tost=0.9, n=5, direction=0) == "higher"
    assert verdict(-0.1, p_holm=0.2, p_tost=0.01, n=5, direction=-1) == "equivalent"
    assert verdict(-5.0, p_holm=0.051, p_tost=0.9, n=5, direction=-1) == "inconclusive"
    assert verdict(0.0, p_holm=None, p_tost=None, n=5, direction=1, identical=True) == "identical"
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


def test_an_all_zero_comparison_is_identical_and_leaves_the_family():
    base = {s: 10.0 + s for s in range(5)}
    same = dict(base)  # every paired difference exactly 0: the same by construction
    worse = {s: v + 1.0 + 0.2 * (s % 2) for s, v in base.items()}
    close = {s: v + (0.8 if s % 2 else 0.5) for s, v in base.items()}
    pairs = {"same": (base, same), "worse": (base, worse), "close": (base, close)}
    found = compare(pairs, margins=dict.fromkeys(pairs, 0.01), direction=-1)
    assert found["same"].verdict == "identical" and found["same"].p_holm is None
    assert found["same"].p_tost_holm is None and not found["same"].detected
    # Holm over the two real comparisons only: with "same" in the family each p would be
    # multiplied by 3 instead of 2
    raw = [paired_p([pairs[m][1][s] - base[s] for s in base]) for m in ("worse", "close")]
    assert [found["worse"].p_holm, found["close"].p_holm] == pytest.approx(holm(raw))
    assert holm(raw) != pytest.approx(holm([*raw, 1.0])[:2])


def test_a_repeated_difference_vector_is_counted_once():
    base = {s: float(s) for s in range(5)}
    a = {s: v - 1.0 - 0.1 * s for s, v in base.items()}
    twin = dict(a)  # another method whose differences are the same on every seed
    other = {s: v + 0.3 * (-1) ** s + 0.2 for s, v in base.items()}
    found = compare(
        {"a": (base, a), "twin": (base, twin), "other": (base, other)},
        margins={},
        direction=-1,
    )
    raw = [paired_p([m[s] - base[s] for s in base]) for m in (a, other)]
    assert found["twin"].same_as == "a" and found["a"].same_as is None
    assert [found["a"].p_holm, found["other"].p_holm] == pytest.approx(holm(raw))
    assert found["twin"].p_holm == found["a"].p_holm and found["twin"].verdict == "better"


def test_holm_adjusting_tost_turns_a_lone_equivalence_inconclusive():
    base = {s: 100.0 for s in range(5)}
    near = {s: 100.0 + d for s, d in enumerate([0.2, -0.3, 0.5, 0.1, -0.1])}
    noisy = {s: 100.0 + d for s, d in enumerate([3.0, -2.5, 2.0, -3.5, 1.0])}
    margin = 0.4  # p (TOST) of `near` alone: 0.039
    alone = compare({"near": (base, near)}, margins={"near": margin}, direction=1)
    pairs = {"near": (base, near), "noisy": (base, noisy)}
    both = compare(pairs, margins=dict.fromkeys(pairs, margin), direction=1)
    p_near = tost_p([d - 100.0 for d in near.values()], margin)
    p_noisy = tost_p([d - 100.0 for d in noisy.values()], margin)
    assert p_near < 0.05 < holm([p_near, p_noisy])[0]  # the case this test is about
    assert alone["near"].verdict == "equivalent"
    assert both["near"].p_tost_holm == pytest.approx(holm([p_near, p_noisy])[0])
    assert both["near"].verdict == "inconclusive"


def test_both_tests_rejecting_is_a_difference_within_the_margin():
    base = {s: 0.80 for s in range(6)}
    up = {s: 0.80 + d for s, d in enumerate([0.010, 0.012, 0.011, 0.009, 0.010, 0.011])}
    found = compare({"up": (base, up)}, margins={"up": 0.02}, direction=1)
    assert found["up"].p_holm < 0.05 and found["up"].p_tost_holm < 0.05
    assert found["up"].verdict == "better, within margin" and found["up"].detected


def test_the_detectable_difference_matches_statsmodels_and_the_noncentral_t():
    from statsmodels.stats.power import TTestPower

    diffs = [1.0, 3.0, -2.0, 4.0, 0.5, 2.5, -1.0]
    sd, n = float(np.std(diffs, ddof=1)), len(diffs)
    found = power.detectable(n, sd)
    # statsmodels' power at that difference is 0.8 ...
    assert TTestPower().power(found / sd, n, 0.05, alternative="two-sided") == pytest.approx(0.8)
    # ... and so is the noncentral t's, computed here without statsmodels
    ncp, crit = found / sd * np.sqrt(n), stats.t.ppf(0.975, n - 1)
    by_hand = stats.nct.sf(crit, n - 1, ncp) + stats.nct.cdf(-crit, n - 1, ncp)
    assert by_hand == pytest.approx(0.8, abs=1e-6)
    # the seeds a stated effect needs: the fewest whose power reaches 0.8
    needed = power.seeds_for_difference(found, sd)
    assert needed == n
    assert power.seeds_for_difference(found / 2, sd) > n
    # TOST: each one-sided test's power at the margin, the bound 2 p - 1 >= 0.8
    m = power.seeds_for_equivalence(2.0, sd)
    one = TTestPower().power(2.0 / sd, m, 0.05, alternative="larger")
    fewer = TTestPower().power(2.0 / sd, m - 1, 0.05, alternative="larger")
    assert 2 * one - 1 >= 0.8 > 2 * fewer - 1


def test_an_underpowered_comparison_says_so_beside_its_verdict():
    base = {s: 300.0 for s in range(5)}
    spread_out = {s: 300.0 + d for s, d in enumerate([20.0, -15.0, 30.0, -25.0, 5.0])}
    found = compare(
        {"m": (base, spread_out)}, margins={"m": 5.0}, direction=-1, effects={"m": 12.0}
    )
    c = found["m"]
    assert c.effect == 12.0 and c.detectable > 12.0 and c.underpowered
    assert c.label == "inconclusive, underpowered"
    assert c.seeds_difference > 5  # more seeds than ran


def test_margins_state_a_number_in_the_metrics_units_and_a_reason():
    doc = {"margins": {"total_corrections": {"value": 6, "reason": "half the paper's effect"}}}
    margins = parse_questions(doc, "s").margins
    assert margins["total_corrections"].value == 6.0
    bad = [
        ({"total_corrections": "3%"}, "margins.total_corrections"),
        ({"total_corrections": {"value": -1, "reason": "x"}}, "greater than or equal to 0"),
        ({"total_corrections": {"value": 1}}, "reason"),
    ]
    for margins, message in bad:
        with pytest.raises(HitlbenchError, match=message):
            parse_questions({"margins": margins}, "s")


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
