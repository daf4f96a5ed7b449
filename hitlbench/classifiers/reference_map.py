"""Reference explainers: input-independent maps (or the object mask) scored like Grad-CAM."""

from __future__ import annotations

import numpy as np

from ..types import FitReport
from .base import Classifier, classifiers

MAPS = ("whole_image", "central_square", "object_mask")


@classifiers.register("reference_map")
class ReferenceMap(Classifier):
    """Not a model: it learns nothing, answers no item (all-zero probability rows, so its
    accuracy is 0 and means nothing) and explains every image with a fixed map, so that a
    leaderboard shows what a map that looks at nothing scores on the explanation metrics.

    `map`: "whole_image" (1 on every pixel), "central_square" (1 on a centred `side` x `side`
    square, in pixels, clipped to the image), or "object_mask" (the true `object` mask itself:
    the best a map can do; None when no masks are given). Raises `ValueError` for another map
    or a side < 1.
    """

    def __init__(self, map: str = "whole_image", side: int = 20):
        if map not in MAPS:
            raise ValueError(f"map must be one of {', '.join(MAPS)}, got {map!r}")
        if side < 1:
            raise ValueError(f"side must be >= 1 pixel, got {side}")
        self.map, self.side = map, side
        self._fitted = False

    def bind(self, task, *, device, seed):
        self.task = task
        self._fitted = False

    def fit(self, train, *, feedback, rng):
        self._fitted = True
        return FitReport(epochs=0, best_epoch=0, val_accuracy=None, n_train=len(train), n_val=0)

    @property
    def ready(self):
        return self._fitted

    def predict_proba(self, images, *, items):
        return np.zeros((len(items), self.task.n_classes), np.float32)

    def explain(self, images, *, target=None, cam=None, masks=None):
        n, _, h, w = images.shape
        if self.map == "object_mask":
            return None if masks is None else np.asarray(masks["object"], np.float32)
        maps = np.zeros((n, h, w), np.float32)
        if self.map == "whole_image":
            maps[:] = 1.0
        else:
            top, left = max(0, (h - self.side) // 2), max(0, (w - self.side) // 2)
            maps[:, top : top + self.side, left : left + self.side] = 1.0
        return maps
