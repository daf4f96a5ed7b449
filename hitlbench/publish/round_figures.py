"""A suite's own per-round figures: one holdout metric per round for chosen methods, one figure
per setting (e.g. AUC-PR per round per method, for each concept of the agile suite).

A suite declares them under `leaderboard.round_figures`:

    auc_pr_per_round:
      metric: auc_pr          # a holdout metric of each round
      x: n_labeled            # or expert_s: the person's effort plus their waits, seconds
      wait: 81.7              # optional, with x: expert_s: seconds waited per round instead of
                              # the measured selection + training time
      methods: [Random, Margin, Zero-shot]

A method with a single round (e.g. a zero-shot model that never trains) is drawn as a
horizontal dashed line at its mean.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..harness.record_metrics import round_waits
from ..harness.records import by_setting_and_method
from .metric_names import SHARES, round_field_name
from .plots_common import MARKERS, Curve, draw_line, interpolated, share_axis

Record = Mapping[str, Any]
X_LABELS = {"n_labeled": "items rated", "expert_s": "the person's time (s): ratings + waits"}


def _x(record: Record, spec: Mapping[str, Any]) -> np.ndarray:
    rounds = record["rounds"]
    if spec.get("x", "n_labeled") == "n_labeled":
        return np.array([row["n_labeled"] for row in rounds], dtype=float)
    wait = spec.get("wait")
    waits = round_waits(rounds) if wait is None else np.full(len(rounds), float(wait))
    return np.array([row["effort_s_cum"] for row in rounds], dtype=float) + np.cumsum(waits)


def _curve(runs: Sequence[Record], spec: Mapping[str, Any]) -> Curve:
    metric = spec["metric"]
    return interpolated(
        [
            (_x(r, spec), np.array([row["metrics"][metric] for row in r["rounds"]], dtype=float))
            for r in runs
            if r["rounds"] and all(metric in row["metrics"] for row in r["rounds"])
        ]
    )


def slug(text: str) -> str:
    """A file-name part for a setting's text: lower case, runs of other characters as '-'."""
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")


def round_figures(
    records: Sequence[Record], specs: Mapping[str, Mapping[str, Any]], title: str, colors
) -> dict[str, Figure]:
    """{`name`, or `name`_`setting slug` where the records hold several settings: figure} for
    each of a suite's `round_figures` (module docstring); a method without records is left out.
    Raises KeyError for a spec without `metric` or `methods`."""
    by_setting = by_setting_and_method(records)
    figures = {}
    for name, spec in specs.items():
        for text, by_method in by_setting.items():
            fig = Figure(figsize=(7, 4.5), layout="constrained")
            ax = fig.add_subplot()
            for k, method in enumerate(spec["methods"]):
                runs = by_method.get(method)
                if not runs:
                    continue
                color, marker = colors[k % len(colors)], MARKERS[k % len(MARKERS)]
                x, values = _curve(runs, spec)
                if len(x) == 1:
                    ax.axhline(np.mean(values[0]), color=color, linestyle="--", label=method)
                elif len(x):
                    draw_line(ax, (x, values), method, color, marker)
            where = f" · {text}" if len(by_setting) > 1 else ""
            ax.set(
                xlabel=X_LABELS[spec.get("x", "n_labeled")]
                + (f", {spec['wait']} s wait per round" if spec.get("wait") is not None else ""),
                ylabel=f"holdout {round_field_name(spec['metric'])}",
                title=f"{title}: {name.replace('_', ' ')}{where}",
            )
            if spec["metric"] in SHARES:
                share_axis(ax)
            ax.grid(alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize="small")
            figures[f"{name}_{slug(text)}" if where else name] = fig
    return figures
