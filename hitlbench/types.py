"""Data that flows between the loop and the five kinds of component (DESIGN §1-2)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np


class HitlbenchError(Exception):
    """A user-facing error: bad input, missing data, a combination that cannot run."""


class DivergedError(HitlbenchError):
    """A classifier's training loss or outputs stopped being finite numbers (NaN or infinite)."""


class Action(str, Enum):
    """The frozen vocabulary of what a simulated person does; effort is counted per action."""

    LABEL_SCRATCH = "label_scratch"  # a label drawn with no proposal to start from
    LABEL_CORRECT = "label_correct"  # a proposed label that the person changed (a correction)
    LABEL_ACCEPT = "label_accept"  # a proposed label that the person confirmed
    RATING = "rating"  # a binary yes/no rating
    BOX_DRAW = "box_draw"  # a box drawn from scratch
    BOX_CORRECT = "box_correct"  # a proposed box that the person adjusted
    REGION_MASK = "region_mask"  # a region marked on an image (explanation feedback)
    LABEL_UNSURE = "label_unsure"  # an item marked unsure: it leaves the pool, never trained on
    BOX_VERIFY = "box_verify"  # a proposed box that the person checked and accepted as it is


class Want(str, Enum):
    """What the loop asks the oracle for, beyond the label it always gets."""

    LABEL = "label"
    BOX = "box"
    MASK_SPURIOUS = "mask_spurious"
    MASK_OBJECT = "mask_object"


MASK_OF_WANT = {Want.MASK_SPURIOUS: "spurious", Want.MASK_OBJECT: "object"}  # the mask's name


class Effort(dict):
    """Counts per `Action`; keys are the action's string value, missing actions count zero."""

    def __init__(self, counts: Mapping[str | Action, int] | None = None):
        super().__init__()
        for key, value in (counts or {}).items():
            self.add(key, value)

    def add(self, action: str | Action, count: int = 1) -> None:
        """Add `count` actions, validating the action name against the frozen vocabulary."""
        name = Action(action).value
        if count < 0:
            raise ValueError(f"effort count for {name!r} must be >= 0, got {count}")
        if count:
            self[name] = self.get(name, 0) + int(count)

    def __add__(self, other: Mapping[str, int]) -> Effort:
        total = Effort(self)
        for key, value in other.items():
            total.add(key, value)
        return total

    def as_dict(self) -> dict[str, int]:
        """Plain dict with keys in the vocabulary's order, for records."""
        return {a.value: self[a.value] for a in Action if a.value in self}


@dataclass(frozen=True)
class TaskInfo:
    """What a component needs to know about the task before it sees data."""

    n_classes: int
    class_names: tuple[str, ...]
    input_shape: tuple[int, int, int]  # (channels, height, width) of the crops a classifier sees
    # a two-class concept task's `hitlbench.concepts.Concept` (its phrases, positive classes and
    # hard negatives); None for a task of the dataset's own classes
    concept: Any = None


NO_ANSWER = -1  # a proposed label where the model could not answer (an all-zero row)


@dataclass(frozen=True)
class Proposal:
    """The model's pre-labels for a batch: predicted class and the full distribution."""

    labels: np.ndarray  # [N] int; NO_ANSWER where the model could not answer
    proba: np.ndarray  # [N, C] float; all zero where it could not answer


@dataclass(frozen=True)
class Truth:
    """What a perfect person would answer for a batch: labels and, where known, boxes and masks."""

    labels: np.ndarray
    boxes: np.ndarray | None = None  # [N, 4] xyxy pixels
    masks: Mapping[str, np.ndarray] = field(default_factory=dict)  # name -> [N, H, W] bool
    mask_asked: np.ndarray | None = None  # [N] bool: the items to mark (None: every item)


@dataclass(frozen=True)
class Gold:
    """Hidden gold-standard items carved out of the pool: dataset indices and true labels."""

    indices: np.ndarray  # int64 [G]
    labels: np.ndarray  # int64 [G]


@dataclass(frozen=True)
class Review:
    """The person's answer for a batch, with how much it cost them."""

    labels: np.ndarray  # [N] int: the label that enters training; -1 for an item marked unsure
    corrections: int  # proposals changed: items whose label (aggregated, for a crowd) differs
    labels_drawn: int  # labels given with no proposal to start from
    effort: Effort
    boxes: np.ndarray | None = None
    masks: Mapping[str, np.ndarray] = field(default_factory=dict)
    # Every answer given, [M, 3] int (annotator, position in the batch, label), for error
    # analysis; None: one answer per item, the item's label, by annotator 0.
    answers: np.ndarray | None = None
    # What this oracle adds to the round's row under "oracle" (e.g. a crowd's agreement).
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PoolView:
    """The unlabeled pool: dataset indices plus lazy access to the crops a classifier would see."""

    indices: np.ndarray
    crops: Callable[[np.ndarray], np.ndarray]  # positions -> float32 [N, C, H, W]
    raw: Callable[[np.ndarray], np.ndarray]  # positions -> float32 images before cropping
    # the training labels given so far (int64), for samplers that balance what was labeled
    labeled: np.ndarray | None = None
    # the labeled items' dataset indices (int64, in labeling order, matching `labeled`) and
    # their crops by position, for samplers that compare the pool with what is labeled (coreset)
    labeled_items: np.ndarray | None = None
    labeled_crops: Callable[[np.ndarray], np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.indices)


@dataclass(frozen=True)
class LabeledView:
    """Everything labeled so far, cropped as DESIGN §1's crop-source table says."""

    indices: np.ndarray
    labels: np.ndarray
    # crops for training: the person's box where they gave one, else the predicted box;
    # None in the view a detector receives (it works on `raw` images and `boxes`)
    images: np.ndarray | None = None
    val_images: np.ndarray | None = None  # crops by the predicted box (early-stopping split)
    raw: Callable[[np.ndarray], np.ndarray] | None = None  # positions -> uncropped images
    boxes: np.ndarray | None = None  # [N, 4] boxes the person gave; NaN rows where they gave none
    masks: Mapping[str, np.ndarray] = field(default_factory=dict)  # name -> [N, H, W] bool
    has_mask: Mapping[str, np.ndarray] = field(default_factory=dict)  # name -> [N] bool
    # dataset indices still in the pool, never shown to the person (presumed negatives come
    # from here); None where the caller has no pool
    unlabeled: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.indices)


@dataclass(frozen=True)
class FitReport:
    """What one `Classifier.fit` did."""

    epochs: int
    best_epoch: int
    val_accuracy: float | None
    n_train: int
    n_val: int
    # dataset indices of unlabeled items trained as negatives without a rating (Stretcu et al.
    # 2023's presumed negatives); None when the fit used none
    presumed_negatives: np.ndarray | None = None


def as_indices(values: Iterable[int] | np.ndarray) -> np.ndarray:
    """Positions as a 1-d int64 array."""
    return np.asarray(values, dtype=np.int64).reshape(-1)
