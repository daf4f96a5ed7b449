"""Error analysis of a run: the counts a record keeps (never images) and how `hitlbench report`
shows them: the final model's confusion on the holdout, per-class accuracy, corrections and
missed corrections by true class, and the annotators' answers against the truth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate


@dataclass
class ErrorCounts:
    """Counts gathered round by round; `as_record()` is what the record's summary keeps."""

    n_classes: int
    corrections: np.ndarray = field(init=False)  # [C] by true class
    missed: np.ndarray = field(init=False)  # [C] wrong proposals accepted, by true class
    answers: dict[int, np.ndarray] = field(default_factory=dict)  # annotator -> [C, C] counts
    holdout: np.ndarray | None = None  # [C, C] truth x prediction of the last model
    unanswered: np.ndarray | None = None  # [C] holdout items it could not answer, by truth

    def __post_init__(self):
        self.corrections = np.zeros(self.n_classes, np.int64)
        self.missed = np.zeros(self.n_classes, np.int64)

    def add_review(
        self,
        truth: np.ndarray,
        corrected: np.ndarray,
        missed: np.ndarray,
        answers: np.ndarray,
    ) -> None:
        """One batch: true labels [N], corrected and missed [N] bool, and every answer given as
        [M, 3] (annotator, position in the batch, label; unsure answers left out)."""
        self.corrections += np.bincount(truth[corrected], minlength=self.n_classes)
        self.missed += np.bincount(truth[missed], minlength=self.n_classes)
        for who in np.unique(answers[:, 0]):
            mine = answers[answers[:, 0] == who]
            counts = self.answers.setdefault(int(who), np.zeros((self.n_classes,) * 2, np.int64))
            np.add.at(counts, (truth[mine[:, 1]], mine[:, 2]), 1)

    def set_holdout(self, truth: np.ndarray, predicted: np.ndarray) -> None:
        """The holdout's truth x prediction counts, and by true class the items with no
        answer (-1), which the confusion matrix leaves out."""
        self.holdout = np.zeros((self.n_classes,) * 2, np.int64)
        answered = np.asarray(predicted) >= 0
        np.add.at(self.holdout, (truth[answered], predicted[answered]), 1)
        self.unanswered = np.bincount(truth[~answered], minlength=self.n_classes)

    def as_record(self) -> dict[str, Any]:
        unanswered = {}
        if self.unanswered is not None and self.unanswered.any():
            unanswered = {"holdout_unanswered_by_class": self.unanswered.tolist()}
        return {
            "holdout_confusion": None if self.holdout is None else self.holdout.tolist(),
            **unanswered,
            "corrections_by_class": self.corrections.tolist(),
            "missed_corrections_by_class": self.missed.tolist(),
            "answers_confusion": {str(k): v.tolist() for k, v in sorted(self.answers.items())},
        }


def _confusion_table(matrix: Sequence[Sequence[int]], names: Sequence[str], rows: str) -> str:
    headers = [f"{rows} \\ answer", *names]
    body = [[names[t], *row] for t, row in enumerate(matrix)]
    return tabulate(body, headers=headers, tablefmt="github")


def markdown(analysis: Mapping[str, Any], class_names: Sequence[str]) -> str:
    """The error analysis of one record as markdown."""
    lines = []
    holdout = analysis.get("holdout_confusion")
    if holdout is not None:
        matrix = np.asarray(holdout)
        unanswered = analysis.get("holdout_unanswered_by_class")
        missing = np.zeros(len(matrix), np.int64) if unanswered is None else np.asarray(unanswered)
        totals = matrix.sum(axis=1) + missing  # an unanswered item is one the model got wrong
        lines += ["### Final model on the holdout (rows: truth, columns: prediction)", ""]
        lines += [_confusion_table(holdout, class_names, "truth").replace("answer", "predicted")]
        per_class = [
            [name, int(totals[t]), f"{matrix[t, t] / totals[t]:.3f}" if totals[t] else "–",
             *([int(missing[t])] if unanswered is not None else []),
             analysis["corrections_by_class"][t], analysis["missed_corrections_by_class"][t]]
            for t, name in enumerate(class_names)
        ]  # fmt: skip
        headers = ["class", "holdout items", "accuracy"]
        headers += ["unanswered"] if unanswered is not None else []
        headers += ["corrections", "missed corrections"]
        lines += ["", "### Per class", "", tabulate(per_class, headers=headers, tablefmt="github")]
    for who, matrix in analysis.get("answers_confusion", {}).items():
        lines += ["", f"### Annotator {who}: answers against the truth", ""]
        lines += [_confusion_table(matrix, class_names, "truth")]
    return "\n".join(lines)


def confusion_panel(
    ax: Any,
    matrix: Sequence[Sequence[int]],
    class_names: Sequence[str],
    title: str,
    xlabel: str = "answer",
) -> None:
    """A truth x answer count matrix [C, C] on the matplotlib axes `ax`, as the share of each
    true class (rows sum to 1), classes named on both axes."""
    counts = np.asarray(matrix, float)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    ax.imshow(share, vmin=0, vmax=1, cmap="Blues")
    ax.set(title=title, xlabel=xlabel, ylabel="truth")
    ax.set_xticks(range(len(class_names)), class_names, rotation=90, fontsize=6)
    ax.set_yticks(range(len(class_names)), class_names, fontsize=6)


def figure(analysis: Mapping[str, Any], class_names: Sequence[str], path: Path) -> Path:
    """The holdout confusion and each annotator's answers as heat maps, saved to `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    panels = []
    if analysis.get("holdout_confusion") is not None:
        panels.append(("final model on the holdout", analysis["holdout_confusion"]))
    panels += [
        (f"annotator {w}: answers", m) for w, m in analysis.get("answers_confusion", {}).items()
    ]
    fig = Figure(figsize=(4.2 * max(1, len(panels)), 4.2), layout="constrained")
    for k, (title, matrix) in enumerate(panels, 1):
        confusion_panel(fig.add_subplot(1, len(panels), k), matrix, class_names, title)
    fig.savefig(path, dpi=120)
    return path
