"""Verdicts on paired comparisons with a baseline: the one statistics code every leaderboard uses.

For a method and a metric, the pairs are the seeds both the method and the baseline have a value
for (a seed fixes the split, the pool and the initial weights for every method, so the per-seed
difference method - baseline is the unit of evidence). From those differences:

- the mean difference and its 95 % t-interval;
- the paired t-test's two-sided p-value (scipy), and its Holm adjustment over the family "all
  comparisons with the baseline for one metric in one table" (statsmodels' `multipletests`);
- equivalence by TOST at level 0.05: two one-sided paired t-tests (scipy) against the margin
  (-m, +m) the suite states; and the smallest margin the seeds at hand could have shown
  equivalent (the largest absolute bound of the 90 % t-interval);
- the verdict, in this order: `equivalent` if TOST rejects; else `better` or `worse` (by the
  metric's direction; `higher` or `lower` for a metric with none) if the Holm-adjusted p < 0.05;
  else `inconclusive`. With fewer than `MIN_SEEDS` seeds on either side the verdict is
  `inconclusive (n = k)`, whatever the p-values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

ALPHA = 0.05
MIN_SEEDS = 5
K = TypeVar("K")


@dataclass(frozen=True)
class Comparison:
    """A method against the baseline on one metric; None where too few pairs to compute it."""

    n_method: int  # seeds with a value, each side
    n_baseline: int
    n_pairs: int
    diff: float | None  # mean of method - baseline over the pairs
    ci: tuple[float, float] | None  # its 95 % t-interval
    p: float | None  # paired t-test, two-sided
    p_holm: float | None
    margin: float | None  # the TOST margin, in the metric's units
    p_tost: float | None
    min_margin: float | None  # the smallest margin TOST could reject at ALPHA with these pairs
    verdict: str


def _mean_se(diffs: np.ndarray) -> tuple[float, float]:
    return float(diffs.mean()), float(diffs.std(ddof=1) / np.sqrt(len(diffs)))


def t_interval(diffs: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """The `level` t-interval of the mean of `diffs` (at least 2 values)."""
    d = np.asarray(diffs, float)
    mean, se = _mean_se(d)
    half = float(stats.t.ppf(0.5 + level / 2, len(d) - 1) * se)
    return mean - half, mean + half


def paired_p(diffs: Sequence[float]) -> float:
    """Two-sided p of the paired t-test on `diffs` (1.0 when every difference is 0, 0.0 when
    they are all the same non-zero value)."""
    d = np.asarray(diffs, float)
    mean, se = _mean_se(d)
    if se == 0.0:
        return 1.0 if mean == 0.0 else 0.0
    return float(stats.ttest_1samp(d, 0.0).pvalue)


def tost_p(diffs: Sequence[float], margin: float) -> float:
    """TOST: the larger p of the one-sided paired t-tests of mean > -margin and mean < +margin."""
    d = np.asarray(diffs, float)
    mean, se = _mean_se(d)
    if se == 0.0:
        return 0.0 if abs(mean) < margin else 1.0
    lower = stats.ttest_1samp(d, -margin, alternative="greater").pvalue
    upper = stats.ttest_1samp(d, margin, alternative="less").pvalue
    return float(max(lower, upper))


def smallest_margin(diffs: Sequence[float]) -> float:
    """The smallest margin m for which TOST at ALPHA rejects: TOST rejects exactly when the
    (1 - 2 ALPHA) t-interval lies inside (-m, m)."""
    low, high = t_interval(diffs, 1 - 2 * ALPHA)
    return max(abs(low), abs(high))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (statsmodels' `multipletests(method="holm")`)."""
    if not len(pvalues):
        return []
    return [float(p) for p in multipletests(list(pvalues), alpha=ALPHA, method="holm")[1]]


def verdict(
    diff: float | None,
    p_holm: float | None,
    p_tost: float | None,
    n: int,
    direction: int,
) -> str:
    """The verdict in its precedence; `direction` +1 when higher is better, -1 when lower is,
    0 when neither; `n` the fewer seeds of the two sides."""
    if n < MIN_SEEDS:
        return f"inconclusive (n = {n})"
    if p_tost is not None and p_tost < ALPHA:
        return "equivalent"
    if p_holm is not None and p_holm < ALPHA and diff:
        if direction == 0:
            return "higher" if diff > 0 else "lower"
        return "better" if diff * direction > 0 else "worse"
    return "inconclusive"


def compare(
    pairs: Mapping[K, tuple[Mapping[object, float], Mapping[object, float]]],
    *,
    margins: Mapping[K, float | None],
    direction: int,
) -> dict[K, Comparison]:
    """Every comparison of one family, Holm-adjusted together.

    `pairs` maps a key (a method, or a method and a column) to (the baseline's values, the
    method's values), each {seed key: value} with the seeds that lack a value left out;
    `margins` gives each key's TOST margin in the metric's units (None: no equivalence test).
    """
    diffs = {}
    for key, (base, values) in pairs.items():
        seeds = sorted(set(values) & set(base), key=repr)
        diffs[key] = np.array([values[s] - base[s] for s in seeds], float)
    tested = [key for key, d in diffs.items() if len(d) >= 2]
    adjusted = dict(zip(tested, holm([paired_p(diffs[key]) for key in tested]), strict=True))
    out = {}
    for key, d in diffs.items():
        base, values = pairs[key]
        enough, margin = len(d) >= 2, margins.get(key)
        p_tost = tost_p(d, margin) if enough and margin is not None else None
        diff = float(d.mean()) if len(d) else None
        n = min(len(values), len(base), len(d))
        out[key] = Comparison(
            n_method=len(values),
            n_baseline=len(base),
            n_pairs=len(d),
            diff=diff,
            ci=t_interval(d) if enough else None,
            p=paired_p(d) if enough else None,
            p_holm=adjusted.get(key),
            margin=margin,
            p_tost=p_tost,
            min_margin=smallest_margin(d) if enough else None,
            verdict=verdict(diff, adjusted.get(key), p_tost, n, direction),
        )
    return out


def ci_half_width(values: Sequence[float]) -> float:
    """Half-width of the 95 % t-interval of the mean of `values`; 0 for fewer than two."""
    if len(values) < 2:
        return 0.0
    low, high = t_interval(values)
    return (high - low) / 2
