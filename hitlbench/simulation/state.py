"""What a run carries from round to round: the pool left, everything labeled with the boxes and
masks the person gave, the error-analysis counts and the running totals of the round rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..annotators.person import UNSURE
from ..oracles.base import Oracle
from ..types import HitlbenchError
from .error_analysis import ErrorCounts
from .evaluation import crop_masks
from .step_results import Reviewed, Selection


class GivenMasks:
    """Region masks the person drew, batch by batch; all-False where they drew none."""

    def __init__(self, shape: tuple[int, ...]):
        self.shape = tuple(shape)
        self.batches: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []

    def add(self, asked: np.ndarray, masks: Mapping[str, np.ndarray]) -> None:
        """A batch's masks by name; `asked` ([N] bool) marks the items the person was asked about."""
        self.batches.append((np.asarray(asked, bool), dict(masks)))

    def _stacked(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        masks = [m.get(name, np.zeros((len(a), *self.shape), bool)) for a, m in self.batches]
        given = [a & (name in m) for a, m in self.batches]
        return np.concatenate(masks).astype(bool), np.concatenate(given)

    def views(self, boxes: np.ndarray, size: tuple[int, int]) -> tuple[dict, dict]:
        """(masks cropped with each image's training box, which images have one) by name."""
        names = sorted({name for _, m in self.batches for name in m})
        stacked = {name: self._stacked(name) for name in names}
        masks = {name: crop_masks(m, boxes, size) for name, (m, _) in stacked.items()}
        return masks, {name: given for name, (_, given) in stacked.items()}


@dataclass
class Totals:
    """The rows' running totals (the `*_cum` fields)."""

    corrections: int = 0
    missed: int = 0
    unsure: int = 0
    unanswered: int = 0
    effort_s: float = 0.0

    def add(self, reviewed: Reviewed) -> None:
        self.corrections += reviewed.review.corrections
        self.missed += reviewed.n_missed
        self.unsure += reviewed.n_unsure
        self.unanswered += reviewed.unanswered
        self.effort_s += reviewed.effort_s


@dataclass
class LoopState:
    """The pool (dataset indices) left to label and what was labeled so far: int64 indices and
    training labels, float32 [N, 4] boxes the person gave (NaN rows: none), their masks."""

    pool: np.ndarray
    errors: ErrorCounts
    given_masks: GivenMasks
    labeled_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    labeled_y: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    given_boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    totals: Totals = field(default_factory=Totals)

    @classmethod
    def start(cls, pool: np.ndarray, n_classes: int, image_shape: tuple[int, ...]) -> LoopState:
        """Nothing labeled yet; `image_shape` (H, W) is the shape of a drawn mask."""
        return cls(pool.copy(), ErrorCounts(n_classes), GivenMasks(image_shape))

    def take(self, selection: Selection, reviewed: Reviewed, oracle: Oracle, round_index: int):
        """Labeled += review: the batch leaves the pool; its sure items enter training with the
        person's labels, boxes and masks (an item marked unsure never does); the oracle may
        revise earlier labels. Raises `HitlbenchError` when nothing at all is labeled."""
        sure = reviewed.sure
        self.errors.add_review(
            reviewed.truth.labels, reviewed.corrected, reviewed.missed, reviewed.answers
        )
        self.labeled_idx = np.concatenate([self.labeled_idx, selection.items[sure]])
        self.labeled_y = np.concatenate([self.labeled_y, reviewed.labels[sure]])
        if not len(self.labeled_idx):
            raise HitlbenchError(
                f"oracle {oracle.registered_name!r} marked every item of round "
                f"{round_index}'s batch unsure, so nothing can be trained; use a larger batch or "
                "a lower `unsure`"
            )
        revised = oracle.relabel(self.labeled_idx)  # later answers may revise earlier labels
        if revised is not None:
            self.labeled_y = np.where(np.asarray(revised) == UNSURE, self.labeled_y, revised)
        self.given_boxes = np.concatenate([self.given_boxes, reviewed.boxes[sure]])
        masks = {name: m[sure] for name, m in reviewed.review.masks.items()}
        self.given_masks.add(reviewed.truth.mask_asked[sure], masks)
        self.pool = np.delete(self.pool, selection.positions)
        self.totals.add(reviewed)
