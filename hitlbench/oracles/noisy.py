"""One imperfect annotator: symmetric or structured label noise, a bias against some classes."""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..annotators import confusion
from ..annotators.person import UNSURE, Person
from .base import PersonOracle, oracles
from .error_models import ADDED_PARAMS, ErrorModel, ItemDependentPeople


@oracles.register("noisy", "noisy_annotator")
class NoisyOracle(ItemDependentPeople, PersonOracle):
    """One annotator who is wrong with probability `p` (Humans in the Loop whitepaper, part 2:
    noisy and biased annotators).

    `structure: symmetric` spreads the errors over every other class; `similar` over the other
    members of the true class's group of visually similar classes (`similar`, class names; by
    default Fashion-MNIST's tops and shoes); `confusion` gives the whole matrix instead (row t:
    the answer's distribution when the truth is t). `class_accuracy` ({class name: accuracy})
    sets some classes' accuracy apart, a bias against them. With `unsure` > 0 the person marks
    an item unsure with probability `unsure` x their error rate on it: it leaves the pool
    and never enters training. With `error_model: item` the errors depend on the item, at the
    same average rate on each class (`oracles.error_models`; `difficulty_slope`: how steeply);
    the confusion structure then only weights where wrong answers go, item by item.
    Proposals are treated by the shared rule (`person_review`) with no
    automation bias; boxes and masks, when asked for, as a careful person gives them.
    """

    # error_model added, uniform by default;
    # benchmarks/same_behaviour.py gave 24 of 26 records equal against 79f914f (the other
    # two, crowds, changed by design)
    same_behaviour_as = ("90de6651835a0831",)

    version = "2"  # an accepted proposed box is counted (`box_verify`) instead of free
    added_params = ADDED_PARAMS

    def __init__(
        self,
        p: float = 0.1,
        structure: Literal["symmetric", "similar"] = "symmetric",
        similar: list[list[str]] | None = None,
        confusion: list[list[float]] | None = None,
        class_accuracy: dict[str, float] | None = None,
        unsure: float = 0.0,
        box_tolerance: float = 0.7,
        error_model: ErrorModel = "uniform",
        difficulty_slope: float = 1.0,
    ):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be in [0, 1], got {p}")
        if not 0.0 <= unsure <= 1.0:
            raise ValueError(f"unsure must be in [0, 1], got {unsure}")
        if any(not 0.0 <= a <= 1.0 for a in (class_accuracy or {}).values()):
            raise ValueError("class_accuracy values must be in [0, 1]")
        self.p = p
        self.structure = structure
        self.similar = similar
        self.confusion = confusion
        self.class_accuracy = class_accuracy
        self.unsure = unsure
        self.box_tolerance = self.checked_box_tolerance(box_tolerance)
        self.set_error_model(error_model, difficulty_slope)
        self.person: Person | None = None

    def bind(self, task, *, gold, rng):
        self.person = self.person_with(self.matrix(task.class_names), self.unsure)

    def matrix(self, class_names: tuple[str, ...]) -> np.ndarray:
        """The annotator's confusion matrix for these classes."""
        n = len(class_names)
        if self.confusion is not None:
            matrix = confusion.check(self.confusion, n, "oracle 'noisy' confusion")
        elif self.structure == "similar":
            groups = self.similar if self.similar is not None else confusion.FMNIST_SIMILAR
            matrix = confusion.similar_classes(class_names, 1.0 - self.p, groups)
        else:
            matrix = confusion.symmetric(n, 1.0 - self.p)
        return confusion.with_class_accuracy(matrix, class_names, self.class_accuracy or {})

    def own_answers(self, truth, rng, *, items=None):
        answers = self.person.answer(truth, rng, items)
        answers[self.person.unsure_of(truth, rng, items)] = UNSURE
        return answers
