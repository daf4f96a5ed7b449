"""Classifiers propose labels for crops and are retrained on everything labeled so far."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..component import Component
from ..registry import Registry
from ..types import FitReport, LabeledView, TaskInfo

if TYPE_CHECKING:
    from ..feedback.base import Feedback


class Classifier(Component, ABC):
    """Maps crops [N, C, H, W] (float32 in [0, 1]) to class probabilities [N, n_classes]."""

    cam_layer: ClassVar[str | None] = None  # module path for Grad-CAM, if supported
    # The parameters that decide whether training converges; a run that diverges names them.
    tuning: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def bind(self, task: TaskInfo, *, device: str, seed: int) -> None:
        """Called once before the loop: build the model; `seed` fixes its initial weights."""

    @abstractmethod
    def fit(self, train: LabeledView, *, feedback: Feedback, rng: np.random.Generator) -> FitReport:
        """Train on all labeled items (from the initial weights unless warm-starting)."""

    @abstractmethod
    def predict_proba(self, images: np.ndarray) -> np.ndarray: ...

    @property
    @abstractmethod
    def ready(self) -> bool:
        """Whether the classifier can propose labels now (after a fit, or zero-shot from the start)."""

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.predict_proba(images).argmax(axis=1)

    def explain(self, images: np.ndarray) -> np.ndarray | None:
        """Grad-CAM maps [N, H, W] of the predicted class, or None without a `cam_layer`."""
        return None


classifiers: Registry[Classifier] = Registry(
    "classifier", Classifier, group="hitlbench.classifiers"
)
