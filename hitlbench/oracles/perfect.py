"""The perfect person: always right, never tired."""

from __future__ import annotations

from ..types import MASK_OF_WANT, HitlbenchError, Review, Want
from .base import (
    Oracle,
    box_review,
    label_review,
    mask_review,
    oracles,
    refuse_unsupported,
)


@oracles.register("perfect", "ground_truth")
class PerfectOracle(Oracle):
    """Answers with the ground truth and fixes every wrong proposal (Holmes et al. 2023).

    Boxes, when asked for: drawn where none was proposed, corrected where the proposed box's IoU
    with the object is below `box_tolerance` (0.7, the usual "good box" threshold), else accepted.
    Region masks (spurious or object, Hagos et al. 2024), when asked for: the true masks.
    """

    provides = frozenset({Want.LABEL, Want.BOX, *MASK_OF_WANT})

    def __init__(self, box_tolerance: float = 0.7):
        if not 0.0 < box_tolerance <= 1.0:
            raise ValueError(f"box_tolerance must be in (0, 1], got {box_tolerance}")
        self.box_tolerance = box_tolerance

    def review(self, items, *, truth, proposal, proposed_boxes=None, wants, rng):
        refuse_unsupported(self, wants)
        labels = truth.labels.copy()
        corrections, drawn, effort = label_review(labels, proposal)
        boxes = None
        if Want.BOX in wants:
            if truth.boxes is None:
                raise HitlbenchError("boxes were asked for, but the dataset has no true boxes")
            boxes, box_effort = box_review(truth.boxes, proposed_boxes, self.box_tolerance)
            effort = effort + box_effort
        masks, mask_effort = mask_review(truth, wants)
        return Review(
            labels=labels,
            corrections=corrections,
            labels_drawn=drawn,
            effort=effort + mask_effort,
            boxes=boxes,
            masks=masks,
        )
