"""Hidden gold-standard items that screen a crowd's annotators as they work."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..core.component import nested_component
from ..types import Action, Effort, Review, Want
from .base import Oracle, oracles, refuse_unsupported
from .crowd import Crowd


@oracles.register("gold_screening", "gold")
class GoldScreening(Oracle):
    """A crowd (`crowd`, default `crowd`) screened by hidden gold-standard items interspersed in
    its work (Humans in the Loop whitepaper, part 2: gold standards as continuous screening).

    `gold_items` items of the pool are set aside at the split (never the holdout, never trained
    on). Each round every active annotator also answers gold items, `gold_rate` of as many as
    the batch items they answered (at least one), from scratch (`label_scratch` each: gold
    effort is counted). Their accuracy is estimated on all their gold answers so far; from
    `min_answers` gold answers on, an annotator whose estimate is below `min_accuracy` is
    dropped from later rounds (the most accurate one always stays). The record keeps, per
    round, each annotator's estimate and who was dropped.
    """

    provides = frozenset({Want.LABEL})
    nested: ClassVar[dict[str, tuple[str, str]]] = {"crowd": ("oracle", "crowd")}
    # 2: its rows carry the crowd's `wrong_agreement` and `error_correlation` (crowd 3)
    version = "2"

    def __init__(
        self,
        crowd: str | dict[str, Any] | None = None,
        gold_items: int = 100,
        gold_rate: float = 0.1,
        min_accuracy: float = 0.6,
        min_answers: int = 5,
    ):
        if gold_items < 1:
            raise ValueError(f"gold_items must be >= 1, got {gold_items}")
        if not 0.0 < gold_rate <= 1.0:
            raise ValueError(f"gold_rate must be in (0, 1], got {gold_rate}")
        if not 0.0 <= min_accuracy <= 1.0 or min_answers < 1:
            raise ValueError("min_accuracy must be in [0, 1] and min_answers >= 1")
        self.crowd = crowd
        self.gold_items = gold_items
        self.gold_rate = gold_rate
        self.min_accuracy = min_accuracy
        self.min_answers = min_answers
        self.inner = nested_component(oracles, crowd, "crowd")
        if not isinstance(self.inner, Crowd):
            raise ValueError(f"crowd must name a crowd oracle, got {type(self.inner).__name__}")

    def gold_size(self, n_pool):
        return min(self.gold_items, n_pool - 1)

    def prepare(self, data, *, progress):
        return self.inner.prepare(data, progress=progress)

    def bind(self, task, *, gold, rng):
        if gold is None or not len(gold.indices):
            raise ValueError("gold_screening needs gold items carved out of the pool")
        self.inner.bind(task, gold=None, rng=rng)
        self.gold = gold
        self.right = np.zeros(self.inner.k, np.int64)
        self.asked = np.zeros(self.inner.k, np.int64)

    def review(self, items, *, truth, proposal, proposed_boxes=None, wants, rng):
        refuse_unsupported(self, wants)
        review = self.inner.review(
            items, truth=truth, proposal=proposal, proposed_boxes=proposed_boxes,
            wants=wants, rng=rng,
        )  # fmt: skip
        answered = np.bincount(review.answers[:, 0], minlength=self.inner.k)
        effort = Effort(review.effort)
        for who in np.flatnonzero(answered):
            n = min(len(self.gold.indices), max(1, math.ceil(self.gold_rate * answered[who])))
            pick = rng.choice(len(self.gold.indices), size=n, replace=False)
            truth_gold = self.gold.labels[pick]
            said = self.inner.answer_alone(who, truth_gold, rng, items=self.gold.indices[pick])
            self.right[who] += int((said == truth_gold).sum())
            self.asked[who] += n
            effort.add(Action.LABEL_SCRATCH, n)
        estimate = np.where(self.asked > 0, self.right / np.maximum(self.asked, 1), np.nan)
        dropped = self._screen(estimate)
        extras = {
            **review.extras,
            "gold_accuracy": [None if np.isnan(e) else round(float(e), 6) for e in estimate],
            "dropped": dropped,
        }
        return Review(
            labels=review.labels,
            corrections=review.corrections,
            labels_drawn=review.labels_drawn,
            effort=effort,
            answers=review.answers,
            extras=extras,
        )

    def _screen(self, estimate: np.ndarray) -> list[int]:
        """Drop the active annotators below `min_accuracy` (with enough gold answers); the
        best one always stays. Returns who has been dropped so far."""
        judged = self.inner.active & (self.asked >= self.min_answers)
        failing = judged & (np.nan_to_num(estimate, nan=1.0) < self.min_accuracy)
        keep = self.inner.active & ~failing
        if not keep.any():  # everyone failed: keep the most accurate
            keep[np.nanargmax(np.where(self.inner.active, estimate, -1.0))] = True
        self.inner.active = keep
        return [int(i) for i in np.flatnonzero(~keep)]

    def relabel(self, items):
        return self.inner.relabel(items)
