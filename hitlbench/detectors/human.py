"""The person draws every box; a model only labels the crops."""

from __future__ import annotations

import numpy as np

from ..types import Want
from .base import Detector, detectors


@detectors.register("human", "human_drawn")
class HumanBoxes(Detector):
    """The person draws the box around every image's object (Zhang et al. 2024); box effort counted."""

    needs_boxes = True
    drawn_by_person = True

    def wants(self, round, items):
        return frozenset({Want.BOX})

    def propose(self, images, *, true_boxes=None):
        if true_boxes is None:
            raise ValueError("the human detector needs the true boxes (what the person draws)")
        return np.asarray(true_boxes, np.float32)
