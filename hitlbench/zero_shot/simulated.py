"""A labeler of known accuracy: for studying when zero-shot labeling pays, and as a known-answer
test of the effort accounting."""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..annotators import confusion
from ..types import HitlbenchError
from .base import Answers, Labeler, labelers


@labelers.register("simulated", "simulated_labeler")
class SimulatedLabeler(Labeler):
    """Answers right with probability `accuracy`, else a wrong class drawn from its errors'
    structure: `symmetric` (any other class) or `similar` (the other members of the true class's
    group of visually similar classes, `similar`; by default Fashion-MNIST's tops and shoes).

    Each item's answer is drawn from its own stream, seeded by (the run's labeler seed, the
    item's dataset index), so the sampler, the proposal and the holdout get the same answer for
    the same item whatever order they ask in. Answers are one-hot rows. It reads the true labels
    (`reveal`), as a simulation must; with `accuracy` a, a person who accepts right proposals
    and corrects wrong ones pays, per item, `label_accept` x a + `label_correct` x (1 - a).
    """

    def __init__(
        self,
        accuracy: float = 0.9,
        structure: Literal["symmetric", "similar"] = "symmetric",
        similar: list[list[str]] | None = None,
    ):
        if not 0.0 <= accuracy <= 1.0:
            raise ValueError(f"accuracy must be in [0, 1], got {accuracy}")
        self.accuracy = accuracy
        self.structure = structure
        self.similar = similar
        self.truth: np.ndarray | None = None

    def bind(self, task, *, device, seed):
        names = task.class_names
        if self.structure == "similar":
            groups = self.similar if self.similar is not None else confusion.FMNIST_SIMILAR
            self.confusion = confusion.similar_classes(names, self.accuracy, groups)
        else:
            self.confusion = confusion.symmetric(len(names), self.accuracy)
        self.n_classes = len(names)
        self.seed = int(seed)

    def reveal(self, labels):
        self.truth = np.asarray(labels, np.int64)

    def answer(self, images, items):
        if self.truth is None:
            raise HitlbenchError("the simulated labeler needs the true labels (reveal) first")
        items = np.asarray(items, np.int64)
        draws = np.array([np.random.default_rng([self.seed, int(i)]).random() for i in items])
        labels = confusion.draw(self.confusion, self.truth[items], draws)
        proba = np.zeros((len(items), self.n_classes), np.float32)
        proba[np.arange(len(items)), labels] = 1.0
        return Answers(proba=proba, fine=(None,) * len(items))
