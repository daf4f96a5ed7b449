"""The comparison tables of a leaderboard: each method against the baseline, with its verdict,
and the unit costs at which an effort verdict would flip (`hitlbench.harness.verdicts`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..core.effort import UNSOURCED
from ..harness.questions import Margin
from ..harness.records import (
    BEST_PRIOR_ROW,
    MISSING,
    PRIOR_ROWS,
    LeaderboardError,
    by_seed,
    direction,
    scores_a_map,
    setting_key,
    summary_value,
)
from ..harness.verdicts import ALPHA, MIN_SEEDS, Comparison, K, compare
from .markdown_tables import table_block
from .metric_names import metric_name

DASH = "–"
EFFORT_TOTAL = "effort_s_total"
Runs = Mapping[str, Sequence[Mapping[str, Any]]]
Effects = Mapping[tuple[str, str, str], float]  # (method, reference, metric) -> the paper's effect


def margin_value(metric: str, margins: Mapping[str, Margin] | None) -> float | None:
    """The suite's TOST margin of `metric` in its units; None where it states none."""
    found = (margins or {}).get(metric)
    return None if found is None else found.value


def compare_runs(
    pairs: Mapping[K, tuple[Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]]],
    metric: str,
    margins: Mapping[str, Margin] | None,
    effects: Mapping[K, float] | None = None,
) -> dict[K, Comparison]:
    """One family of comparisons on `metric`: each key maps to (the baseline's runs, the
    method's runs), paired by setting and seed; `effects` the paper's effect by key."""
    family = {
        key: (by_seed(base, metric), by_seed(runs, metric)) for key, (base, runs) in pairs.items()
    }
    margin = margin_value(metric, margins)
    return compare(
        family,
        margins=dict.fromkeys(family, margin),
        direction=direction(metric),
        effects=effects,
    )


def number(value: float | None) -> str:
    """A statistic as computed, to 4 significant digits (whole numbers from 1,000 on)."""
    if value is None:
        return DASH
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def p_text(value: float | None) -> str:
    return DASH if value is None else f"{value:.3g}"


def seeds_text(c: Comparison) -> str:
    """Seeds the difference test needs for the stated effect / TOST needs for the margin."""

    def one(n: int | None) -> str:
        return DASH if n is None else str(n)

    if c.seeds_difference is None and c.seeds_equivalence is None:
        return DASH
    return f"{one(c.seeds_difference)} / {one(c.seeds_equivalence)}"


def _row(metric: str, c: Comparison) -> list[str]:
    interval = DASH if c.ci is None else f"[{number(c.ci[0])}, {number(c.ci[1])}]"
    return [
        metric_name(metric),
        str(c.n_pairs),
        f"{number(c.diff)} {interval}" if c.diff is not None else DASH,
        p_text(c.p),
        p_text(c.p_holm),
        DASH if c.margin is None else f"±{number(c.margin)}",
        p_text(c.p_tost_holm),
        number(c.min_margin),
        number(c.detectable),
        DASH if c.effect is None else number(c.effect),
        seeds_text(c),
        c.label,
    ]


HEADERS = [
    "method", "metric", "pairs", "Δ mean [95 % CI]", "p", "p (Holm)", "TOST margin",
    "p (TOST, Holm)", "smallest equivalence margin", "detectable Δ", "stated effect",
    "seeds needed (Δ / TOST)", "verdict",
]  # fmt: skip
LEGEND = (
    "Δ: method − {baseline} over the seeds both have (paired by seed); p: paired t-test; "
    "p (Holm): adjusted over this table's comparisons for that metric; TOST: two one-sided paired "
    "t-tests against ± the suite's margin (see Margins), Holm-adjusted over this table's TOST "
    "tests for that metric; smallest equivalence margin: the narrowest the seeds at hand could "
    "show equivalent. Detectable Δ: the smallest difference a two-sided paired t-test at {alpha} "
    "(unadjusted) detects with power 0.8 given the observed spread of the paired differences "
    "(statsmodels' `TTestPower`); stated effect: the paper's effect where the suite gives one "
    "(see the paper's claims), else the margin; seeds needed: for the difference test to detect "
    "the stated effect, and for TOST to show equivalence within the margin if the true "
    "difference were 0, both with power 0.8 at the observed spread. Verdict: `identical` when "
    "every paired difference is exactly 0 (left out of both Holm families); else `better`/"
    "`worse` if p (Holm) < {alpha} (`, within margin` when the adjusted TOST rejects too); else "
    "`equivalent` if the adjusted TOST rejects; else `inconclusive`; `inconclusive (n = k)` "
    "with fewer than {min_seeds} seeds on either side; `, underpowered` beside an inconclusive "
    "verdict whose detectable Δ exceeds the stated effect (these seeds could not have shown "
    "it). A row naming several methods: their paired differences are the same on every seed, "
    "so the comparison is counted once."
)


Pair = tuple[str, str]  # (method, reference)


def _family_rows(metric: str, compared: Mapping[Pair, Comparison]) -> list[list[str]]:
    """Rows [methods, references, metric, ...]: a comparison that repeats another's
    differences is named in that one's row instead of a row of its own."""
    names: dict[Pair, list[Pair]] = {key: [key] for key, c in compared.items() if not c.same_as}
    for key, c in compared.items():
        if c.same_as:
            names[c.same_as].append(key)
    rows = []
    for key, keys in names.items():
        methods = ", ".join(dict.fromkeys(m for m, _ in keys))
        references = ", ".join(dict.fromkeys(ref for _, ref in keys))
        rows.append([methods, references, *_row(metric, compared[key])])
    return rows


def _families(
    runs: Runs,
    pairs: Sequence[Pair],
    metrics: Sequence[str],
    margins: Mapping[str, Margin] | None,
    effects: Effects,
) -> tuple[list[list[str]], dict[str, dict[Pair, Comparison]]]:
    """Rows [methods, references, metric, ...] of each (method, reference) pair on each metric
    the references have, one Holm family per metric; and the comparisons by metric and pair."""
    pairs = [(m, ref) for m, ref in pairs if m in runs and ref in runs]
    found: dict[str, dict[Pair, Comparison]] = {}
    rows = []
    for metric in metrics:
        present = {
            ref for _, ref in pairs
            if any(summary_value(r, metric) is not MISSING for r in runs[ref])
        }  # fmt: skip
        family = {(m, ref): (runs[ref], runs[m]) for m, ref in pairs if ref in present}
        if not family:
            continue
        stated = {key: effects[(*key, metric)] for key in family if (*key, metric) in effects}
        found[metric] = compare_runs(family, metric, margins, stated)
        rows += _family_rows(metric, found[metric])
    return rows, found


def comparison_lines(
    runs: Runs,
    methods: Sequence[str],
    baseline: str,
    metrics: Sequence[str],
    margins: Mapping[str, Margin] | None,
    effects: Effects | None = None,
) -> tuple[list[str], dict[str, dict[Pair, Comparison]]]:
    """The markdown of one setting's comparisons with the baseline, and the comparisons by
    metric and (method, baseline)."""
    pairs = [(m, baseline) for m in methods if m != baseline]
    rows, found = _families(runs, pairs, metrics, margins, effects or {})
    if not rows:
        return [], found
    legend = LEGEND.format(baseline=baseline, alpha=ALPHA, min_seeds=MIN_SEEDS)
    body = [[row[0], *row[2:]] for row in rows]
    return table_block(f"### Compared with {baseline}", HEADERS, body, legend), found


def contrast_lines(
    runs: Runs,
    contrasts: Sequence[Sequence[str]],
    metrics: Sequence[str],
    margins: Mapping[str, Margin] | None,
    effects: Effects | None = None,
) -> tuple[list[str], dict[str, dict[Pair, Comparison]]]:
    """The suite's own contrasts ([method, reference] pairs of this setting), each a paired
    comparison like those with the baseline, Holm over the contrasts; and the comparisons by
    metric and pair."""
    try:
        pairs = [(str(m), str(ref)) for m, ref in contrasts]
    except (TypeError, ValueError) as exc:
        raise LeaderboardError(
            f"contrasts must be [method, reference] pairs, got {contrasts!r}"
        ) from exc
    rows, found = _families(runs, pairs, metrics, margins, effects or {})
    if not rows:
        return [], found
    legend = (
        "Δ: method − reference over the seeds both have; tests, margins and verdicts as above, "
        "Holm over this table's contrasts for each metric."
    )
    headers = ["method", "reference", *HEADERS[1:]]
    return table_block("### Contrasts", headers, rows, legend), found


def best_prior(runs: Runs, metric: str) -> str | None:
    """The reference map that ignores the image (`PRIOR_ROWS`: never the object mask, which
    reads the truth) with the best mean of the explanation metric `metric` over its seeds, by
    the metric's direction (the highest where it has none; the first in `PRIOR_ROWS` on a tie);
    None for a metric that scores no map against a mask (`records.scores_a_map`) or where no
    such map has a value of it."""
    if not scores_a_map(metric):
        return None
    sign = direction(metric) or 1
    means = {}
    for name in PRIOR_ROWS:
        values = list(by_seed(runs.get(name, ()), metric).values())
        if values:
            means[name] = sign * float(np.mean(values))
    return max(means, key=means.__getitem__) if means else None


PRIOR_LEGEND = (
    "{row}: the row of the table above. For each explanation metric, the reference map that "
    "ignores the image it explains ({priors}; never the object mask, which reads the truth) with "
    "the best mean over seeds on that metric, named in its cell (the highest against the "
    "object; the lowest against the decoy, where less is better; the highest where the metric "
    "has no better direction); its per-seed values are that map's. The mean object mask is the "
    "per-pixel mean of the object masks of the pool's labeled items, never of the images "
    "scored. Δ: method − {row} on that metric, paired by seed; tests, margins and verdicts as "
    "in the comparisons with {baseline}, Holm over this table's comparisons for each metric; "
    "`better` is beyond the best prior in the metric's better direction (more on the object, "
    "less on the decoy; `higher` or `lower` where the metric has none). A method that is not "
    "`better` than the best prior has not shown that its maps do more than a map that ignores "
    "the image."
)


def prior_lines(
    runs: Runs,
    methods: Sequence[str],
    baseline: str,
    metrics: Sequence[str],
    margins: Mapping[str, Margin] | None,
) -> tuple[list[str], dict[str, dict[Pair, Comparison]]]:
    """The markdown of one setting's comparisons of every method with the best prior
    (`best_prior`, chosen per explanation metric), paired by seed, Holm over the methods for
    each metric; and the comparisons by metric and (method, prior). Nothing where the setting
    has no prior reference map."""
    rows: list[list[str]] = []
    found: dict[str, dict[Pair, Comparison]] = {}
    for metric in metrics:
        prior = best_prior(runs, metric)
        if prior is None:
            continue
        pairs = [(m, prior) for m in methods]
        metric_rows, compared = _families(runs, pairs, [metric], margins, {})
        rows += metric_rows
        found.update(compared)
    if not any(best_prior(runs, metric) for metric in metrics):
        return [], found
    legend = PRIOR_LEGEND.format(
        row=BEST_PRIOR_ROW, priors=", ".join(PRIOR_ROWS), baseline=baseline
    )
    heading = f"### Compared with the {BEST_PRIOR_ROW}"
    if not rows:
        return [heading, "", legend, ""], found
    headers = ["method", BEST_PRIOR_ROW, *HEADERS[1:]]
    return table_block(heading, headers, rows, legend), found


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
        [m, verdicts[m].label, *(break_even(runs[baseline], runs[m], a) for a in actions)]
        for m in others
    ]
    headers = [
        "method",
        f"{metric_name(EFFORT_TOTAL)} verdict",
        *(f"{a} (now {now[a]:g} s)" for a in actions),
    ]
    legend = (
        "For each unit cost that `hitlbench/core/effort.py` gives without a source: the range in "
        f"which the method's mean total effort is below {baseline}'s, every other cost as in the "
        "records (computed from the action counts; no cell is re-run). `hitlbench plot` draws "
        "total effort against each of these costs."
    )
    return table_block("### Effort: where the verdict would flip", headers, rows, legend)
