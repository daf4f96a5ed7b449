"""The perfect person: always right, never tired."""

from __future__ import annotations

from .base import PersonOracle, oracles


@oracles.register("perfect", "ground_truth")
class PerfectOracle(PersonOracle):
    """Answers with the ground truth and fixes every wrong proposal (Holmes et al. 2023).

    Boxes, when asked for: drawn where none was proposed, corrected where the proposed box's IoU
    with the object is below `box_tolerance` (0.7, the usual "good box" threshold), else checked
    and accepted (`box_verify`). `box_tolerance: 1.0` is the paper's person, who returns the true
    box for every proposed box they are shown (only a perfect one is accepted).
    Region masks (spurious or object, Hagos et al. 2024), when asked for: the true masks.
    """

    # 1: the same answers, before every person shared `person_review`. 3: an accepted proposed
    # box is counted (`box_verify`) instead of free
    version = "3"

    def __init__(self, box_tolerance: float = 0.7):
        self.box_tolerance = self.checked_box_tolerance(box_tolerance)
