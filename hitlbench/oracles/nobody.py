"""Nobody reviews: the model's pre-labels are taken as they are."""

from __future__ import annotations

import numpy as np

from ..annotators.person import UNSURE
from ..types import NO_ANSWER, Effort, HitlbenchError, Review
from .base import Oracle, oracles, refuse_unsupported


@oracles.register("none", "nobody")
class Nobody(Oracle):
    """No person at all: every pre-label enters as it is, at no effort (the zero-shot baseline
    of Stretcu et al. 2023, which rates nothing).

    Needs a classifier that pre-labels from the start (`zero_shot`); an item the model cannot
    answer is left unlabeled (counted `unsure`, never trained on). Every wrong pre-label is a
    missed correction, so the record's label errors are the model's own.
    """

    version = "1"
    needs_ready_classifier = True

    def review(self, items, *, truth, proposal, proposed_boxes=None, wants, rng) -> Review:
        refuse_unsupported(self, wants)
        if proposal is None:
            raise HitlbenchError(
                "oracle 'none' takes the model's pre-labels, but the classifier proposed none; "
                "use a classifier that is ready before any fit (zero_shot)"
            )
        labels = np.where(proposal.labels == NO_ANSWER, UNSURE, proposal.labels)
        return Review(
            labels=labels.astype(np.int64),
            corrections=0,
            labels_drawn=0,
            effort=Effort(),
            answers=np.zeros((0, 3), np.int64),  # nobody answered
        )
