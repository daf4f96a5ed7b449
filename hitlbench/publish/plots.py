"""Figures of run records: accuracy and corrections per round, accuracy against effort, and total
effort against each unit cost that has no source (DESIGN §5).

One line per (method, setting): the mean over seeds with a shaded 95 % t-interval. Each figure is
saved as PNG and SVG with a fixed SVG hash salt and no dates, so the same records give the same
files.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ..core.effort import UNSOURCED
from ..core.storage import canonical_json
from ..harness.records import (
    CEILING,
    CEILING_ROW,
    REFERENCE_MAP_ROWS,
    by_setting_and_method,
    method_of,
    setting_of,
    setting_text,
    summary_value,
)
from .cam_figure import cam_figure, has_cam_examples
from .labeler_figure import NAME as LABELER_FIGURE
from .labeler_figure import has_labeler_runs, labeler_figure
from .plots_common import MARKERS, Curve, draw_line, interpolated, share_axis
from .round_figures import round_figures, slug

matplotlib.use("Agg")

RC = {"svg.hashsalt": "hitlbench", "svg.fonttype": "path"}
SAVE = {"png": {"dpi": 120}, "svg": {"metadata": {"Date": None}}}

Record = Mapping[str, Any]


def _per_round(field: Callable[[Mapping[str, Any]], float]) -> Callable[[Sequence[Record]], Curve]:
    """A curve over n_labeled of `field(row)`, pooling the seeds that have each n_labeled."""

    def curve(runs: Sequence[Record]) -> Curve:
        by_x: dict[int, list[float]] = defaultdict(list)
        for r in runs:
            for row in r["rounds"]:
                by_x[row["n_labeled"]].append(float(field(row)))
        xs = sorted(by_x)
        return np.array(xs, dtype=float), [by_x[x] for x in xs]

    return curve


def _metric_vs(x_field: str, metric: str = "accuracy") -> Callable[[Sequence[Record]], Curve]:
    """A holdout metric against a cumulative row field (`interpolated` over the seeds)."""

    def curve(runs: Sequence[Record]) -> Curve:
        return interpolated(
            [
                (
                    np.array([row[x_field] for row in r["rounds"]], dtype=float),
                    np.array([row["metrics"][metric] for row in r["rounds"]], dtype=float),
                )
                for r in runs
                if r["rounds"] and all(metric in row["metrics"] for row in r["rounds"])
            ]
        )

    return curve


FIGURES: dict[str, tuple[Callable[[Sequence[Record]], Curve], str, str, bool]] = {
    "accuracy_per_round": (
        _per_round(lambda row: row["metrics"]["accuracy"]),
        "labeled images",
        "holdout accuracy",
        True,
    ),
    "corrections_per_round": (
        _per_round(lambda row: row["corrections"]),
        "labeled images",
        "corrections in the round",
        False,
    ),
    "cumulative_corrections": (
        _per_round(lambda row: row["corrections_cum"]),
        "labeled images",
        "cumulative corrections",
        False,
    ),
    "accuracy_vs_effort": (
        _metric_vs("effort_s_cum"),
        "cumulative effort (s)",
        "holdout accuracy",
        True,
    ),
    "accuracy_vs_corrections": (  # Holmes et al. 2023's fourth figure
        _metric_vs("corrections_cum"),
        "cumulative corrections",
        "holdout accuracy",
        True,
    ),
}
# Figures of explanation feedback, drawn when the records have the metric: name -> metric, y label.
METRIC_FIGURES: dict[str, tuple[str, str]] = {
    "clean_accuracy_vs_effort": ("accuracy_clean", "holdout accuracy without the decoy"),
    "dice_object_vs_effort": ("dice_object", "dice of Grad-CAM vs object mask"),
}
EXAMPLES_FIGURE = "cam_examples"
COST_POINTS = 61  # points on a unit-cost axis


def _effort_vs_cost(action: str, grid: np.ndarray) -> Callable[[Sequence[Record]], Curve]:
    """Total effort as the unit cost of `action` runs over `grid`, every other cost as recorded:
    linear in the cost, from each run's action counts (no run is repeated)."""

    def curve(runs: Sequence[Record]) -> Curve:
        totals = np.array(
            [
                r["summary"]["effort_s_total"]
                + r["summary"].get("effort_counts", {}).get(action, 0)
                * (grid - r["spec"]["effort"][action])
                for r in runs
            ]
        )
        return grid, [totals[:, j].tolist() for j in range(len(grid))]

    return curve


def _cost_figures(records: Sequence[Record], sweep: Mapping[str, Sequence[float]]) -> dict:
    """name -> (curve, x label, y label, with ceiling, unit cost now) for each unsourced action
    that some run performed; the x range is the suite's `cost_sweep` [low, high], else 0 to 3x
    the cost now."""
    figures = {}
    for action in UNSOURCED:
        if not any(r["summary"].get("effort_counts", {}).get(action) for r in records):
            continue
        now = float(records[0]["spec"]["effort"][action])
        low, high = sweep.get(action, (0.0, 3 * now))
        grid = np.linspace(float(low), float(high), COST_POINTS)
        figures[f"effort_vs_{action}_cost"] = (
            _effort_vs_cost(action, grid),
            f"{action} unit cost (s; {now:g} s in the records)",
            "total effort (s)",
            False,
            now,
        )
    return figures


def _has_metric(records: Sequence[Record], metric: str) -> bool:
    return any(r["rounds"] and metric in r["rounds"][-1]["metrics"] for r in records)


def _figure_kind(name: str) -> tuple[Callable[[Sequence[Record]], Curve], str, str, bool]:
    if name in FIGURES:
        return FIGURES[name]
    metric, ylabel = METRIC_FIGURES[name]
    return _metric_vs("effort_s_cum", metric), "cumulative effort (s)", ylabel, False


def _lines(records: Sequence[Record]) -> dict[tuple[str, str], list[Record]]:
    """Non-ceiling records by (method, canonical setting), sorted."""
    groups: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in records:
        if method_of(r) != CEILING:
            groups[(method_of(r), canonical_json(setting_of(r)))].append(r)
    return dict(sorted(groups.items()))


def _ceilings(records: Sequence[Record]) -> dict[str, float]:
    """Mean final accuracy of the ceiling runs, by canonical setting."""
    found: dict[str, list[float]] = defaultdict(list)
    for r in records:
        if method_of(r) == CEILING and r["summary"].get("final_accuracy") is not None:
            found[canonical_json(setting_of(r))].append(r["summary"]["final_accuracy"])
    return {key: float(np.mean(v)) for key, v in sorted(found.items())}


def _label(method: str, setting_key: str, several: bool) -> str:
    """The method, followed by " · " and the setting's values when there are several settings."""
    values = setting_text(json.loads(setting_key))
    return f"{method} · {values}" if several and values else method


def _figure(
    name: str,
    records: Sequence[Record],
    title: str,
    colors: Sequence[str],
    kind: tuple | None = None,
) -> Figure:
    """One figure: a line per (method, setting), colored by method, marked by setting; `kind`
    (curve, x label, y label, with ceiling[, x to mark]) defaults to the named figure's."""
    curve, xlabel, ylabel, with_ceiling, *mark = kind or _figure_kind(name)
    lines = _lines(records)
    methods = sorted({m for m, _ in lines})
    settings = sorted({s for _, s in lines})
    several = len(settings) > 1
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for (method, key), runs in lines.items():
        color = colors[methods.index(method) % len(colors)]
        marker = MARKERS[settings.index(key) % len(MARKERS)]
        draw_line(ax, curve(runs), _label(method, key, several), color, marker)
    if with_ceiling:
        for key, accuracy in _ceilings(records).items():
            label = _label(CEILING_ROW, key, several)
            ax.axhline(accuracy, color="0.4", linestyle="--", linewidth=1, label=label)
        share_axis(ax)  # the ceiling is drawn on accuracy axes
    for x in mark:
        ax.axvline(x, color="0.4", linestyle=":", linewidth=1)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=f"{title}: {name.replace('_', ' ')}")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    return fig


def _curve_figures(
    records: Sequence[Record], curves: Mapping[str, Mapping[str, Any]], title: str, colors
) -> dict[str, Figure]:
    """A suite's `curves`: {name: {x: label, lines: {line: {method: x}}, metrics: [...]}}; for
    each metric a figure of its mean over seeds (95 % band) against x, a line per group of
    methods (e.g. final accuracy against an annotator's error rate); one figure per setting
    where the records hold several (named `name`_`metric`_`setting slug`)."""
    by_setting = by_setting_and_method(records)
    figures = {}
    for name, spec in curves.items():
        for metric in spec["metrics"]:
            for where, by_method in by_setting.items():
                fig = Figure(figsize=(7, 4.5), layout="constrained")
                ax = fig.add_subplot()
                for k, (line, points) in enumerate(spec["lines"].items()):
                    xs = [float(x) for m, x in points.items() if by_method.get(m)]
                    ys = [
                        [float(summary_value(r, metric)) for r in by_method[m]]
                        for m in points
                        if by_method.get(m)
                    ]
                    if xs:
                        order = np.argsort(xs, kind="stable")
                        curve = (np.array(xs)[order], [ys[i] for i in order])
                        draw_line(
                            ax, curve, line, colors[k % len(colors)], MARKERS[k % len(MARKERS)]
                        )
                several = len(by_setting) > 1
                suffix = f" · {where}" if several else ""
                ax.set(xlabel=spec["x"], ylabel=metric, title=f"{title}: {metric} ({name}){suffix}")
                ax.grid(alpha=0.3)
                if ax.get_legend_handles_labels()[0]:
                    ax.legend(fontsize="small")
                figures[f"{name}_{metric}" + (f"_{slug(where)}" if several else "")] = fig
    return figures


def plot(
    records: Sequence[Record],
    out_dir: str | os.PathLike,
    *,
    title: str,
    baseline: str | None = None,
    cost_sweep: Mapping[str, Sequence[float]] | None = None,
    curves: Mapping[str, Mapping[str, Any]] | None = None,
    per_round: Mapping[str, Mapping[str, Any]] | None = None,
    standard: bool = True,
) -> list[Path]:
    """Draw every figure of FIGURES as PNG and SVG into `out_dir`, those of METRIC_FIGURES and
    the Grad-CAM examples where the records have them (`baseline` first), total effort against
    each unsourced unit cost the runs spent (range: `cost_sweep` {action: [low, high]}), and
    the suite's `curves` of a summary metric against a parameter (per setting) and its
    `round_figures` (`hitlbench.publish.round_figures`, as `per_round`; with `standard` False only
    these and the suite's curves, not FIGURES), and effort per item against
    the pre-labels' accuracy where a model pre-labeled from the first item; returns the paths."""
    records = [r for r in records if method_of(r) not in REFERENCE_MAP_ROWS]  # not drawn
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with matplotlib.rc_context(RC):
        colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        names = FIGURES if standard else {}  # a suite of many methods draws its own instead
        figures = {name: _figure(name, records, title, colors) for name in names}
        for name, (metric, _) in METRIC_FIGURES.items():
            if _has_metric(records, metric):
                figures[name] = _figure(name, records, title, colors)
        for name, kind in _cost_figures(records, cost_sweep or {}).items():
            figures[name] = _figure(name, records, title, colors, kind)
        figures.update(_curve_figures(records, curves or {}, title, colors))
        figures.update(round_figures(records, per_round or {}, title, colors))
        if has_cam_examples(records):
            figures[EXAMPLES_FIGURE] = cam_figure(records, title, baseline)
        if standard and has_labeler_runs(records):
            figures[LABELER_FIGURE] = labeler_figure(records, title, colors)
        for name, fig in figures.items():
            for fmt, options in SAVE.items():
                path = out / f"{name}.{fmt}"
                fig.savefig(path, format=fmt, **options)
                written.append(path)
    return written
