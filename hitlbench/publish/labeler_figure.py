"""The figure of pre-labeling from the first item (a zero-shot labeler): effort per labeled item
against the pre-labels' accuracy, each run a point, beside the effort accounting's own lines.

With unit costs `box_draw` b, `label_accept` c_a, `label_correct` c_c and `label_scratch` c_s,
a perfect person who accepts right pre-labels and corrects wrong ones pays per item
b + a c_a + (1 - a) c_c at pre-label accuracy a (b = 0 without boxes); labeling from scratch
pays c_s, or b + c_s with boxes. The break-even accuracy against scratch without boxes is
a* = (b + c_c - c_s) / (c_c - c_a); against scratch with boxes, (c_c - c_s) / (c_c - c_a)
(any a > 0 when c_c = c_s).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .plots_common import MARKERS

Record = Mapping[str, Any]
NAME = "effort_vs_labeler_accuracy"


def prelabeled_from_start(record: Record) -> bool:
    """Whether the model pre-labeled from the first round (a labeler that needs no training)."""
    rows = record["rounds"]
    return bool(rows) and rows[0].get("proposed", 0) > 0


def has_labeler_runs(records: Sequence[Record]) -> bool:
    return any(prelabeled_from_start(r) for r in records)


def break_even(costs: Mapping[str, float], *, box_extra: bool) -> float:
    """The pre-label accuracy a* at which accepting or correcting costs what labeling from
    scratch does (unit costs in seconds by action): with `box_extra` the person draws boxes only
    to pre-label (against scratch without boxes), else both sides draw them."""
    extra = costs["box_draw"] if box_extra else 0.0
    return (extra + costs["label_correct"] - costs["label_scratch"]) / (
        costs["label_correct"] - costs["label_accept"]
    )


def labeler_figure(records: Sequence[Record], title: str, colors: Sequence[str]) -> Figure:
    """Each run that pre-labeled from the start as a point (its pre-labels' accuracy, its effort
    per labeled item), coloured by method; the lines b + a c_a + (1 - a) c_c with and without
    boxes, the two scratch levels and a* of boxes drawn only to pre-label, from the records'
    unit costs."""
    by_method: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        if prelabeled_from_start(r):
            by_method[r.get("suite", {}).get("method", "run")].append(r)
    costs = next(iter(by_method.values()))[0]["spec"]["effort"]
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    a = np.linspace(0.0, 1.0, 101)
    for box, style in ((True, "-"), (False, "--")):
        b = costs["box_draw"] if box else 0.0
        label = "accept or correct" + (", with boxes" if box else "")
        per_item = b + a * costs["label_accept"] + (1 - a) * costs["label_correct"]
        ax.plot(a, per_item, color="0.3", linestyle=style, linewidth=1, label=label)
    ax.axhline(costs["label_scratch"], color="0.6", linestyle=":", label="scratch")
    a_star = break_even(costs, box_extra=True)
    ax.axvline(a_star, color="0.3", linestyle=":", linewidth=1, label=f"a* = {a_star:.3g}")
    ax.axhline(
        costs["box_draw"] + costs["label_scratch"], color="0.6", linestyle="-.",
        label="box + scratch",
    )  # fmt: skip
    for k, (method, runs) in enumerate(sorted(by_method.items())):
        x = [r["summary"]["proposal_accuracy"] for r in runs]
        y = [r["summary"]["effort_s_total"] / r["summary"]["n_labeled"] for r in runs]
        ax.scatter(
            x, y, color=colors[k % len(colors)], marker=MARKERS[k % len(MARKERS)], s=18,
            label=method, zorder=3,
        )  # fmt: skip
    ax.set(
        xlabel="accuracy of the pre-labels", ylabel="effort per labeled item (s)",
        title=f"{title}: effort vs labeler accuracy", xlim=(0, 1.02),
    )  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig
