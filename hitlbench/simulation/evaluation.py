"""Holdout evaluation and label quality, by what the dataset and the classifier offer.

The holdout is always scored on its true labels, whatever the person gave in training: accuracy
and macro-F1; accuracy without the decoy where the data has clean images; the saliency map the
run's `evaluation_cam` names (Grad-CAM or the input gradient) against each mask where it has
masks and the classifier a Grad-CAM layer; IoU where it has true boxes.
`label_quality` measures the labels that entered training against the truth.
"""

from __future__ import annotations

import numpy as np

from ..classifiers.base import Classifier, answered_argmax
from ..core.crops import crop_resize
from ..core.explain import CamSpec
from ..core.metrics import accuracy, binary_metrics, box_metrics, explanation_metrics, macro_f1
from ..data.base import ImageData
from ..types import DivergedError, HitlbenchError

EVALUATION_CAM = CamSpec()  # Grad-CAM as the records before `evaluation_cam` scored it


def crop_masks(masks: np.ndarray, boxes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Boolean masks [N, H, W] cropped to boxes and resized to `size` (kept where over half)."""
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
    classifier: Classifier,
    images: np.ndarray,
    items: np.ndarray,
    n_classes: int,
    round_index: int,
) -> np.ndarray:
    """`classifier.predict_proba(images, items=items)`, refused unless it is a finite
    [N, n_classes] array (all-zero rows allowed: items the classifier cannot answer)."""
    proba = np.asarray(classifier.predict_proba(images, items=items))
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
    fallback: np.ndarray,
    size: tuple[int, int],
    round_index: int,
    cam: CamSpec = EVALUATION_CAM,
) -> tuple[dict[str, float], np.ndarray]:
    """(metrics, predicted labels) on the holdout cropped with predicted boxes, always scored
    on its true labels: accuracy and macro-F1 (an item the classifier cannot answer counts as
    wrong, predicted `NO_ANSWER`); on two classes AUC-PR, AUROC and F1 at 0.5 of class 1
    (`metrics.binary_metrics`); where the data offers them, accuracy on the same
    items without their decoy, how well the classifier's maps (`cam`: the suite's
    `evaluation_cam`, the same for every method) of the predicted class and, suffixed `_true`,
    of the true class match each mask (`metrics.explanation_metrics`), and the boxes' IoU."""
    truth = data.labels[holdout]
    crops = crop_resize(images, boxes, size)
    n_classes = len(data.class_names)
    proba = checked_proba(classifier, crops, holdout, n_classes, round_index)
    predicted = answered_argmax(proba)
    metrics = {"accuracy": accuracy(truth, predicted), "macro_f1": macro_f1(truth, predicted)}
    if n_classes == 2:  # a concept task: class 1 is the concept (Stretcu et al. 2023)
        metrics.update(binary_metrics(truth, proba[:, 1]))
    if data.clean_images is not None:  # the shortcut's cost
        clean = crop_resize(data.clean_images[holdout].astype(np.float32) / 255.0, boxes, size)
        metrics["accuracy_clean"] = accuracy(
            truth,
            answered_argmax(checked_proba(classifier, clean, holdout, n_classes, round_index)),
        )
    if data.masks:
        masks = {name: crop_masks(m[holdout], boxes, size) for name, m in data.masks.items()}
        for suffix, target in (("", None), ("_true", truth)):
            maps = classifier.explain(crops, target=target, cam=cam, masks=masks)
            if maps is None:  # the classifier has no Grad-CAM
                break
            metrics.update(explanation_metrics(maps, masks, norm=cam.norm, suffix=suffix))
    if data.boxes is not None:
        metrics.update(box_metrics(boxes, fallback, data.boxes[holdout], images))
    return metrics, predicted


def class_coverage(labeled: np.ndarray, pool: np.ndarray, n_classes: int) -> dict[str, float | int]:
    """How well the items labeled so far cover the classes, from their true classes `labeled`
    and the whole pool's `pool` ([N] int, 0..n_classes-1): `classes_labeled`, how many classes
    they hold; `class_tv_distance`, the total variation distance between their class shares and
    the pool's (0: the same shares, 1: disjoint), the yardstick for an order that should label
    "like a good sample of the pool" (kernel herding, Holmes et al. 2023)."""
    have = np.bincount(np.asarray(labeled, np.int64), minlength=n_classes)
    want = np.bincount(np.asarray(pool, np.int64), minlength=n_classes)
    gap = 0.5 * np.abs(have / max(have.sum(), 1) - want / max(want.sum(), 1)).sum()
    return {"classes_labeled": int((have > 0).sum()), "class_tv_distance": round(float(gap), 6)}


def label_quality(labels: np.ndarray, truth: np.ndarray) -> dict[str, float | int]:
    """`label_errors`: training labels that differ from the truth; `label_error_rate`: their
    share of the labeled items (0 with none labeled)."""
    errors = int((np.asarray(labels) != np.asarray(truth)).sum())
    return {
        "label_errors": errors,
        "label_error_rate": errors / len(labels) if len(labels) else 0.0,
    }
