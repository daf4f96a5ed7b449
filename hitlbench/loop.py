"""The human-in-the-loop protocol of DESIGN §1: select, propose, review, update, fit, evaluate."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from .cam_examples import cam_examples, example_positions
from .classifiers.base import Classifier
from .crops import crop_resize
from .data.base import ImageData, SplitData
from .detectors.base import Detector, whole_image_boxes
from .effort import to_seconds
from .feedback.base import Feedback
from .metrics import accuracy, box_metrics, explanation_metrics, macro_f1
from .oracles.base import Oracle
from .samplers.base import Sampler
from .types import (
    DivergedError,
    Effort,
    HitlbenchError,
    LabeledView,
    PoolView,
    Proposal,
    Truth,
    Want,
    as_indices,
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
        masks = {name: _crop_masks(m, boxes, size) for name, (m, _) in stacked.items()}
        return masks, {name: given for name, (_, given) in stacked.items()}


def _crop_masks(masks: np.ndarray, boxes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return crop_resize(masks[:, None].astype(np.float32), boxes, size)[:, 0] > 0.5


def diverged(classifier: Classifier, round_index: int, problem: str) -> DivergedError:
    """The error that stops a run whose classifier diverged, naming what to look at."""
    params = classifier.get_params()
    look = [p for p in classifier.tuning if p in params] or list(params)
    settings = ", ".join(f"{p}={params[p]!r}" for p in look)
    return DivergedError(
        f"classifier {classifier.registered_name!r} diverged in round {round_index}: {problem}; "
        f"look at its {settings}"
    )


def checked_proba(
    classifier: Classifier, images: np.ndarray, n_classes: int, round_index: int
) -> np.ndarray:
    """`classifier.predict_proba(images)`, refused unless it is a finite [N, n_classes] array."""
    proba = np.asarray(classifier.predict_proba(images))
    if proba.shape != (len(images), n_classes):
        raise HitlbenchError(
            f"classifier {classifier.registered_name!r} returned probabilities of shape "
            f"{proba.shape} for {len(images)} images; expected ({len(images)}, {n_classes})"
        )
    bad = int((~np.isfinite(proba)).any(axis=1).sum())
    if bad:
        raise diverged(
            classifier,
            round_index,
            f"its probabilities are not finite for {bad} of {len(proba)} images",
        )
    return proba


def holdout_metrics(
    classifier: Classifier,
    data: ImageData,
    holdout: np.ndarray,
    images: np.ndarray,
    boxes: np.ndarray,
    size: tuple[int, int],
    round_index: int,
) -> dict[str, float]:
    """Accuracy and macro-F1 on the holdout cropped with predicted boxes; where the data allows,
    accuracy on the same items without their decoy, and how well Grad-CAM matches each mask."""
    truth = data.labels[holdout]
    crops = crop_resize(images, boxes, size)
    n_classes = len(data.class_names)
    predicted = checked_proba(classifier, crops, n_classes, round_index).argmax(axis=1)
    metrics = {"accuracy": accuracy(truth, predicted), "macro_f1": macro_f1(truth, predicted)}
    if data.clean_images is not None:  # the shortcut's cost
        clean = crop_resize(data.clean_images[holdout].astype(np.float32) / 255.0, boxes, size)
        metrics["accuracy_clean"] = accuracy(
            truth, checked_proba(classifier, clean, n_classes, round_index).argmax(axis=1)
        )
    if data.masks and (maps := classifier.explain(crops)) is not None:
        masks = {name: _crop_masks(m[holdout], boxes, size) for name, m in data.masks.items()}
        metrics.update(explanation_metrics(maps, masks))
    return metrics


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
) -> list[dict]:
    """Run rounds until the pool or the round budget is exhausted; one row per round."""
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
    labeled_idx = np.zeros(0, dtype=np.int64)
    labeled_y = np.zeros(0, dtype=np.int64)
    given_boxes = np.zeros((0, 4), dtype=np.float32)  # NaN rows: the person gave no box
    given_masks = _GivenMasks(data.images.shape[2:])
    examples = example_positions(data.labels[split.holdout]) if data.masks else None
    rows: list[dict] = []
    corrections_cum, effort_s_cum = 0, 0.0
    round_index = 0
    while len(pool) and (settings.rounds is None or round_index < settings.rounds):
        times: dict[str, float] = {}
        k = len(pool) if settings.batch_size is None else min(settings.batch_size, len(pool))
        model = parts.classifier if parts.classifier.ready else None
        with _timed(times, "select"):
            view = PoolView(pool, crops=_through(pool, crops), raw=_through(pool, raw))
            positions = parts.sampler.select(view, k, model=model, rng=rngs.sampler)
            positions = _checked_positions(positions, k, len(pool), parts.sampler)
        items = pool[positions]
        with _timed(times, "propose"):
            images, boxes, fallback = detect(items)
            proposal = None
            if model is not None:
                crops_now = crop_resize(images, boxes, size)
                proba = checked_proba(model, crops_now, task.n_classes, round_index)
                proposal = Proposal(labels=proba.argmax(axis=1), proba=proba)
            proposed_boxes = None
            if not person_boxes:
                proposed_boxes = np.where(fallback[:, None], np.nan, boxes)
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
        labeled_idx = np.concatenate([labeled_idx, items])
        labeled_y = np.concatenate([labeled_y, np.asarray(review.labels, dtype=np.int64)])
        batch_boxes = np.full((len(items), 4), np.nan, np.float32)
        if review.boxes is not None:
            batch_boxes[:] = review.boxes
        given_boxes = np.concatenate([given_boxes, batch_boxes])
        given_masks.add(mask_asked, review.masks)
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
            )
            try:
                report = parts.classifier.fit(labeled, feedback=parts.feedback, rng=rngs.fit)
            except DivergedError as exc:
                raise diverged(parts.classifier, round_index, str(exc)) from exc
        with _timed(times, "evaluate"):
            images, boxes, fallback = detect(split.holdout)
            metrics = holdout_metrics(
                parts.classifier, data, split.holdout, images, boxes, size, round_index
            )
            if data.boxes is not None:
                metrics.update(box_metrics(boxes, fallback, data.boxes[split.holdout], images))
            shown = None
            if examples is not None:
                shown = cam_examples(
                    parts.classifier,
                    crop_resize(images[examples], boxes[examples], size),
                    data.labels[split.holdout[examples]],
                    split.holdout[examples],
                )
        effort = Effort(review.effort).as_dict()
        effort_s = to_seconds(effort, settings.effort_seconds)
        corrections_cum += review.corrections
        effort_s_cum += effort_s
        row = {
            "round": round_index,
            "n_labeled": int(len(labeled_idx)),
            "labels_drawn": int(review.labels_drawn),
            "corrections": int(review.corrections),
            "corrections_cum": int(corrections_cum),
            "effort": effort,
            "effort_s": round(effort_s, 6),
            "effort_s_cum": round(effort_s_cum, 6),
            "metrics": metrics,
            "fit": {"epochs": report.epochs, "best_epoch": report.best_epoch},
            "time_s": times,
        }
        if shown is not None:
            row["cam_examples"] = shown
        rows.append(row)
        if on_round is not None:
            on_round(row)
        round_index += 1
    return rows
