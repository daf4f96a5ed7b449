"""Reference explainers: input-independent maps (or the object mask) scored like Grad-CAM."""

from __future__ import annotations

import numpy as np

from ..core.crops import crop_resize
from ..types import FitReport
from .base import Classifier, classifiers

MAPS = ("whole_image", "central_square", "mean_object", "object_mask")


@classifiers.register("reference_map")
class ReferenceMap(Classifier):
    """Not a model: it learns nothing, answers no item (all-zero probability rows, so its
    accuracy is 0 and means nothing) and explains every image with a fixed map, so that a
    leaderboard shows what a map that looks at nothing scores on the explanation metrics.

    `map`: "whole_image" (1 on every pixel), "central_square" (1 on a centred `side` x `side`
    square, in pixels, clipped to the image), "mean_object" (the per-pixel mean of the true
    `object` masks of the items it is trained on, i.e. the pool's labeled items, never the
    images it explains: the best input-independent prior on Fashion-MNIST, whose items are
    large and centred; None when the data has no object masks), or "object_mask" (the true
    `object` mask itself: the best a map can do; None when no masks are given). Raises
    `ValueError` for another map or a side < 1.
    """

    # 2: adds the map "mean_object"; "whole_image", "central_square" and "object_mask" draw
    # exactly the maps of version 1.
    version = "2"

    def __init__(self, map: str = "whole_image", side: int = 20):
        if map not in MAPS:
            raise ValueError(f"map must be one of {', '.join(MAPS)}, got {map!r}")
        if side < 1:
            raise ValueError(f"side must be >= 1 pixel, got {side}")
        self.map, self.side = map, side
        self._fitted = False
        self._object_masks: np.ndarray | None = None  # every item's, by dataset index
        self._mean: np.ndarray | None = None  # float32 [H, W], from the last fit's items

    def bind(self, task, *, device, seed):
        self.task = task
        self._fitted = False
        self._mean = None

    def prepare(self, data, *, progress):
        """Keeps the dataset's true object masks (by dataset index) for "mean_object", whose
        `fit` averages those of the items it is given and no other."""
        if self.map == "mean_object":
            self._object_masks = data.masks.get("object")
        return None

    def fit(self, train, *, feedback, rng):
        self._fitted = True
        if self.map == "mean_object" and self._object_masks is not None and len(train):
            trained = self._object_masks[np.asarray(train.indices, np.int64)]
            self._mean = trained.mean(axis=0, dtype=np.float64).astype(np.float32)
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
        if self.map == "mean_object":
            return None if self._mean is None else self._mean_map(n, (h, w))
        if self.map == "whole_image":
            return np.ones((n, h, w), np.float32)
        return central_square(n, (h, w), self.side)

    def _mean_map(self, n: int, size: tuple[int, int]) -> np.ndarray:
        """The mean object mask for `n` images of `size` (resized from the whole image's when a
        detector crops to another size), the same map for every image."""
        mean = self._mean[None, None]
        mh, mw = self._mean.shape
        mean = crop_resize(mean, np.array([[0, 0, mw, mh]], np.float32), size)[0, 0]
        return np.broadcast_to(mean, (n, *size)).astype(np.float32)


def central_square(n: int, shape: tuple[int, int], side: int) -> np.ndarray:
    """float32 [n, H, W]: 1 on a centred `side` x `side` square (pixels, clipped to the image),
    0 elsewhere. Raises `ValueError` for side < 1."""
    if side < 1:
        raise ValueError(f"side must be >= 1 pixel, got {side}")
    h, w = shape
    out = np.zeros((n, h, w), np.float32)
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    out[:, top : top + side, left : left + side] = 1.0
    return out
