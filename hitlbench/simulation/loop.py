"""The human-in-the-loop protocol of DESIGN §1: select, propose, review, update, fit, evaluate."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..annotators.person import UNSURE
from ..classifiers.base import Classifier, answered_argmax
from ..core.crops import crop_resize
from ..core.effort import as_ratings, to_seconds
from ..core.explain import CamSpec
from ..data.base import SplitData
from ..detectors.base import Detector, whole_image_boxes
from ..feedback.base import Feedback
from ..oracles.base import Oracle
from ..samplers.base import Sampler
from ..types import (
    NO_ANSWER,
    DivergedError,
    Effort,
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
from .error_analysis import ErrorCounts
from .evaluation import (
    EVALUATION_CAM,
    checked_proba,
    class_coverage,
    crop_masks,
    diverged,
    holdout_metrics,
    label_quality,
)


@dataclass
class Components:
    """One instance of each kind, ready to run."""

    sampler: Sampler
    detector: Detector
    classifier: Classifier
    oracle: Oracle
    feedback: Feedback


@dataclass(frozen=True)
class LoopSettings:
    batch_size: int | None  # None: everything in one round
    rounds: int | None  # None: until the pool is exhausted
    effort_seconds: Mapping[str, float]
    cam: CamSpec = EVALUATION_CAM  # the maps explanation metrics score (`evaluation_cam`)


@dataclass(frozen=True)
class LoopRngs:
    """Independent random streams, so changing one component never shifts another's draws."""

    sampler: np.random.Generator
    oracle: np.random.Generator
    fit: np.random.Generator


@contextmanager
def _timed(times: dict[str, float], phase: str):
    start = time.perf_counter()
    yield
    times[phase] = round(time.perf_counter() - start, 4)


class _GivenMasks:
    """Region masks the person drew, batch by batch; all-False where they drew none."""

    def __init__(self, shape: tuple[int, ...]):
        self.shape = tuple(shape)
        self.batches: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []

    def add(self, asked: np.ndarray, masks: Mapping[str, np.ndarray]) -> None:
        """A batch's masks by name; `asked` ([N] bool) marks the items the person was asked about."""
        self.batches.append((np.asarray(asked, bool), dict(masks)))

    def _stacked(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        masks = [m.get(name, np.zeros((len(a), *self.shape), bool)) for a, m in self.batches]
        given = [a & (name in m) for a, m in self.batches]
        return np.concatenate(masks).astype(bool), np.concatenate(given)

    def views(self, boxes: np.ndarray, size: tuple[int, int]) -> tuple[dict, dict]:
        """(masks cropped with each image's training box, which images have one) by name."""
        names = sorted({name for _, m in self.batches for name in m})
        stacked = {name: self._stacked(name) for name in names}
        masks = {name: crop_masks(m, boxes, size) for name, (m, _) in stacked.items()}
        return masks, {name: given for name, (_, given) in stacked.items()}


def _through(indices: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]):
    """Positions into `indices` -> `fn` of the dataset indices there."""
    return lambda positions: fn(indices[positions])


def _checked_positions(positions: Any, k: int, n_pool: int, sampler: Sampler) -> np.ndarray:
    positions = as_indices(positions)
    name = sampler.registered_name or type(sampler).__name__
    if len(positions) != k or len(np.unique(positions)) != k:
        raise HitlbenchError(
            f"sampler {name!r} returned {len(positions)} positions, not {k} distinct"
        )
    if positions.min() < 0 or positions.max() >= n_pool:
        raise HitlbenchError(f"sampler {name!r} returned a position outside the pool of {n_pool}")
    return positions


def run_loop(
    split: SplitData,
    parts: Components,
    settings: LoopSettings,
    rngs: LoopRngs,
    on_round: Callable[[dict], None] | None = None,
) -> tuple[list[dict], ErrorCounts]:
    """Run rounds until the pool or the round budget is exhausted: one row per round, and the
    counts of the run's error analysis."""
    data = split.data
    task = data.task()
    size = task.input_shape[1:]
    person_boxes = parts.detector.drawn_by_person

    def raw(idx: np.ndarray) -> np.ndarray:
        return data.images[idx].astype(np.float32) / 255.0

    def detect(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(images, boxes with whole-image fallbacks, fallback mask) for dataset indices."""
        images = raw(idx)
        true_boxes = data.boxes[idx] if person_boxes and data.boxes is not None else None
        boxes = np.asarray(parts.detector.propose(images, true_boxes=true_boxes), np.float32)
        fallback = np.isnan(boxes).any(axis=1)
        boxes[fallback] = whole_image_boxes(images[fallback])
        return images, boxes, fallback

    def crops(idx: np.ndarray) -> np.ndarray:
        images, boxes, _ = detect(idx)
        return crop_resize(images, boxes, size)

    pool = split.pool.copy()
    pool_labels = data.labels[split.pool]  # the class shares an order's labels are held against
    labeled_idx = np.zeros(0, dtype=np.int64)
    labeled_y = np.zeros(0, dtype=np.int64)
    given_boxes = np.zeros((0, 4), dtype=np.float32)  # NaN rows: the person gave no box
    given_masks = _GivenMasks(data.images.shape[2:])
    examples = example_positions(data.labels[split.holdout]) if data.masks else None
    rows: list[dict] = []
    corrections_cum, missed_cum, unsure_cum, unanswered_cum, effort_s_cum = 0, 0, 0, 0, 0.0
    errors = ErrorCounts(task.n_classes)
    round_index = 0
    while len(pool) and (settings.rounds is None or round_index < settings.rounds):
        times: dict[str, float] = {}
        k = len(pool) if settings.batch_size is None else min(settings.batch_size, len(pool))
        model = parts.classifier if parts.classifier.ready else None
        with _timed(times, "select"):
            view = PoolView(
                pool, crops=_through(pool, crops), raw=_through(pool, raw), labeled=labeled_y
            )
            positions = parts.sampler.select(view, k, model=model, rng=rngs.sampler)
            positions = _checked_positions(positions, k, len(pool), parts.sampler)
        items = pool[positions]
        with _timed(times, "propose"):
            images, boxes, fallback = detect(items)
            proposal = None
            if model is not None:
                crops_now = crop_resize(images, boxes, size)
                proba = checked_proba(model, crops_now, items, task.n_classes, round_index)
                proposal = Proposal(labels=answered_argmax(proba), proba=proba)
            proposed_boxes = None
            if not person_boxes:
                proposed_boxes = np.where(fallback[:, None], np.nan, boxes)
        if proposal is not None:  # a labeler's latency per item (timings stay under time_s)
            times["propose_per_item"] = round(times["propose"] / len(items), 6)
        wants = (
            frozenset({Want.LABEL})
            | parts.feedback.wants(round_index, items)
            | parts.detector.wants(round_index, items)
        )
        mask_asked = parts.feedback.mask_items(round_index, items)
        truth = Truth(
            labels=data.labels[items],
            boxes=None if data.boxes is None else data.boxes[items],
            masks={name: mask[items] for name, mask in data.masks.items()},
            mask_asked=mask_asked,
        )
        with _timed(times, "review"):
            review = parts.oracle.review(
                items,
                truth=truth,
                proposal=proposal,
                proposed_boxes=proposed_boxes,
                wants=wants,
                rng=rngs.oracle,
            )
        labels = np.asarray(review.labels, dtype=np.int64)
        sure = labels != UNSURE  # an item marked unsure leaves the pool, never trained on
        missed = _record_review(errors, review, truth.labels, proposal, sure)
        labeled_idx = np.concatenate([labeled_idx, items[sure]])
        labeled_y = np.concatenate([labeled_y, labels[sure]])
        if not len(labeled_idx):
            raise HitlbenchError(
                f"oracle {parts.oracle.registered_name!r} marked every item of round "
                f"{round_index}'s batch unsure, so nothing can be trained; use a larger batch or "
                "a lower `unsure`"
            )
        revised = parts.oracle.relabel(labeled_idx)  # later answers may revise earlier labels
        if revised is not None:
            labeled_y = np.where(np.asarray(revised) == UNSURE, labeled_y, revised)
        batch_boxes = np.full((len(items), 4), np.nan, np.float32)
        if review.boxes is not None:
            batch_boxes[:] = review.boxes
        given_boxes = np.concatenate([given_boxes, batch_boxes[sure]])
        given_masks.add(mask_asked[sure], {name: m[sure] for name, m in review.masks.items()})
        pool = np.delete(pool, positions)
        with _timed(times, "update"):
            parts.detector.learn(
                LabeledView(
                    indices=labeled_idx,
                    labels=labeled_y,
                    raw=_through(labeled_idx, raw),
                    boxes=given_boxes,
                ),
                round_index,
            )
        with _timed(times, "fit"):
            images, predicted_boxes, _ = detect(labeled_idx)
            has_box = ~np.isnan(given_boxes).any(axis=1)
            train_boxes = np.where(has_box[:, None], given_boxes, predicted_boxes)
            masks, has_mask = given_masks.views(train_boxes, size)
            labeled = LabeledView(
                indices=labeled_idx,
                labels=labeled_y,
                images=crop_resize(images, train_boxes, size),
                val_images=crop_resize(images, predicted_boxes, size),
                raw=_through(labeled_idx, raw),
                boxes=given_boxes,
                masks=masks,
                has_mask=has_mask,
                unlabeled=pool,
            )
            try:
                report = parts.classifier.fit(labeled, feedback=parts.feedback, rng=rngs.fit)
            except DivergedError as exc:
                raise diverged(parts.classifier, round_index, str(exc)) from exc
        with _timed(times, "evaluate"):
            images, boxes, fallback = detect(split.holdout)
            metrics, predicted = holdout_metrics(
                parts.classifier,
                data,
                split.holdout,
                images,
                boxes,
                fallback,
                size,
                round_index,
                cam=settings.cam,
            )
            errors.set_holdout(data.labels[split.holdout], predicted)
            shown = None
            if examples is not None:
                shown = cam_examples(
                    parts.classifier,
                    crop_resize(images[examples], boxes[examples], size),
                    data.labels[split.holdout[examples]],
                    split.holdout[examples],
                    cam=settings.cam,
                )
        effort = Effort(review.effort).as_dict()
        if task.concept is not None:  # a concept task: every answer is one yes/no rating
            effort = as_ratings(effort)
        effort_s = to_seconds(effort, settings.effort_seconds)
        corrections_cum += review.corrections
        missed_cum += missed
        unanswered = 0 if proposal is None else int((proposal.labels == NO_ANSWER).sum())
        unanswered_cum += unanswered
        unsure_cum += int((~sure).sum())
        effort_s_cum += effort_s
        row = {
            "round": round_index,
            "n_labeled": int(len(labeled_idx)),
            "labels_drawn": int(review.labels_drawn),
            "corrections": int(review.corrections),
            "corrections_cum": int(corrections_cum),
            "missed_corrections": missed,
            "missed_corrections_cum": missed_cum,
            "unsure": int((~sure).sum()),
            "unsure_cum": unsure_cum,
            **_proposal_quality(proposal, truth.labels, unanswered, unanswered_cum),
            **label_quality(labeled_y, data.labels[labeled_idx]),
            **class_coverage(data.labels[labeled_idx], pool_labels, task.n_classes),
            "effort": effort,
            "effort_s": round(effort_s, 6),
            "effort_s_cum": round(effort_s_cum, 6),
            "metrics": metrics,
            "fit": {"epochs": report.epochs, "best_epoch": report.best_epoch},
            "time_s": times,
        }
        if report.presumed_negatives is not None:  # how many of them are in fact positives
            presumed = np.asarray(report.presumed_negatives, np.int64)
            row["presumed_negatives"] = int(len(presumed))
            row["presumed_negatives_positive"] = int((data.labels[presumed] != 0).sum())
        if review.extras:
            row["oracle"] = dict(review.extras)
        if shown is not None:
            row["cam_examples"] = shown
        rows.append(row)
        if on_round is not None:
            on_round(row)
        round_index += 1
    return rows, errors


def _proposal_quality(
    proposal: Proposal | None, truth: np.ndarray, unanswered: int, unanswered_cum: int
) -> dict:
    """The model's pre-labels of a batch against the truth: how many it `proposed` (0 before
    the model is ready), their `proposal_accuracy` (an item it could not answer counts as wrong;
    None without proposals) and `unparseable` (its items with no answer, which the person
    labeled from scratch), for the round and so far."""
    accuracy = None
    if proposal is not None:
        accuracy = round(float(np.mean(proposal.labels == truth)), 6)
    return {
        "proposed": 0 if proposal is None else len(truth),
        "proposal_accuracy": accuracy,
        "unparseable": unanswered,
        "unparseable_cum": unanswered_cum,
    }


def _record_review(
    errors: ErrorCounts,
    review: Review,
    truth: np.ndarray,
    proposal: Proposal | None,
    sure: np.ndarray,
) -> int:
    """Add a batch's corrections, missed corrections and answers to the error counts; returns
    how many wrong proposals entered training as they were (missed corrections)."""
    labels = np.asarray(review.labels)
    corrected = np.zeros(len(labels), bool)
    missed = np.zeros(len(labels), bool)
    if proposal is not None:
        proposed = proposal.labels != NO_ANSWER
        corrected = sure & proposed & (labels != proposal.labels)
        missed = sure & proposed & (proposal.labels != truth) & (labels == proposal.labels)
    answers = review.answers
    if answers is None:  # one person: their label is their answer
        answers = np.stack([np.zeros(len(labels), np.int64), np.arange(len(labels)), labels], 1)
    errors.add_review(truth, corrected, missed, answers[answers[:, 2] != UNSURE])
    return int(missed.sum())
