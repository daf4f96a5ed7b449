"""The perfect person: always right, never tired."""

from __future__ import annotations

from .base import PersonOracle, oracles


@oracles.register("perfect", "ground_truth")
class PerfectOracle(PersonOracle):
    """Answers with the ground truth and fixes every wrong proposal (Holmes et al. 2023).

    Boxes, when asked for: drawn where none was proposed, corrected where the proposed box's IoU
    with the object is below `box_tolerance` (0.7, the usual "good box" threshold), else accepted.
    Region masks (spurious or object, Hagos et al. 2024), when asked for: the true masks.
    """

    version = "2"  # 1: the same answers, before every person shared `person_review`

    def __init__(self, box_tolerance: float = 0.7):
        if not 0.0 < box_tolerance <= 1.0:
            raise ValueError(f"box_tolerance must be in (0, 1], got {box_tolerance}")
        self.box_tolerance = box_tolerance
