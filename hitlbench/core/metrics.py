"""Holdout metrics and the effort summaries of a run (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred))) if len(y_true) else float("nan")


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unweighted mean F1 over the classes present in the truth or the predictions (a
    prediction of -1, no answer, is wrong but not a class)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    scores = []
    for c in np.union1d(y_true, y_pred[y_pred >= 0]):
        tp = np.sum((y_pred == c) & (y_true == c))
        denom = np.sum(y_pred == c) + np.sum(y_true == c)
        scores.append(2.0 * tp / denom if denom else 0.0)
    return float(np.mean(scores)) if scores else float("nan")


def binary_metrics(y_true: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """The positive class's (1) ranking and threshold metrics from scikit-learn: `auc_pr`
    (average precision), `auroc`, and `f1` of score >= 0.5; {} when the truth holds one class
    only (the ranking metrics are undefined)."""
    from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

    y_true, score = np.asarray(y_true), np.asarray(score, np.float64)
    if len(np.unique(y_true)) < 2:
        return {}
    return {
        "auc_pr": float(average_precision_score(y_true, score)),
        "auroc": float(roc_auc_score(y_true, score)),
        "f1": float(f1_score(y_true, (score >= 0.5).astype(np.int64), zero_division=0)),
    }


def aulc_effort(effort_cum: Sequence[float], acc: Sequence[float], budget: float) -> float:
    """Area under accuracy vs cumulative effort up to `budget`, divided by `budget`.

    Accuracy is a step function: 0 before the first round's effort is spent, then each round's
    holdout accuracy until the next round's effort; the last value holds up to the budget.
    """
    if budget <= 0:
        raise ValueError(f"effort budget must be > 0, got {budget}")
    edges = np.minimum(np.append(np.asarray(effort_cum, float), budget), budget)
    return float(np.sum(np.asarray(acc, float) * np.diff(edges)) / budget)


def effort_to_reach(
    effort_cum: Sequence[float], acc: Sequence[float], target: float
) -> float | None:
    """The cumulative effort when accuracy first reached `target`, or None if it never did."""
    for spent, value in zip(effort_cum, acc, strict=True):
        if value >= target:
            return float(spent)
    return None


def _area(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise intersection over union of xyxy boxes [N, 4]."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    w = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    h = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = w * h
    union = _area(a) + _area(b) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def box_metrics(
    predicted: np.ndarray, fallback: np.ndarray, true: np.ndarray, images: np.ndarray
) -> dict[str, float]:
    """Mean IoU of the used boxes, the IoU a whole-image box would get, and the fallback rate."""
    n, _, h, w = images.shape
    whole = np.tile(np.array([0.0, 0.0, w, h]), (n, 1))
    return {
        "iou": float(box_iou(predicted, true).mean()),
        "iou_whole_image": float(box_iou(whole, true).mean()),
        "fallback_rate": float(np.mean(fallback)),
    }


CAM_THRESHOLDS = {"": 0.5, "_t0.2": 0.2, "_t0": 0.0}  # of the normalised map, by name suffix
FLAT = 1e-12  # a map whose peak (max) or range (minmax) is at most this is empty


def explanation_metrics(
    maps: np.ndarray, masks: dict[str, np.ndarray], *, norm: str = "max", suffix: str = ""
) -> dict[str, float]:
    """How saliency maps [N, H, W] (not normalised) agree with bool masks [N, H, W] by name:
    Hagos et al. 2024's dice, with its threshold and normalisation made explicit.

    Each map is normalised per image (`explain.normalize`: "max" for non-negative maps, "minmax"
    for signed ones), then for each mask:
    - `dice_<mask>`: dice of the region >= 0.5 of the normalised map (the Table 1 column);
      `dice_<mask>_t0.2` at >= 0.2; `dice_<mask>_t0` of the region > 0 (any positive);
    - `soft_dice_<mask>`: 2·Σ(m·M) / (Σm + ΣM) with m the normalised map;
    - `cam_share_<mask>`: the share of the map's positive mass inside the mask (no threshold);
    - `mask_share_<mask>`: the mask's share of the image (what a whole-image map's dice,
      2s / (1 + s), is made of).
    `zero_map_rate`: the share of empty maps (a peak, or for minmax a range, of at most `FLAT`:
    all zero, or constant), which score 0 on every mask. Every key ends in `suffix` (e.g. "_true" for the
    maps of the true class). Raises `ValueError` for a norm other than max or minmax.
    """
    if norm not in ("max", "minmax"):
        raise ValueError(f"dice needs maps in [0, 1]: norm max or minmax, got {norm!r}")
    maps = np.asarray(maps, np.float64)
    n = len(maps)
    flat = maps.reshape(n, -1)
    low = flat.min(axis=1, initial=np.inf) if norm == "minmax" else np.zeros(n)
    span = flat.max(axis=1, initial=-np.inf) - low
    zero = ~(span > FLAT)  # all zero (max) or constant (minmax): no region, no mass
    scale = np.where(zero, 0.0, 1.0 / np.where(zero, 1.0, span))
    scaled = ((maps - low[:, None, None]) * scale[:, None, None]).clip(0.0, 1.0)
    mass = maps.clip(min=0).reshape(n, -1).sum(axis=1)
    out = {f"zero_map_rate{suffix}": float(zero.mean())}
    for name, mask in masks.items():
        mask = np.asarray(mask, bool)
        area = mask.reshape(n, -1).sum(axis=1)
        for tag, threshold in CAM_THRESHOLDS.items():
            region = scaled > 0 if threshold == 0 else scaled >= threshold
            region &= ~zero[:, None, None]
            out[f"dice_{name}{tag}{suffix}"] = _dice(region.astype(np.float64), mask, area)
        out[f"soft_dice_{name}{suffix}"] = _dice(scaled, mask, area)
        inside = (maps.clip(min=0) * mask).reshape(n, -1).sum(axis=1)
        out[f"cam_share_{name}{suffix}"] = float(
            np.mean(np.divide(inside, mass, out=np.zeros(n), where=mass > 0))
        )
        out[f"mask_share_{name}"] = float(area.mean() / mask[0].size) if n else float("nan")
    return out


def _dice(soft: np.ndarray, mask: np.ndarray, area: np.ndarray) -> float:
    """Mean over images of 2·Σ(soft·mask) / (Σsoft + Σmask), 0 where both are empty."""
    n = len(soft)
    both = (soft * mask).reshape(n, -1).sum(axis=1)
    sizes = soft.reshape(n, -1).sum(axis=1) + area
    return float(np.mean(np.divide(2.0 * both, sizes, out=np.zeros(n), where=sizes > 0)))
