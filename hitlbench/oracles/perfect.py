"""The perfect person: always right, never tired."""

from __future__ import annotations

from ..types import Review
from .base import Oracle, label_review, oracles, refuse_unsupported


@oracles.register("perfect", "ground_truth")
class PerfectOracle(Oracle):
    """Answers with the ground truth and fixes every wrong proposal (Holmes et al. 2023)."""

    def review(self, items, *, truth, proposal, wants, rng):
        refuse_unsupported(self, wants, frozenset())
        labels = truth.labels.copy()
        corrections, drawn, effort = label_review(labels, proposal)
        return Review(labels=labels, corrections=corrections, labels_drawn=drawn, effort=effort)
