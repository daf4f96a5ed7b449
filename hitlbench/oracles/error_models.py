"""Whose mistakes depend on the item: the `error_model` every oracle of imperfect people takes.

- `uniform` (the default, and every run before it existed): a person's chance of error depends
  on the true class only, and a wrong answer follows their confusion row;
- `item`: it rises with the item's difficulty for a reference model that is not the loop's
  classifier, and a wrong answer goes to the classes that model confuses the item with, at the
  same average rate per class (`annotators.item_errors`). On a concept task the same model makes
  a concept rater: hard negatives are rated "yes" more often, atypical positives "no".
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..annotators.item_errors import REFERENCE, ItemErrors, reference_probabilities
from ..annotators.person import Person
from ..data.base import ImageData
from ..types import HitlbenchError

ErrorModel = Literal["uniform", "item"]
# added after runs were published: at these values a run keeps its identity
ADDED_PARAMS = {"error_model": "uniform", "difficulty_slope": 1.0}


class ItemDependentPeople:
    """For an oracle of simulated people: set `error_model` and `difficulty_slope` in its
    `__init__` (`set_error_model`), and make each person with `person_with`."""

    error_model: ErrorModel = "uniform"
    difficulty_slope: float = 1.0
    _reference: tuple[np.ndarray, np.ndarray] | None = None

    def set_error_model(self, error_model: ErrorModel, difficulty_slope: float) -> None:
        """Store both; ValueError for a slope that is not a finite number >= 0."""
        if not np.isfinite(difficulty_slope) or difficulty_slope < 0:
            raise ValueError(
                f"difficulty_slope must be a finite number >= 0, got {difficulty_slope}"
            )
        self.error_model = error_model
        self.difficulty_slope = difficulty_slope

    def prepare(self, data: ImageData, *, progress: bool) -> str | None:
        """With `error_model: item`, the reference model's out-of-fold probabilities over
        `data` (fitted once per collection and cached)."""
        if self.error_model == "uniform":
            return None
        proba = reference_probabilities(data.images, data.labels, len(data.class_names))
        self._reference = (proba, data.labels)
        return (
            f"item-dependent errors: a reference {REFERENCE['model']} scored out of "
            f"{REFERENCE['folds']} folds over {len(data.labels)} items (cached)"
        )

    def person_with(self, confusion: np.ndarray, unsure: float) -> Person:
        """A person with this confusion matrix [C, C], their errors item-dependent or not."""
        if self.error_model == "uniform":
            return Person(confusion, unsure)
        if self._reference is None:
            raise HitlbenchError("error_model 'item' needs the collection: call prepare first")
        proba, labels = self._reference
        items = ItemErrors.calibrated(proba, labels, confusion, self.difficulty_slope)
        return Person(confusion, unsure, items)
