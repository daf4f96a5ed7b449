"""The comparison tables of a leaderboard: each method against the baseline, with its verdict,
and the unit costs at which an effort verdict would flip (`hitlbench.harness.verdicts`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from tabulate import tabulate

from ..core.effort import UNSOURCED
from ..harness.records import (
    MISSING,
    LeaderboardError,
    by_seed,
    direction,
    setting_key,
    summary_value,
)
from ..harness.verdicts import ALPHA, MIN_SEEDS, Comparison, K, compare
from .metric_names import metric_name

DASH = "–"
DEFAULT_MARGIN = "3%"  # of the baseline's mean, where a suite states none for a metric
EFFORT_TOTAL = "effort_s_total"
Runs = Mapping[str, Sequence[Mapping[str, Any]]]


def margin_of(metric: str, margins: Mapping[str, Any] | None, baseline_mean: float | None):
    """The TOST margin of `metric` in its units: the suite's `margins[metric]` (else
    `margins["default"]`, else 3 %), a number or a percentage of the baseline's mean."""
    given = (margins or {}).get(metric, (margins or {}).get("default", DEFAULT_MARGIN))
    if isinstance(given, str) and given.strip().endswith("%"):
        try:
            share = float(given.strip()[:-1]) / 100
        except ValueError:
            raise LeaderboardError(f"margin {given!r} of {metric}: not a percentage") from None
        return None if baseline_mean is None else abs(baseline_mean) * share
    if isinstance(given, bool) or not isinstance(given, int | float) or not given >= 0:
        raise LeaderboardError(f"margin {given!r} of {metric}: expected a number >= 0 or 'N%'")
    return float(given)


def compare_runs(
    pairs: Mapping[K, tuple[Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]]],
    metric: str,
    margins: Mapping[str, Any] | None,
) -> dict[K, Comparison]:
    """One family of comparisons on `metric`: each key maps to (the baseline's runs, the
    method's runs), paired by setting and seed."""
    family, limits = {}, {}
    for key, (base_runs, runs) in pairs.items():
        base = by_seed(base_runs, metric)
        family[key] = (base, by_seed(runs, metric))
        mean = float(np.mean(list(base.values()))) if base else None
        limits[key] = margin_of(metric, margins, mean)
    return compare(family, margins=limits, direction=direction(metric))


def number(value: float | None) -> str:
    """A statistic as computed, to 4 significant digits (whole numbers from 1,000 on)."""
    if value is None:
        return DASH
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def p_text(value: float | None) -> str:
    return DASH if value is None else f"{value:.3g}"


def _row(metric: str, c: Comparison) -> list[str]:
    interval = DASH if c.ci is None else f"[{number(c.ci[0])}, {number(c.ci[1])}]"
    return [
        metric_name(metric),
        str(c.n_pairs),
        f"{number(c.diff)} {interval}" if c.diff is not None else DASH,
        p_text(c.p),
        p_text(c.p_holm),
        DASH if c.margin is None else f"±{number(c.margin)}",
        p_text(c.p_tost),
        number(c.min_margin),
        c.verdict,
    ]


HEADERS = [
    "method", "metric", "pairs", "Δ mean [95 % CI]", "p", "p (Holm)", "TOST margin", "p (TOST)",
    "smallest equivalence margin", "verdict",
]  # fmt: skip
LEGEND = (
    "Δ: method − {baseline} over the seeds both have (paired by seed); p: paired t-test; "
    "p (Holm): adjusted over this table's comparisons for that metric; TOST: two one-sided paired "
    "t-tests against ± the margin (the suite's, else {default} of {baseline}'s mean); smallest "
    "equivalence margin: the narrowest the seeds at hand could show equivalent. Verdict: "
    "`equivalent` if TOST rejects at {alpha}, else `better`/`worse` if p (Holm) < {alpha}, else "
    "`inconclusive`; `inconclusive (n = k)` with fewer than {min_seeds} seeds on either side."
)


def _families(
    runs: Runs, pairs: Sequence[tuple[str, str]], metrics: Sequence[str], margins: Any
) -> tuple[list[list[str]], dict[str, dict[str, Comparison]]]:
    """Rows [method, reference, metric, ...] of each (method, reference) pair on each metric the
    references have, one Holm family per metric; and the comparisons by metric and method."""
    pairs = [(m, ref) for m, ref in pairs if m in runs and ref in runs]
    found: dict[str, dict[str, Comparison]] = {}
    rows = []
    for metric in metrics:
        present = {
            ref for _, ref in pairs
            if any(summary_value(r, metric) is not MISSING for r in runs[ref])
        }  # fmt: skip
        family = {(m, ref): (runs[ref], runs[m]) for m, ref in pairs if ref in present}
        if not family:
            continue
        compared = compare_runs(family, metric, margins)
        found[metric] = {m: c for (m, _), c in compared.items()}
        rows += [[m, ref, *_row(metric, c)] for (m, ref), c in compared.items()]
    return rows, found


def comparison_lines(
    runs: Runs, methods: Sequence[str], baseline: str, metrics: Sequence[str], margins: Any
) -> tuple[list[str], dict[str, dict[str, Comparison]]]:
    """The markdown of one setting's comparisons, and the comparisons by metric and method."""
    pairs = [(m, baseline) for m in methods if m != baseline]
    rows, found = _families(runs, pairs, metrics, margins)
    if not rows:
        return [], found
    legend = LEGEND.format(
        baseline=baseline, default=DEFAULT_MARGIN, alpha=ALPHA, min_seeds=MIN_SEEDS
    )
    table = tabulate(
        [[row[0], *row[2:]] for row in rows], headers=HEADERS, tablefmt="github",
        disable_numparse=True,
    )  # fmt: skip
    return [f"### Compared with {baseline}", "", table, "", legend, ""], found


def contrast_lines(
    runs: Runs, contrasts: Sequence[Sequence[str]], metrics: Sequence[str], margins: Any
) -> list[str]:
    """The suite's own contrasts (`leaderboard.contrasts`: [method, reference] pairs of this
    setting), each a paired comparison like those with the baseline, Holm over the contrasts."""
    try:
        pairs = [(str(m), str(ref)) for m, ref in contrasts]
    except (TypeError, ValueError) as exc:
        raise LeaderboardError(
            f"contrasts must be [method, reference] pairs, got {contrasts!r}"
        ) from exc
    rows, _ = _families(runs, pairs, metrics, margins)
    if not rows:
        return []
    table = tabulate(
        rows, headers=["method", "reference", *HEADERS[1:]], tablefmt="github",
        disable_numparse=True,
    )  # fmt: skip
    return [
        "### Contrasts",
        "",
        table,
        "",
        "Δ: method − reference over the seeds both have; tests, margins and verdicts as above, "
        "Holm over this table's contrasts for each metric.",
        "",
    ]


def _effort(runs: Sequence[Mapping[str, Any]], action: str) -> dict[tuple[str, int], tuple]:
    """{(setting, seed): (total effort s, count of `action`, its unit cost s)} of the runs."""
    return {
        (setting_key(r), r["spec"]["seed"]): (
            float(r["summary"][EFFORT_TOTAL]),
            float(r["summary"].get("effort_counts", {}).get(action, 0)),
            float(r["spec"]["effort"][action]),
        )
        for r in runs
        if EFFORT_TOTAL in r["summary"]
    }


def break_even(
    base: Sequence[Mapping[str, Any]], mine: Sequence[Mapping[str, Any]], action: str
) -> str:
    """When the method's mean total effort is below the baseline's, as the unit cost of `action`
    varies and every other cost stays: computed from the action counts in the records."""
    a, b = _effort(base, action), _effort(mine, action)
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return DASH
    d_total = float(np.mean([b[s][0] - a[s][0] for s in seeds]))
    d_count = float(np.mean([b[s][1] - a[s][1] for s in seeds]))
    now = a[seeds[0]][2]
    if d_count == 0:
        return "no difference in count"
    edge = now - d_total / d_count  # the cost at which the mean totals are equal
    if d_count > 0:  # the method does more of it: cheaper only while it is cheap
        return f"< {number(edge)} s" if edge > 0 else "never"
    return f"> {number(edge)} s" if edge > 0 else "at any cost"


def break_even_lines(
    runs: Runs, methods: Sequence[str], baseline: str, verdicts: Mapping[str, Comparison]
) -> list[str]:
    """Per method: its effort verdict and, per unsourced unit cost, where it would flip."""
    actions = [
        a
        for a in UNSOURCED
        if any(r["summary"].get("effort_counts", {}).get(a) for rs in runs.values() for r in rs)
    ]
    others = [m for m in methods if m != baseline and m in verdicts]
    if not actions or not others:
        return []
    now = next(r["spec"]["effort"] for r in runs[baseline])
    rows = [
        [m, verdicts[m].verdict, *(break_even(runs[baseline], runs[m], a) for a in actions)]
        for m in others
    ]
    headers = [
        "method",
        f"{metric_name(EFFORT_TOTAL)} verdict",
        *(f"{a} (now {now[a]:g} s)" for a in actions),
    ]
    table = tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)
    return [
        "### Effort: where the verdict would flip",
        "",
        table,
        "",
        "For each unit cost that `hitlbench/core/effort.py` gives without a source: the range in "
        f"which the method's mean total effort is below {baseline}'s, every other cost as in the "
        "records (computed from the action counts; no cell is re-run). `hitlbench plot` draws "
        "total effort against each of these costs.",
        "",
    ]
