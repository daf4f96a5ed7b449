"""Verdicts on paired comparisons with a baseline: the one statistics code every leaderboard uses.

For a method and a metric, the pairs are the seeds both the method and the baseline have a value
for (a seed fixes the split, the pool and the initial weights for every method, so the per-seed
difference method - baseline is the unit of evidence). From those differences:

- the mean difference and its 95 % t-interval;
- the paired t-test's two-sided p-value (scipy), and its Holm adjustment over the family "all
  comparisons with the baseline for one metric in one table" (statsmodels' `multipletests`);
- equivalence by TOST at level 0.05: two one-sided paired t-tests (scipy) against the margin
  (-m, +m) the suite states, Holm-adjusted over the same table's TOST tests of that metric (a
  family of their own); and the smallest margin the seeds at hand could have shown equivalent
  (the largest absolute bound of the 90 % t-interval);
- what the seeds could have seen (`power`): the smallest difference detectable with power 0.8,
  and the seeds a stated effect (the paper's, else the margin) needs; an `inconclusive` whose
  detectable difference exceeds the stated effect is `underpowered`;
- the verdict, in this order: with fewer than `MIN_SEEDS` seeds on either side,
  `inconclusive (n = k)`; `identical` when every paired difference is exactly 0 (the two are
  the same by construction: such a comparison leaves both families and is never a finding);
  `better` or `worse` (by the metric's direction; `higher` or `lower` for a metric with none)
  if the Holm-adjusted p < 0.05, written `better, within margin` when the adjusted TOST rejects
  too; else `equivalent` if the adjusted TOST rejects; else `inconclusive`.

A comparison whose differences repeat an earlier one's in the same family (the same seeds and
the same values: two methods that differ only in what the metric cannot see) is counted once
in each family and names the one it repeats (`same_as`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

from . import power

ALPHA = 0.05
MIN_SEEDS = 5
IDENTICAL = "identical"
DIFFERENCES = ("better", "worse", "higher", "lower")
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
    p_holm: float | None  # None outside the family (identical, a repeat, fewer than 2 pairs)
    margin: float | None  # the TOST margin, in the metric's units
    p_tost: float | None
    p_tost_holm: float | None
    min_margin: float | None  # the smallest margin TOST could reject at ALPHA with these pairs
    detectable: float | None  # smallest difference detectable with power 0.8 (`power`)
    effect: (
        float | None
    )  # the stated effect the seeds are judged against (the paper's, or the margin)
    seeds_difference: int | None  # pairs the difference test needs to detect `effect`
    seeds_equivalence: int | None  # pairs TOST needs to show equivalence within the margin
    same_as: Any = None  # the key of the comparison whose differences this one repeats
    verdict: str = "inconclusive"

    @property
    def underpowered(self) -> bool:
        """Nothing was found, and the seeds could not have detected the stated effect (power
        0.8): an `inconclusive` that says nothing about whether the effect is there (one with
        too few seeds for any verdict, `inconclusive (n = k)`, says so already)."""
        if self.verdict != "inconclusive":
            return False
        if self.detectable is None or self.effect is None:
            return False
        return self.detectable > abs(self.effect)

    @property
    def label(self) -> str:
        """The verdict as printed: with `, underpowered` where the seeds were too few."""
        return f"{self.verdict}, underpowered" if self.underpowered else self.verdict

    @property
    def detected(self) -> bool:
        """The difference test rejected (after Holm)."""
        return self.verdict.split(",")[0] in DIFFERENCES


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
    identical: bool = False,
) -> str:
    """The verdict in its precedence; `p_holm` and `p_tost` Holm-adjusted; `direction` +1 when
    higher is better, -1 when lower is, 0 when neither; `n` the fewer seeds of the two sides;
    `identical` when every paired difference is exactly 0."""
    if n < MIN_SEEDS:
        return f"inconclusive (n = {n})"
    if identical:
        return IDENTICAL
    equivalent = p_tost is not None and p_tost < ALPHA
    if p_holm is not None and p_holm < ALPHA and diff:
        if direction == 0:
            found = "higher" if diff > 0 else "lower"
        else:
            found = "better" if diff * direction > 0 else "worse"
        return f"{found}, within margin" if equivalent else found
    return "equivalent" if equivalent else "inconclusive"


def _differences(
    pairs: Mapping[K, tuple[Mapping[object, float], Mapping[object, float]]],
) -> dict[K, tuple[tuple, np.ndarray]]:
    """Per key: (the paired seeds, method - baseline on each)."""
    found = {}
    for key, (base, values) in pairs.items():
        seeds = tuple(sorted(set(values) & set(base), key=repr))
        found[key] = (seeds, np.array([values[s] - base[s] for s in seeds], float))
    return found


def _repeats(diffs: Mapping[K, tuple[tuple, np.ndarray]]) -> dict[K, K]:
    """Each key whose seeds and differences repeat an earlier key's -> that earlier key."""
    first: dict[tuple, K] = {}
    repeats = {}
    for key, (seeds, d) in diffs.items():
        if not len(d):  # no pairs: nothing to repeat
            continue
        found = first.setdefault((seeds, tuple(d.tolist())), key)
        if found != key:
            repeats[key] = found
    return repeats


def _holm_family(pvalues: Mapping[K, float]) -> dict[K, float]:
    return dict(zip(pvalues, holm(list(pvalues.values())), strict=True))


def compare(
    pairs: Mapping[K, tuple[Mapping[object, float], Mapping[object, float]]],
    *,
    margins: Mapping[K, float | None],
    direction: int,
    effects: Mapping[K, float | None] | None = None,
) -> dict[K, Comparison]:
    """Every comparison of one family, Holm-adjusted together.

    `pairs` maps a key (a method, or a method and a column) to (the baseline's values, the
    method's values), each {seed key: value} with the seeds that lack a value left out;
    `margins` gives each key's TOST margin in the metric's units (None: no equivalence test);
    `effects` each key's stated effect (the paper's; the margin where none is given).
    """
    diffs = _differences(pairs)
    repeats = _repeats(diffs)
    family = [
        key for key, (_, d) in diffs.items() if len(d) >= 2 and d.any() and key not in repeats
    ]
    p_holm = _holm_family({key: paired_p(diffs[key][1]) for key in family})
    tosts = {k: tost_p(diffs[k][1], margins[k]) for k in family if margins.get(k) is not None}
    p_tost_holm = _holm_family(tosts)
    for key, first in repeats.items():
        p_holm[key], p_tost_holm[key] = p_holm.get(first), p_tost_holm.get(first)
    effects = effects or {}
    return {
        key: _comparison(
            pairs[key], d, margins.get(key), effects.get(key), direction,
            p_holm.get(key), p_tost_holm.get(key), repeats.get(key),
        )
        for key, (_, d) in diffs.items()
    }  # fmt: skip


def _comparison(
    pair: tuple[Mapping[object, float], Mapping[object, float]],
    d: np.ndarray,
    margin: float | None,
    effect: float | None,
    direction: int,
    p_holm: float | None,
    p_tost_holm: float | None,
    same_as: Any,
) -> Comparison:
    """One comparison from its paired differences `d` and its family's adjusted p-values."""
    base, values = pair
    enough = len(d) >= 2
    sd = power.spread(d)
    effect = margin if effect is None else effect
    diff = float(d.mean()) if len(d) else None
    n = min(len(values), len(base), len(d))
    identical = bool(len(d)) and not d.any()
    if identical:  # nothing to detect, no question to plan seeds for
        sd = effect = None
    return Comparison(
        n_method=len(values),
        n_baseline=len(base),
        n_pairs=len(d),
        diff=diff,
        ci=t_interval(d) if enough else None,
        p=paired_p(d) if enough else None,
        p_holm=p_holm,
        margin=margin,
        p_tost=tost_p(d, margin) if enough and margin is not None else None,
        p_tost_holm=p_tost_holm,
        min_margin=smallest_margin(d) if enough else None,
        detectable=power.detectable(len(d), sd),
        effect=effect,
        seeds_difference=power.seeds_for_difference(effect, sd) if effect else None,
        seeds_equivalence=power.seeds_for_equivalence(margin, sd),
        same_as=same_as,
        verdict=verdict(diff, p_holm, p_tost_holm, n, direction, identical),
    )


def ci_half_width(values: Sequence[float]) -> float:
    """Half-width of the 95 % t-interval of the mean of `values`; 0 for fewer than two."""
    if len(values) < 2:
        return 0.0
    low, high = t_interval(values)
    return (high - low) / 2
