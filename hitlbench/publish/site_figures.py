"""The figures of a run's page, as SVG text: one small figure of holdout accuracy and cumulative
effort per round (and the final model's confusion on the holdout, where the record keeps it),
and the Grad-CAM examples where the record has them. Drawn with the leaderboards' figure
settings (`plots.RC`, `plots.SAVE`: fixed hash salt, no date), so the same record gives the same
bytes, except that text stays text (smaller files, drawn faster; the browser sets the font)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..harness.records import CEILING, class_name, method_of
from ..simulation.error_analysis import confusion_panel
from .cam_figure import cam_figure, has_cam_examples
from .plots import RC, SAVE

Record = Mapping[str, Any]
SITE_RC = {**RC, "svg.fonttype": "none"}


def svg(fig: Figure) -> str:
    """`fig` as SVG text, reproducible byte for byte."""
    buffer = io.StringIO()
    with matplotlib.rc_context(SITE_RC):
        fig.savefig(buffer, format="svg", **SAVE["svg"])
    return buffer.getvalue()


def _per_round(ax: Axes, rounds: Sequence[Mapping[str, Any]], y: str, label: str) -> None:
    """`y` of each round (a holdout metric or a row field) against the items labeled."""
    x = [row["n_labeled"] for row in rounds]
    values = [row["metrics"][y] if y in row["metrics"] else row[y] for row in rounds]
    ax.plot(x, values, marker="o", markersize=3, linewidth=1.5)
    ax.set(xlabel="labeled images", ylabel=label)
    ax.grid(alpha=0.3)


def run_figure(record: Record) -> Figure:
    """Holdout accuracy and cumulative effort (s) per round; a third panel with the holdout
    confusion (share per true class) where `summary.error_analysis` has one."""
    analysis = record["summary"].get("error_analysis") or {}
    matrix = analysis.get("holdout_confusion")
    with matplotlib.rc_context(SITE_RC):
        fig = Figure(figsize=(9.6 if matrix else 6.4, 2.8), layout="constrained")
        axes = fig.subplots(1, 3 if matrix else 2, squeeze=False)[0]
        _per_round(axes[0], record["rounds"], "accuracy", "holdout accuracy")
        _per_round(axes[1], record["rounds"], "effort_s_cum", "cumulative effort (s)")
        if matrix:
            names = [class_name(record, c) for c in range(len(matrix))]
            confusion_panel(axes[2], matrix, names, "final model on the holdout", "predicted")
    return fig


def has_cam_figure(record: Record) -> bool:
    """Whether the run kept Grad-CAM examples (a ceiling run's are not drawn)."""
    return method_of(record) != CEILING and has_cam_examples([record])


def run_cam_figure(record: Record) -> Figure:
    """The run's Grad-CAM examples after its last round (`cam_figure` of the one run), under a
    title that fits its two columns."""
    with matplotlib.rc_context(SITE_RC):
        fig = cam_figure([record], str(record["run_id"]))
        fig.suptitle("Grad-CAM of the predicted class", fontsize="small")
    return fig
