"""Break-even points along a suite's curves: the parameter value at which a line of methods
(e.g. crowds at rising error rates p) reaches a reference method's mean (e.g. the expert).

A suite names them in its `leaderboard.crossings`, each {curve, line, reference, metric}: the
`curve` and `line` of its `curves` block (a line maps methods to their x), the `reference`
method and a `metric` of the records. Per setting, from the means over seeds (no interval):
the break-even x is where the straight line between the two neighbouring points on either side
of the reference's mean crosses it (the first such pair in x order); where the line stays on
one side, none is given and the table says which side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..harness.records import MISSING, LeaderboardError, number, summary_value
from .board_model import Section
from .comparisons import DASH
from .comparisons import number as shown
from .markdown_tables import table_block
from .metric_names import metric_name

KEYS = ("curve", "line", "reference", "metric")


def crossing_lines(
    sections: Sequence[Section],
    curves: Mapping[str, Mapping[str, Any]],
    crossings: Sequence[Mapping[str, Any]],
) -> list[str]:
    """Markdown: one table per crossing, a row per setting (`sections`' titles and runs).

    Raises `LeaderboardError` for a crossing without the four keys or naming a curve or line
    the suite's `curves` lack."""
    lines: list[str] = []
    for crossing in crossings:
        curve, line, reference, metric = _checked(crossing, curves)
        points = sorted(curves[curve]["lines"][line].items(), key=lambda item: item[1])
        xs = [float(x) for _, x in points]
        rows = [_row(s, [m for m, _ in points], xs, reference, metric) for s in sections]
        x_name = str(curves[curve].get("x", curve))
        lines += table_block(
            f"## Break-even: {line} against {reference}, {metric_name(metric)}",
            ["setting", reference, *(f"{line} at {x:g}" for x in xs), "break-even"],
            rows,
            f"Means over seeds. Break-even: the value of {x_name} at which the straight line "
            f"between the two neighbouring means of {line} on either side of the mean of "
            f"{reference} crosses it (the first such pair); where the line stays on one side, "
            "the side is named.",
        )
    return lines


def _checked(crossing: Any, curves: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    if not isinstance(crossing, Mapping) or set(crossing) != set(KEYS):
        raise LeaderboardError(f"a crossing needs exactly {', '.join(KEYS)}; got {crossing!r}")
    curve, line = str(crossing["curve"]), str(crossing["line"])
    if line not in curves.get(curve, {}).get("lines", {}):
        raise LeaderboardError(f"crossing: the suite's curves have no line {line!r} in {curve!r}")
    return tuple(str(crossing[k]) for k in KEYS)


def _mean(runs: Sequence[Mapping[str, Any]], metric: str) -> float | None:
    values = [summary_value(r, metric) for r in runs]
    found = [number(v, metric) for v in values if v is not MISSING and v is not None]
    return float(np.mean(found)) if found else None


def _row(
    section: Section, methods: Sequence[str], xs: Sequence[float], reference: str, metric: str
) -> list[str]:
    level = _mean(section.runs.get(reference, ()), metric)
    means = [_mean(section.runs.get(m, ()), metric) for m in methods]
    return [section.title, shown(level), *map(shown, means), _break_even(xs, means, level)]


def _break_even(xs: Sequence[float], means: Sequence[float | None], level: float | None) -> str:
    """The x at which the means cross `level`, as text (see the module docstring)."""
    known = [(x, m) for x, m in zip(xs, means, strict=True) if m is not None]
    if level is None or not known:
        return DASH
    for (x0, m0), (x1, m1) in zip(known, known[1:], strict=False):
        if m0 == level:
            return f"{x0:.3g}"
        if (m0 - level) * (m1 - level) < 0:
            return f"{x0 + (x1 - x0) * (m0 - level) / (m0 - m1):.3g}"
    x_last, m_last = known[-1]
    if m_last == level:
        return f"{x_last:.3g}"
    side = "above" if m_last > level else "below"
    return f"none: {side} it from {known[0][0]:g} to {x_last:g}"
