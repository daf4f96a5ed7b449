"""What the seeds at hand could have seen: power of the paired t-test and of TOST.

From the spread of the paired differences (their standard deviation, ddof 1) of a comparison:

- `detectable`: the smallest true mean difference that a two-sided paired t-test at level 0.05
  (unadjusted) detects with power 0.8 on these pairs (statsmodels' `TTestPower`, the
  noncentral t);
- `seeds_for_difference`: how many pairs that test needs to detect a stated effect with power 0.8;
- `seeds_for_equivalence`: how many pairs TOST at level 0.05 needs to show equivalence within a
  margin with power 0.8 if the true difference is 0 (each one-sided test's power from
  `TTestPower`; TOST's power is at least their sum minus 1, the bound used here).

Every figure assumes the observed standard deviation is the true one: with 5 seeds it is itself
uncertain, so these are planning figures, not guarantees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from statsmodels.stats.power import TTestPower

ALPHA = 0.05
POWER = 0.8
MAX_SEEDS = 100_000  # beyond this a question is out of reach; reported as such


def spread(diffs: Sequence[float]) -> float | None:
    """The standard deviation (ddof 1) of paired differences; None for fewer than two."""
    d = np.asarray(diffs, float)
    return float(d.std(ddof=1)) if len(d) >= 2 else None


def detectable(n: int, sd: float | None) -> float | None:
    """The smallest mean difference (the metric's units) a two-sided paired t-test at ALPHA
    detects with power POWER on `n` pairs of standard deviation `sd`; None for n < 2."""
    if sd is None or n < 2:
        return None
    if sd == 0.0:
        return 0.0
    d = TTestPower().solve_power(nobs=n, alpha=ALPHA, power=POWER, alternative="two-sided")
    return float(d) * sd


def _finite(value: float) -> float:
    """statsmodels returns NaN far in the tail, where the power is 1."""
    return 1.0 if math.isnan(value) else float(value)


def _power_difference(n: int, standardized: float) -> float:
    return _finite(TTestPower().power(standardized, n, ALPHA, alternative="two-sided"))


def _power_equivalence(n: int, standardized_margin: float) -> float:
    one_sided = _finite(TTestPower().power(standardized_margin, n, ALPHA, alternative="larger"))
    return max(0.0, 2.0 * one_sided - 1.0)


def _fewest(power_at, target: float = POWER) -> int | None:
    """The smallest n >= 2 with power_at(n) >= target (power rises with n); None past MAX_SEEDS."""
    if power_at(MAX_SEEDS) < target:
        return None
    low, high = 2, MAX_SEEDS
    while low < high:
        mid = (low + high) // 2
        if power_at(mid) >= target:
            high = mid
        else:
            low = mid + 1
    return low


def seeds_for_difference(effect: float, sd: float | None) -> int | None:
    """Pairs a two-sided paired t-test at ALPHA needs to detect `effect` with power POWER; None
    where unknown (no spread) or out of reach."""
    if sd is None or effect is None or effect == 0:
        return None
    if sd == 0.0:
        return 2
    return _fewest(lambda n: _power_difference(n, abs(effect) / sd))


def seeds_for_equivalence(margin: float | None, sd: float | None) -> int | None:
    """Pairs TOST at ALPHA needs to show equivalence within ±`margin` with power POWER when
    the true difference is 0; None where unknown or out of reach."""
    if sd is None or not margin:
        return None
    if sd == 0.0:
        return 2
    return _fewest(lambda n: _power_equivalence(n, margin / sd))
