"""A classifier that needs no training: a zero-shot labeler proposes every label from round 0."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import numpy as np
from tqdm.auto import tqdm

from ..core.component import nested_component
from ..types import FitReport
from ..zero_shot.base import labelers
from .base import Classifier, classifiers

PROGRESS_FROM = 512  # images to label at once before a progress bar is shown (on a terminal)
BATCH = 64


@classifiers.register("zero_shot", "zeroshot")
class ZeroShot(Classifier):
    """Labels with a model that was never trained on the task (Zhang et al. 2024, "Augmenting
    Image Annotation: A Human-LMM Collaborative Framework"; Stretcu et al. 2023's zero-shot
    baseline): `ready` before any fit, so it pre-labels from round 0; `fit` does nothing.

    `backend` names the labeler (`hitlbench list labeler`): `imagenet_wordnet` (default,
    offline), `open_clip`, `openai` (an OpenAI-compatible vision-language server) or
    `simulated` (a labeler of a given accuracy); a name or {name, params}. An item the labeler
    cannot answer gets an all-zero row: the loop sends it to the person, who labels it from
    scratch (`unparseable` in the record). Answers are kept per item and crop, so an image is
    labeled once however often the sampler and the holdout ask.
    """

    nested: ClassVar[dict[str, tuple[str, str]]] = {"backend": ("labeler", "imagenet_wordnet")}
    # 2: a concept task's Concept reaches the labeler (its classes' synsets and phrases); the
    # same answers on a task of the dataset's own classes
    version = "2"

    def __init__(self, backend: str | dict[str, Any] | None = None):
        self.backend = backend
        self.labeler = nested_component(labelers, backend, "imagenet_wordnet")
        self._answers: dict[tuple[int, bytes], np.ndarray] = {}

    def check_classes(self, class_names, *, concept=None):
        self.labeler.check_classes(class_names, concept=concept)

    def bind(self, task, *, device, seed):
        self.task = task
        self.labeler.check_classes(task.class_names, concept=task.concept)
        self.labeler.bind(task, device=device, seed=seed)

    def reveal(self, labels):
        self.labeler.reveal(labels)

    @property
    def ready(self) -> bool:
        return True

    def fit(self, train, *, feedback, rng):
        return FitReport(epochs=0, best_epoch=0, val_accuracy=None, n_train=len(train), n_val=0)

    def _keys(self, images: np.ndarray, items: np.ndarray) -> list[tuple[int, bytes]]:
        return [
            (int(item), hashlib.blake2b(np.ascontiguousarray(image).tobytes()).digest())
            for item, image in zip(items, images, strict=True)
        ]

    def _label(self, images: np.ndarray, items: np.ndarray) -> list[tuple[int, bytes]]:
        """Ask the labeler about the images it has not answered yet; returns every key."""
        keys = self._keys(images, np.asarray(items, np.int64))
        first = {key: i for i, key in reversed(list(enumerate(keys)))}
        todo = [first[key] for key in dict.fromkeys(keys) if key not in self._answers]
        bar = tqdm(
            total=len(todo), desc="zero-shot labels", unit="img", leave=False,
            disable=None if len(todo) >= PROGRESS_FROM else True,
        )  # fmt: skip
        with bar:
            for start in range(0, len(todo), BATCH):
                chosen = np.asarray(todo[start : start + BATCH], np.int64)
                answers = self.labeler.answer(images[chosen], np.asarray(items)[chosen])
                for row, position in enumerate(chosen):
                    self._answers[keys[position]] = answers.proba[row].astype(np.float32)
                bar.update(len(chosen))
        return keys

    def predict_proba(self, images, *, items):
        keys = self._label(images, items)
        if not keys:
            return np.zeros((0, self.task.n_classes), np.float32)
        return np.stack([self._answers[key] for key in keys])
