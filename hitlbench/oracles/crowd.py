"""Several annotators per item, their answers aggregated into one training label."""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..annotators import confusion
from ..annotators.aggregation import aggregate
from ..annotators.agreement import error_agreement, krippendorff_alpha
from ..annotators.person import UNSURE, Person
from ..types import NO_ANSWER, Effort, Proposal, Review, Want
from .base import Oracle, label_review, oracles, refuse_unsupported
from .error_models import ADDED_PARAMS, ErrorModel, ItemDependentPeople


@oracles.register("crowd", "consensus")
class Crowd(ItemDependentPeople, Oracle):
    """`k` annotators, `redundancy` of them per item, their answers aggregated (Humans in the
    Loop whitepaper, part 2: consensus over several annotators; Dawid & Skene 1979).

    Annotator i is right with probability `accuracies[i]` (default 0.8 for all), errors spread
    over the other classes; with `schools` > 0 the annotators fall into that many groups (i mod
    `schools`) that share one interpretation: each group sends its errors on class t to one
    other class drawn once, so its members agree on the same wrong labels. With `error_model:
    item` each annotator errs more on hard items, toward the classes the item is confused with
    (`oracles.error_models`), so different people's errors fall on the same items. Each annotator who
    answers an item treats the proposal by the shared rule and costs one label action
    (`label_accept` / `label_correct`, `label_scratch` without one, `label_unsure` when
    unsure, see `noisy`); the row's `corrections` counts items whose aggregated label differs
    from the proposal. `aggregation`: `majority_vote` (ties at random), or `dawid_skene`, `glad`
    or `mace` from crowd-kit (`pip install 'hitlbench[crowd]'`), refitted each round on every
    answer so far, so earlier items' training labels may change. An item every annotator marked
    unsure leaves the pool. Per round the row's `oracle` block gives the agreement
    (Krippendorff's alpha, nominal), how alike the annotators' mistakes were
    (`wrong_agreement`, `error_correlation`: `annotators.agreement.error_agreement`) and the
    aggregated labels' accuracy (`label_accuracy`).
    """

    provides = frozenset({Want.LABEL})
    # 2: an item the model could not pre-label (`NO_ANSWER`) is labeled from scratch, not
    # counted as a correction; the same answers otherwise. 3: the round's `oracle` block says
    # how alike the mistakes were (`wrong_agreement`, `error_correlation`); the same answers
    version = "3"
    added_params = ADDED_PARAMS

    def __init__(
        self,
        k: int = 3,
        accuracies: list[float] | None = None,
        redundancy: int | None = None,
        aggregation: Literal["majority_vote", "dawid_skene", "glad", "mace"] = "majority_vote",
        schools: int = 0,
        unsure: float = 0.0,
        error_model: ErrorModel = "uniform",
        difficulty_slope: float = 1.0,
    ):
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if accuracies is not None and (
            len(accuracies) != k or any(not 0.0 <= a <= 1.0 for a in accuracies)
        ):
            raise ValueError(f"accuracies must be {k} values in [0, 1] (one per annotator)")
        if redundancy is not None and not 1 <= redundancy <= k:
            raise ValueError(f"redundancy must be between 1 and k ({k}), got {redundancy}")
        if not 0 <= schools <= k:
            raise ValueError(f"schools must be between 0 and k ({k}), got {schools}")
        if not 0.0 <= unsure <= 1.0:
            raise ValueError(f"unsure must be in [0, 1], got {unsure}")
        self.k = k
        self.accuracies = accuracies
        self.redundancy = redundancy
        self.aggregation = aggregation
        self.schools = schools
        self.unsure = unsure
        self.set_error_model(error_model, difficulty_slope)
        self.people: list[Person] = []
        self.active = np.ones(k, bool)

    # -- the people ---------------------------------------------------------------------------

    def bind(self, task, *, gold, rng):
        n = task.n_classes
        accuracies = self.accuracies or [0.8] * self.k
        shared = [rng.integers(1, n, size=n) for _ in range(self.schools)]  # offsets != 0
        self.people = []
        for i, accuracy in enumerate(accuracies):
            matrix = confusion.symmetric(n, accuracy)
            if self.schools:
                wrong = (np.arange(n) + shared[i % self.schools]) % n
                matrix = np.zeros((n, n))
                matrix[np.arange(n), np.arange(n)] = accuracy
                matrix[np.arange(n), wrong] += 1.0 - accuracy
            self.people.append(self.person_with(matrix, self.unsure))
        self.active = np.ones(self.k, bool)
        self.n_classes = n
        self._answers = np.zeros((0, 3), np.int64)  # (dataset index, annotator, label), all rounds
        self._labels: dict[int, int] = {}

    def answer_alone(
        self,
        who: int,
        truth: np.ndarray,
        rng: np.random.Generator,
        *,
        items: np.ndarray | None = None,
    ) -> np.ndarray:
        """Annotator `who`'s own answers to dataset items `items` [N] with true labels `truth`
        [N] (`UNSURE` marked); `items` may be None unless errors depend on the item."""
        person = self.people[who]
        answers = person.answer(truth, rng, items)
        answers[person.unsure_of(truth, rng, items)] = UNSURE
        return answers

    # -- a batch ------------------------------------------------------------------------------

    def _assign(self, n_items: int, rng: np.random.Generator) -> list[np.ndarray]:
        """For each item, the annotators (among the active ones) who answer it."""
        active = np.flatnonzero(self.active)
        r = min(self.redundancy or self.k, len(active))
        return [np.sort(rng.choice(active, size=r, replace=False)) for _ in range(n_items)]

    def review(self, items, *, truth, proposal, proposed_boxes=None, wants, rng):
        refuse_unsupported(self, wants)
        who = self._assign(len(items), rng)
        proposed = None if proposal is None else np.asarray(proposal.labels)
        answers, effort = [], Effort()
        for i in range(self.k):
            positions = np.array([p for p, w in enumerate(who) if i in w], np.int64)
            if not len(positions):
                continue
            # no automation bias in a crowd: by the shared rule each submits their own answer
            own = self.answer_alone(i, truth.labels[positions], rng, items=items[positions])
            shown = None if proposal is None else _subset(proposal, positions)
            effort = effort + label_review(own, shown)[2]
            answers += [(i, int(p), int(a)) for p, a in zip(positions, own, strict=True)]
        given = np.array(answers, np.int64).reshape(-1, 3)
        sure = given[given[:, 2] != UNSURE]
        batch = np.stack([items[sure[:, 1]], sure[:, 0], sure[:, 2]], axis=1)
        self._answers = np.concatenate([self._answers, batch])
        # a vote concerns its own item only; a model is refitted on every answer so far
        fitted = batch if self.aggregation == "majority_vote" else self._answers
        self._labels.update(aggregate(self.aggregation, *fitted.T, self.n_classes, rng))
        labels = np.array([self._labels.get(int(item), UNSURE) for item in items], np.int64)
        answered = labels != UNSURE
        unproposed = np.ones(len(items), bool) if proposed is None else proposed == NO_ANSWER
        corrections = int((answered & ~unproposed & (labels != proposed)).sum())
        return Review(
            labels=labels,
            corrections=corrections,
            labels_drawn=int((answered & unproposed).sum()),
            effort=effort,
            answers=given,
            extras={
                "agreement": krippendorff_alpha(sure[:, 1], sure[:, 0], sure[:, 2]),
                **error_agreement(_by_annotator(sure, len(items), self.k), truth.labels),
                "label_accuracy": _share(labels[answered] == truth.labels[answered]),
                "annotators": int(self.active.sum()),
            },
        )

    def relabel(self, items):
        if self.aggregation == "majority_vote":
            return None  # an item's vote never changes once given
        return np.array([self._labels.get(int(i), UNSURE) for i in items], np.int64)


def _by_annotator(sure: np.ndarray, n_items: int, k: int) -> np.ndarray:
    """int64 [n_items, k]: each annotator's label for each batch position (-1: none), from
    rows (annotator, position, label)."""
    table = np.full((n_items, k), -1, np.int64)
    table[sure[:, 1], sure[:, 0]] = sure[:, 2]
    return table


def _share(hits: np.ndarray) -> float | None:
    """The share of True in `hits` (None for none): the aggregated labels' accuracy."""
    return round(float(hits.mean()), 6) if len(hits) else None


def _subset(proposal: Proposal, positions: np.ndarray) -> Proposal:
    return Proposal(labels=proposal.labels[positions], proba=proposal.proba[positions])
