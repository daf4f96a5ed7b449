"""The perfect person: always right, never tired."""

from __future__ import annotations

from ..types import MASK_OF_WANT, Want
from .base import Oracle, oracles, person_review


@oracles.register("perfect", "ground_truth")
class PerfectOracle(Oracle):
    """Answers with the ground truth and fixes every wrong proposal (Holmes et al. 2023).

    Boxes, when asked for: drawn where none was proposed, corrected where the proposed box's IoU
    with the object is below `box_tolerance` (0.7, the usual "good box" threshold), else accepted.
    Region masks (spurious or object, Hagos et al. 2024), when asked for: the true masks.
    """

    provides = frozenset({Want.LABEL, Want.BOX, *MASK_OF_WANT})
    version = "2"  # 1: the same answers, before every person shared `person_review`

    def __init__(self, box_tolerance: float = 0.7):
        if not 0.0 < box_tolerance <= 1.0:
            raise ValueError(f"box_tolerance must be in (0, 1], got {box_tolerance}")
        self.box_tolerance = box_tolerance

    def review(self, items, *, truth, proposal, proposed_boxes=None, wants, rng):
        return person_review(
            self,
            truth.labels,
            truth=truth,
            proposal=proposal,
            proposed_boxes=proposed_boxes,
            wants=wants,
            accept_wrong=0.0,
            box_tolerance=self.box_tolerance,
            rng=rng,
        )
