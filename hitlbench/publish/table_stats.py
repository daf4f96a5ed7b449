"""The statistics a leaderboard cell shows: a metric's mean over the seeds of one method, the
half-width of its 95 % t-interval (`harness.verdicts.ci_half_width`, scipy), how many seeds
reached a value, and how the cell prints them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..harness.records import MISSING, number, summary_value
from ..harness.verdicts import ci_half_width
from .comparisons import DASH

INTEGER_LIKE = (
    "total_corrections", "effort_s_total", "n_labeled", "rounds", "effort_budget_s",
    "label_errors", "missed_corrections", "unsure",
)  # fmt: skip


@dataclass(frozen=True)
class Stat:
    """A metric over the seeds of one method: `runs` have the key, `reached` have a value."""

    mean: float | None
    half_width: float
    reached: int
    runs: int


def stat(records: Sequence[Mapping[str, Any]], metric: str) -> Stat:
    """`metric` (a summary key or path, `harness.records.summary_value`) over `records`."""
    present = [summary_value(r, metric) for r in records]
    present = [v for v in present if v is not MISSING]
    values = [number(v, metric) for v in present if v is not None]
    mean = float(np.mean(values)) if values else None
    return Stat(mean, ci_half_width(values), len(values), len(present))


def decimals(metric: str) -> int:
    """Counts and seconds print as integers, everything else with 3 decimals."""
    return (
        0 if metric in INTEGER_LIKE or metric.startswith(("effort_s_to.", "effort_counts.")) else 3
    )


def rounded_mean(found: Stat, metric: str) -> float | None:
    """The mean as printed, so that equal-looking cells tie; None when it cannot be best."""
    if found.mean is None or found.reached < found.runs:
        return None
    return float(f"{found.mean:.{decimals(metric)}f}")


def stat_text(found: Stat, metric: str) -> str:
    """Mean ± half-width (the mean alone for one seed), then (k/n) if only k of n seeds have it."""
    d = decimals(metric)
    if found.mean is None:
        text = DASH
    elif found.reached == 1:
        text = f"{found.mean:.{d}f}"
    else:
        text = f"{found.mean:.{d}f} ± {found.half_width:.{d}f}"
    if found.reached < found.runs:
        text += f" ({found.reached}/{found.runs})"
    return text
