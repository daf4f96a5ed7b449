"""What every figure shares."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from ..harness.verdicts import ci_half_width

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")  # one per setting or method, in order
Curve = tuple[np.ndarray, list[list[float]]]  # x values, the seeds' y values at each x


def draw_line(ax: Axes, curve: Curve, label: str, color: str, marker: str) -> None:
    """The mean over seeds, and the 95 % t-band where more than one seed contributes."""
    x, values = curve
    mean = np.array([np.mean(v) for v in values])
    every = max(1, len(x) // 12)  # a marker tells the setting; a dozen of them is enough
    ax.plot(
        x, mean, color=color, marker=marker, markersize=3, markevery=every, linewidth=1.5,
        label=label,
    )  # fmt: skip
    if any(len(v) > 1 for v in values):
        half = np.array([ci_half_width(v) for v in values])
        ax.fill_between(x, mean - half, mean + half, color=color, alpha=0.2, linewidth=0)


def share_axis(ax: Axes) -> None:
    """A share's y axis from 0 to just above 1, so that a wide interval band cannot stretch it."""
    ax.set_ylim(0.0, 1.02)


def interpolated(seeds: list[tuple[np.ndarray, np.ndarray]]) -> Curve:
    """Each seed's (x, y) interpolated onto the union of their x points, from the latest start
    (np.interp holds a seed's last value past its end)."""
    if not seeds:
        return np.array([]), []
    start = max(x[0] for x, _ in seeds)
    grid = np.unique(np.concatenate([x for x, _ in seeds]))
    grid = grid[grid >= start]
    ys = np.array([np.interp(grid, x, y) for x, y in seeds])
    return grid, [ys[:, j].tolist() for j in range(len(grid))]
