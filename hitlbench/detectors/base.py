"""Detectors propose one class-agnostic box per image so the classifier sees a crop."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from ..core.component import Component
from ..core.registry import Registry
from ..types import LabeledView, Want


class Detector(Component, ABC):
    """One box per image, xyxy in pixels of the uncropped image; a NaN row where it finds none."""

    needs_boxes: ClassVar[bool] = False  # True: the dataset must carry true boxes
    drawn_by_person: ClassVar[bool] = False  # True: boxes come from the person, not a model

    def bind(self, *, device: str, seed: int) -> None:  # noqa: B027 - optional hook
        """Called once before the loop: where to compute, and the seed for initial weights."""

    def requires(self) -> frozenset[Want]:
        """Every annotation this detector may ask the person for in a run (checked against what
        the dataset and the oracle offer before any data is loaded)."""
        return frozenset({Want.BOX}) if self.needs_boxes else frozenset()

    def wants(self, round: int, items: np.ndarray) -> frozenset[Want]:
        """What the person must provide for this batch (e.g. boxes); within `requires()`."""
        return frozenset()

    def learn(self, labeled: LabeledView, round: int) -> None:  # noqa: B027 - optional hook
        """Learn from what has been labeled so far (DESIGN §1 `update`; renamed so that a
        detector can take an `update` parameter, as frcnn does for BB / BB-1)."""

    @abstractmethod
    def propose(self, images: np.ndarray, *, true_boxes: np.ndarray | None = None) -> np.ndarray:
        """Boxes [N, 4] (xyxy pixels) for images [N, C, H, W]; NaN rows: no box (whole image).

        `true_boxes` (what the person would draw) is given only to detectors `drawn_by_person`.
        """


detectors: Registry[Detector] = Registry("detector", Detector, group="hitlbench.detectors")


def whole_image_boxes(images: np.ndarray) -> np.ndarray:
    """The box that covers each whole image."""
    n, _, h, w = images.shape
    return np.tile(np.array([0.0, 0.0, w, h], dtype=np.float32), (n, 1))
