"""Labelers: models that label a task's images with no training on it (zero-shot).

A labeler answers each image with a distribution over the task's classes, or with an all-zero
row where it cannot answer (an unparseable reply, an image outside every class it knows); the
`zero_shot` classifier hands these to the loop, which sends unanswered items to the person.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.component import Component
from ..core.registry import Registry
from ..types import TaskInfo


@dataclass(frozen=True)
class Answers:
    """A labeler's answers for N images of a task with C classes."""

    proba: np.ndarray  # float32 [N, C]: rows sum to 1, or are all zero where it cannot answer
    fine: tuple[str | None, ...]  # [N] a finer label where it has one, e.g. "tabby (cat)"

    def __post_init__(self):
        if self.proba.ndim != 2 or len(self.fine) != len(self.proba):
            raise ValueError(
                f"answers: proba {self.proba.shape} and {len(self.fine)} fine labels disagree"
            )


class Labeler(Component, ABC):
    """Labels images of any task from its class names alone."""

    def check_classes(  # noqa: B027 - optional hook
        self, class_names: Sequence[str], *, concept: Any = None
    ) -> None:
        """Refuse, with a `HitlbenchError` naming them, classes this labeler cannot label (on a
        concept task `concept` is its `hitlbench.concepts.Concept`); called before any image is
        decoded."""

    @abstractmethod
    def bind(self, task: TaskInfo, *, device: str, seed: int) -> None:
        """Called once before the first answer: load the model, prepare the class names."""

    @abstractmethod
    def answer(self, images: np.ndarray, items: np.ndarray) -> Answers:
        """Answers for `images` (float32 [N, C, H, W] in [0, 1], the crops the loop shows) whose
        dataset indices are `items` (int64 [N])."""

    def reveal(self, labels: np.ndarray) -> None:  # noqa: B027 - optional hook
        """The task's true labels by dataset index (int64), given before the first answer; only
        a simulated labeler reads them, to draw its answers."""

    def record_summary(self) -> dict[str, Any]:
        """What the run's record adds to its summary (the `openai` labeler: its replies counted
        by kind); nothing by default."""
        return {}


labelers: Registry[Labeler] = Registry("labeler", Labeler, group="hitlbench.labelers")
