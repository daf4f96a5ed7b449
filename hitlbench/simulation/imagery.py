"""The dataset's images as the loop hands them out: scaled to [0, 1], boxed by the detector (or
by the person, for a detector whose boxes they draw), and cropped to the classifier's input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.crops import crop_resize
from ..data.base import ImageData
from ..detectors.base import Detector, whole_image_boxes


@dataclass(frozen=True)
class Detected:
    """Images with one box each: float32 [N, C, H, W] in [0, 1], float32 [N, 4] xyxy pixels,
    and [N] bool `fallback`, where the detector found nothing and the box is the whole image."""

    images: np.ndarray
    boxes: np.ndarray
    fallback: np.ndarray

    def crops(self, size: tuple[int, int]) -> np.ndarray:
        """Each image cropped to its box and resized to `size` (height, width)."""
        return crop_resize(self.images, self.boxes, size)


class Imagery:
    """`data`'s images by dataset index, as `detector` boxes them; crops of `size` pixels."""

    def __init__(self, data: ImageData, detector: Detector, size: tuple[int, int]):
        self.data = data
        self.detector = detector
        self.size = size

    def raw(self, indices: np.ndarray) -> np.ndarray:
        """float32 [N, C, H, W] in [0, 1], before any cropping."""
        return self.data.images[indices].astype(np.float32) / 255.0

    def detect(self, indices: np.ndarray) -> Detected:
        """The images and their boxes, the whole image where the detector gives none (a NaN
        row); a detector whose boxes the person draws receives the true boxes."""
        images = self.raw(indices)
        drawn = self.detector.drawn_by_person and self.data.boxes is not None
        true_boxes = self.data.boxes[indices] if drawn else None
        boxes = np.asarray(self.detector.propose(images, true_boxes=true_boxes), np.float32)
        fallback = np.isnan(boxes).any(axis=1)
        boxes[fallback] = whole_image_boxes(images[fallback])
        return Detected(images, boxes, fallback)

    def crops(self, indices: np.ndarray) -> np.ndarray:
        """float32 [N, C, *size]: what the classifier sees of each item."""
        return self.detect(indices).crops(self.size)


def through(indices: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]):
    """Positions into `indices` -> `fn` of the dataset indices there (a view's lazy access)."""
    return lambda positions: fn(indices[positions])
