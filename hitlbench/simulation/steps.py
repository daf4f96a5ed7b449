"""DESIGN §1's round as its six steps: select, propose, review, update, fit, evaluate.

`RoundSteps` holds what stays fixed over a run (the split, the components, the settings, how
images are boxed and cropped); each step takes what the steps before it returned
(`step_results`) and the run's `LoopState`, and only `LoopState.take` changes that state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..annotators.person import UNSURE
from ..classifiers.base import answered_argmax
from ..core.crops import crop_resize
from ..core.effort import as_ratings, to_seconds
from ..data.base import SplitData
from ..samplers.base import samplers
from ..types import (
    NO_ANSWER,
    DivergedError,
    Effort,
    FitReport,
    HitlbenchError,
    LabeledView,
    PoolView,
    Proposal,
    Review,
    Truth,
    Want,
    as_indices,
)
from .cam_examples import cam_examples, example_positions
from .evaluation import checked_proba, diverged, holdout_metrics
from .imagery import Imagery, through
from .parts import Components, LoopRngs, LoopSettings
from .state import LoopState
from .step_results import Evaluation, Proposed, Reviewed, Selection


class RoundSteps:
    """The steps of a round over one run's split, components and settings."""

    def __init__(self, split: SplitData, parts: Components, settings: LoopSettings):
        self.split = split
        self.parts = parts
        self.settings = settings
        self.data = split.data
        self.task = self.data.task()
        self.imagery = Imagery(self.data, parts.detector, self.task.input_shape[1:])
        holdout_labels = self.data.labels[split.holdout]
        self.examples = example_positions(holdout_labels) if self.data.masks else None

    def select(self, state: LoopState, index: int, rngs: LoopRngs) -> Selection:
        """The sampler picks the batch from the pool (of the batch size, or all that is left),
        seeing the classifier once it is ready; with `first_batch: random`, round 0's batch is
        plain random from the run's own first-batch stream instead, so every sampler of one
        seed starts from the same items."""
        sampler, rng = self.parts.sampler, rngs.sampler
        if index == 0 and self.settings.first_batch == "random":
            sampler, rng = samplers.create("random"), rngs.first_batch
        pool, batch_size = state.pool, self.settings.batch_size
        k = len(pool) if batch_size is None else min(batch_size, len(pool))
        model = self.parts.classifier if self.parts.classifier.ready else None
        view = PoolView(
            pool,
            crops=through(pool, self.imagery.crops),
            raw=through(pool, self.imagery.raw),
            labeled=state.labeled_y,
            labeled_items=state.labeled_idx,
            labeled_crops=through(state.labeled_idx, self.imagery.crops),
        )
        positions = sampler.select(view, k, model=model, rng=rng)
        positions = self._checked_positions(positions, k, len(pool))
        return Selection(positions, pool[positions], model)

    def _checked_positions(self, positions: Any, k: int, n_pool: int) -> np.ndarray:
        """`positions` as int64, refused unless they are k distinct positions in the pool."""
        positions = as_indices(positions)
        sampler = self.parts.sampler
        name = sampler.registered_name or type(sampler).__name__
        if len(positions) != k or len(np.unique(positions)) != k:
            raise HitlbenchError(
                f"sampler {name!r} returned {len(positions)} positions, not {k} distinct"
            )
        if positions.min() < 0 or positions.max() >= n_pool:
            raise HitlbenchError(
                f"sampler {name!r} returned a position outside the pool of {n_pool}"
            )
        return positions

    def propose(self, selection: Selection, round_index: int) -> Proposed:
        """The detector boxes the batch and a ready model pre-labels the crops."""
        detected = self.imagery.detect(selection.items)
        proposal = None
        if selection.model is not None:
            crops = detected.crops(self.imagery.size)
            proba = checked_proba(
                selection.model, crops, selection.items, self.task.n_classes, round_index
            )
            proposal = Proposal(labels=answered_argmax(proba), proba=proba)
        boxes = None
        if not self.parts.detector.drawn_by_person:
            boxes = np.where(detected.fallback[:, None], np.nan, detected.boxes)
        return Proposed(detected, proposal, boxes)

    def review(
        self, selection: Selection, proposed: Proposed, round_index: int, rng: np.random.Generator
    ) -> Reviewed:
        """The person answers what the feedback and the detector want of the batch, starting
        from the proposals; their answers are judged against the truth and counted."""
        items, proposal = selection.items, proposed.proposal
        truth = self._truth(items, round_index)
        review = self.parts.oracle.review(
            items,
            truth=truth,
            proposal=proposal,
            proposed_boxes=proposed.boxes,
            wants=self._wants(round_index, items),
            rng=rng,
        )
        labels = np.asarray(review.labels, dtype=np.int64)
        sure = labels != UNSURE  # an item marked unsure leaves the pool, never trained on
        corrected, missed = _judged(labels, truth.labels, proposal, sure)
        boxes = np.full((len(items), 4), np.nan, np.float32)
        if review.boxes is not None:
            boxes[:] = review.boxes
        effort = self._effort(review)
        return Reviewed(
            review=review,
            truth=truth,
            labels=labels,
            sure=sure,
            corrected=corrected,
            missed=missed,
            answers=_sure_answers(review, labels),
            boxes=boxes,
            effort=effort,
            effort_s=to_seconds(effort, self.settings.effort_seconds),
            unanswered=0 if proposal is None else int((proposal.labels == NO_ANSWER).sum()),
        )

    def _wants(self, round_index: int, items: np.ndarray) -> frozenset[Want]:
        parts = self.parts
        return (
            frozenset({Want.LABEL})
            | parts.feedback.wants(round_index, items)
            | parts.detector.wants(round_index, items)
        )

    def _truth(self, items: np.ndarray, round_index: int) -> Truth:
        """What a perfect person would answer, and which items the feedback asks masks of."""
        data = self.data
        return Truth(
            labels=data.labels[items],
            boxes=None if data.boxes is None else data.boxes[items],
            masks={name: mask[items] for name, mask in data.masks.items()},
            mask_asked=self.parts.feedback.mask_items(round_index, items),
        )

    def _effort(self, review: Review) -> dict[str, int]:
        effort = Effort(review.effort).as_dict()
        if self.task.concept is not None:  # a concept task: every answer is one yes/no rating
            effort = as_ratings(effort)
        return effort

    def update(self, state: LoopState, round_index: int) -> None:
        """The detector learns from the boxes given so far (BB: every round; BB-1: once)."""
        indices = state.labeled_idx
        labeled = LabeledView(
            indices=indices,
            labels=state.labeled_y,
            raw=through(indices, self.imagery.raw),
            boxes=state.given_boxes,
        )
        self.parts.detector.learn(labeled, round_index)

    def fit(self, state: LoopState, round_index: int, rng: np.random.Generator) -> FitReport:
        """The classifier trains on everything labeled, cropped as DESIGN §1's table says: the
        person's box where they gave one, else the predicted box (always predicted for the
        early-stopping split); raises `DivergedError` naming what to tune."""
        indices, size = state.labeled_idx, self.imagery.size
        detected = self.imagery.detect(indices)
        has_box = ~np.isnan(state.given_boxes).any(axis=1)
        train_boxes = np.where(has_box[:, None], state.given_boxes, detected.boxes)
        masks, has_mask = state.given_masks.views(train_boxes, size)
        labeled = LabeledView(
            indices=indices,
            labels=state.labeled_y,
            images=crop_resize(detected.images, train_boxes, size),
            val_images=detected.crops(size),
            raw=through(indices, self.imagery.raw),
            boxes=state.given_boxes,
            masks=masks,
            has_mask=has_mask,
            unlabeled=state.pool,
        )
        try:
            return self.parts.classifier.fit(labeled, feedback=self.parts.feedback, rng=rng)
        except DivergedError as exc:
            raise diverged(self.parts.classifier, round_index, str(exc)) from exc

    def evaluate(self, round_index: int) -> Evaluation:
        """The holdout, boxed by the detector (never the person), scored on its true labels,
        with Grad-CAM examples where the data has masks."""
        holdout, size = self.split.holdout, self.imagery.size
        detected = self.imagery.detect(holdout)
        metrics, predicted = holdout_metrics(
            self.parts.classifier,
            self.data,
            holdout,
            detected.images,
            detected.boxes,
            detected.fallback,
            size,
            round_index,
            cam=self.settings.cam,
        )
        shown = None
        if self.examples is not None:
            at = self.examples
            shown = cam_examples(
                self.parts.classifier,
                crop_resize(detected.images[at], detected.boxes[at], size),
                self.data.labels[holdout[at]],
                holdout[at],
                cam=self.settings.cam,
            )
        return Evaluation(metrics, predicted, shown)


def _judged(
    labels: np.ndarray, truth: np.ndarray, proposal: Proposal | None, sure: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """[k] bool: the sure proposals the person changed, and the wrong ones they accepted."""
    corrected = np.zeros(len(labels), bool)
    missed = np.zeros(len(labels), bool)
    if proposal is not None:
        proposed = proposal.labels != NO_ANSWER
        corrected = sure & proposed & (labels != proposal.labels)
        missed = sure & proposed & (proposal.labels != truth) & (labels == proposal.labels)
    return corrected, missed


def _sure_answers(review: Review, labels: np.ndarray) -> np.ndarray:
    """Every answer but "unsure", int64 [M, 3] (annotator, position, label); one person's
    label is their answer."""
    answers = review.answers
    if answers is None:
        answers = np.stack([np.zeros(len(labels), np.int64), np.arange(len(labels)), labels], 1)
    return answers[answers[:, 2] != UNSURE]
