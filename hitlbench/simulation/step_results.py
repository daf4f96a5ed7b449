"""What each step of a round (`steps.RoundSteps`) hands to the next, and the round as a whole."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..classifiers.base import Classifier
from ..types import FitReport, Proposal, Review, Truth
from .imagery import Detected


@dataclass(frozen=True)
class Selection:
    """The round's batch: int64 [k] positions into the pool and the dataset indices there, and
    the model that chose and pre-labels it (None while the classifier is not ready)."""

    positions: np.ndarray
    items: np.ndarray
    model: Classifier | None


@dataclass(frozen=True)
class Proposed:
    """The batch as the person is shown it: images with the detector's boxes, the model's
    pre-labels (None without a ready model), and the boxes offered for correction (float32
    [k, 4], NaN where the detector found none; None when the person draws every box)."""

    detected: Detected
    proposal: Proposal | None
    boxes: np.ndarray | None


@dataclass(frozen=True)
class Reviewed:
    """The person's review of the batch and what it means for training and the counts.

    `labels` int64 [k] (UNSURE for an item marked unsure), `sure` [k] bool; `corrected` and
    `missed` [k] bool: proposals the person changed, and wrong proposals accepted as they were;
    `answers` int64 [M, 3] (annotator, position, label) of every sure answer; `boxes` float32
    [k, 4] the person gave (NaN rows: none); `effort` counts by action (ratings on a concept
    task) and `effort_s` their seconds; `unanswered`, proposals the model could not give.
    """

    review: Review
    truth: Truth
    labels: np.ndarray
    sure: np.ndarray
    corrected: np.ndarray
    missed: np.ndarray
    answers: np.ndarray
    boxes: np.ndarray
    effort: dict[str, int]
    effort_s: float
    unanswered: int

    @property
    def n_missed(self) -> int:
        return int(self.missed.sum())

    @property
    def n_unsure(self) -> int:
        return int((~self.sure).sum())


@dataclass(frozen=True)
class Evaluation:
    """The holdout scored after the fit: metrics by name, int64 [N] predicted labels
    (`NO_ANSWER` where the model could not answer), and a few Grad-CAM examples (or None)."""

    metrics: dict[str, float]
    predicted: np.ndarray
    cam_examples: dict | None


@dataclass(frozen=True)
class RoundResult:
    """Everything one round produced, for its row; `times` in seconds by step."""

    index: int
    selection: Selection
    proposed: Proposed
    reviewed: Reviewed
    report: FitReport
    evaluation: Evaluation
    times: dict[str, float]
