"""A few holdout images with their Grad-CAM, kept in each round's record for figures."""

from __future__ import annotations

import numpy as np

from ..classifiers.base import Classifier
from ..core.explain import CamSpec

N_EXAMPLES = 4


def example_positions(labels: np.ndarray, n: int = N_EXAMPLES) -> np.ndarray:
    """Positions of the first holdout item of each of the first `n` classes met, in order."""
    _, first = np.unique(labels, return_index=True)
    return np.sort(first)[:n]


def _as_bytes(images: np.ndarray) -> list:
    """Each image scaled by its own maximum to 0..255 integers (all zero stays zero)."""
    images = np.asarray(images, np.float64).clip(min=0)
    peak = images.reshape(len(images), -1).max(axis=1)
    scale = np.divide(255.0, peak, out=np.zeros_like(peak), where=peak > 0)
    return np.rint(images * scale[:, None, None]).astype(np.uint8).tolist()


def cam_examples(
    classifier: Classifier,
    crops: np.ndarray,
    labels: np.ndarray,
    items: np.ndarray,
    cam: CamSpec | None = None,
) -> dict | None:
    """The crops (first channel), their labels and the Grad-CAM (`cam`: the run's
    `evaluation_cam`; its positive part is drawn) of the predicted class, or None for a
    classifier without a Grad-CAM layer."""
    maps = classifier.explain(crops, cam=cam)
    if maps is None:
        return None
    return {
        "items": [int(i) for i in items],
        "labels": [int(y) for y in labels],
        "predicted": [int(p) for p in classifier.predict(crops, items=items)],
        "image": _as_bytes(crops[:, 0]),
        "cam": _as_bytes(maps),
    }
