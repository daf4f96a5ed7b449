"""Which explanation metrics, at which map resolution, tell good maps from bad: scores of maps of
known quality (`known_maps`) and the two pass rules.

A (metric, resolution) pair passes when
(i) on the object question, within every degradation family, the mean score rises strictly
    with the mean true IoU: with the family's levels ordered by mean IoU, each level whose mean
    IoU is higher than the previous one's scores strictly higher (levels of equal mean IoU, to
    1e-9, may tie); Spearman's rho (scipy.stats) between the levels' mean IoU and mean score is
    the number reported;
(ii) the decoy mask scores strictly below every other map on the object question and strictly
    above every other map on the decoy question (a tie counts against it).

`choose_map` then names the resolution a suite's evaluation map should have, by a rule fixed
before any model is scored: among the resolutions where the metric (`dice`) passes on every
dataset, the one with the largest map gap (the object mask's score minus the best prior's, the
smallest over the datasets); ties to the finer map.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from ..core.metrics import CAM_THRESHOLDS, explanation_metrics
from .known_maps import KnownMap, at_resolution

# the scores of a map that explanation_metrics records (mask_share and zero_map_rate describe
# the mask or count empty maps; they score no map)
METRICS = (*(f"dice{tag}" for tag in CAM_THRESHOLDS), "soft_dice", "cam_share")
# The evaluation map benchmarks/xil_metric_check.py chose on maps of known quality
# (docs/explanation-metrics.md), as a resolved `evaluation_cam`: a leaderboard whose
# explanation metrics score another map says so at its top, and the benchmark exits 1 when its
# choice differs from this.
CHECKED_MAP = {
    "method": "input_gradient",
    "layer": None,
    "relu": True,
    "weights": "gradcam",
    "norm": "max",
}
SAME_IOU = 1e-9  # mean IoUs closer than this count as equal: their scores may tie


def metric_key(metric: str, mask: str) -> str:
    """The key `explanation_metrics` records `metric` (one of `METRICS`) under for `mask`.
    Raises `ValueError` for another metric."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    for tag in CAM_THRESHOLDS:
        if tag and metric == f"dice{tag}":
            return f"dice_{mask}{tag}"
    return f"{metric}_{mask}"


@dataclass(frozen=True)
class MapScores:
    """The mean scores of one known map at one resolution: `scores[(metric, question)]` with
    question a mask name ("object", "spurious"); `iou` the mean true IoU with the object."""

    name: str
    family: str
    level: float
    iou: float
    scores: dict[tuple[str, str], float]


def score_known_maps(
    known: Sequence[KnownMap], masks: dict[str, np.ndarray], grid: tuple[int, int] | None
) -> list[MapScores]:
    """Every known map passed through `at_resolution(grid)`, then scored by
    `explanation_metrics` (max normalisation) against each bool mask [N, H, W] in `masks`."""
    out = []
    for known_map in known:
        got = explanation_metrics(at_resolution(known_map.maps, grid), masks, norm="max")
        scores = {(m, q): got[metric_key(m, q)] for m in METRICS for q in masks}
        iou = float(np.mean(known_map.iou))
        out.append(MapScores(known_map.name, known_map.family, known_map.level, iou, scores))
    return out


@dataclass(frozen=True)
class FamilyTrend:
    """How a metric follows one degradation family: Spearman's `rho` between the levels' mean
    IoU and mean score (nan when either is constant), and whether the scores rise strictly with
    the IoU (`monotone`, rule (i))."""

    family: str
    rho: float
    monotone: bool


def family_trend(family: str, ious: Sequence[float], scores: Sequence[float]) -> FamilyTrend:
    """Rule (i) on one family's levels: mean IoUs and mean scores, one each per level. Raises
    `ValueError` for lengths that differ or fewer than 2 levels."""
    ious, scores = np.asarray(ious, np.float64), np.asarray(scores, np.float64)
    if len(ious) != len(scores) or len(ious) < 2:
        raise ValueError(f"need >= 2 levels with one score each, got {len(ious)}, {len(scores)}")
    order = np.argsort(ious, kind="stable")
    rising = np.diff(ious[order]) > SAME_IOU
    monotone = bool(np.all(np.diff(scores[order])[rising] > 0))
    constant = np.ptp(ious) == 0 or np.ptp(scores) == 0
    rho = math.nan if constant else float(spearmanr(ious, scores).statistic)
    return FamilyTrend(family, rho, monotone)


def rank_from_top(value: float, others: Sequence[float]) -> int:
    """1 + how many of `others` score at least `value`: 1 only when `value` is strictly best."""
    return 1 + int(np.sum(np.asarray(others) >= value))


def rank_from_bottom(value: float, others: Sequence[float]) -> int:
    """len(others) + 1 - how many of `others` score at most `value`: the last rank only when
    `value` is strictly worst."""
    return len(others) + 1 - int(np.sum(np.asarray(others) <= value))


@dataclass(frozen=True)
class Verdict:
    """One (metric, resolution) pair: its `trends` per degradation family, the decoy's rank
    among all `n_maps` maps on the object question (`decoy_rank_object`, n_maps is worst) and on
    the decoy question (`decoy_rank_decoy`, 1 is best), the best-scoring prior on the object
    question (`best_prior`, `best_prior_score`), the object mask's own score (`perfect_score`,
    nan without it), the highest mean IoU of a degraded level that scores no more than the best
    prior (`iou_no_better_than_prior`, nan when every level beats it: maps up to that IoU are
    worth no more than one that ignores the input), and `passes` with the `reasons` it fails."""

    metric: str
    resolution: str
    trends: tuple[FamilyTrend, ...]
    decoy_rank_object: int
    decoy_rank_decoy: int
    n_maps: int
    best_prior: str
    best_prior_score: float
    perfect_score: float
    iou_no_better_than_prior: float
    passes: bool
    reasons: tuple[str, ...]


def judge(
    metric: str,
    resolution: str,
    scored: Sequence[MapScores],
    *,
    obj: str = "object",
    decoy: str = "spurious",
) -> Verdict:
    """Rules (i) and (ii) for `metric` on maps scored at one resolution. `scored` holds the
    degradation families' levels, maps of family "prior", exactly one map of family
    "decoy", and optionally the object mask (family "object"), which joins every family as its
    level 0. Raises `ValueError` when there is not exactly one decoy map or no prior."""
    decoys = [s for s in scored if s.family == "decoy"]
    priors = [s for s in scored if s.family == "prior"]
    if len(decoys) != 1 or not priors:
        raise ValueError(f"need one decoy map and >= 1 prior, got {len(decoys)} and {len(priors)}")
    families = sorted({s.family for s in scored} - {"decoy", "prior", "object"})
    perfect = [s for s in scored if s.family == "object"]  # level 0 of every family
    trends = []
    for family in families:
        levels = perfect + [s for s in scored if s.family == family]
        trend = family_trend(
            family, [s.iou for s in levels], [s.scores[metric, obj] for s in levels]
        )
        trends.append(trend)
    others = [s for s in scored if s is not decoys[0]]
    on_obj = rank_from_bottom(
        decoys[0].scores[metric, obj], [s.scores[metric, obj] for s in others]
    )
    on_decoy = rank_from_top(
        decoys[0].scores[metric, decoy], [s.scores[metric, decoy] for s in others]
    )
    best = max(priors, key=lambda s: s.scores[metric, obj])
    ceiling = perfect[0].scores[metric, obj] if perfect else math.nan
    degraded = [s for s in scored if s.family in families]
    beaten = [s.iou for s in degraded if s.scores[metric, obj] <= best.scores[metric, obj]]
    reasons = [f"not monotone in IoU under {t.family}" for t in trends if not t.monotone]
    if on_obj != len(scored):
        reasons.append(f"decoy not worst on the object question (rank {on_obj}/{len(scored)})")
    if on_decoy != 1:
        reasons.append(f"decoy not best on the decoy question (rank {on_decoy}/{len(scored)})")
    return Verdict(
        metric,
        resolution,
        tuple(trends),
        on_obj,
        on_decoy,
        len(scored),
        best.name,
        best.scores[metric, obj],
        ceiling,
        max(beaten, default=math.nan),
        not reasons,
        tuple(reasons),
    )


def check(
    known: Sequence[KnownMap],
    masks: dict[str, np.ndarray],
    resolutions: dict[str, tuple[int, int] | None],
    metrics: Sequence[str] = METRICS,
) -> tuple[list[Verdict], dict[str, list[MapScores]]]:
    """Every metric at every resolution (label -> grid, None for full resolution): the verdicts,
    and the scores of every map at each resolution by label. `known` as for `judge`; `masks`
    holds "object" and "spurious" bool [N, H, W]."""
    verdicts, tables = [], {}
    for label, grid in resolutions.items():
        scored = score_known_maps(known, masks, grid)
        tables[label] = scored
        verdicts += [judge(metric, label, scored) for metric in metrics]
    return verdicts, tables


@dataclass(frozen=True)
class MapChoice:
    """The resolution `choose_map` selects (`resolution`, a label of the check) for `metric`,
    with its `gap`; `gaps[label][dataset]`, the map gap of every resolution where the metric
    passes on every dataset (the object mask's score minus the best prior's, in the metric's
    units); `failed`, the resolutions left out because it fails on some dataset."""

    metric: str
    resolution: str
    gap: float
    gaps: dict[str, dict[str, float]]
    failed: tuple[str, ...]


def choose_map(
    verdicts: Mapping[str, Sequence[Verdict]],
    finest_first: Sequence[str],
    metric: str = "dice",
    digits: int = 3,
) -> MapChoice:
    """The evaluation map's resolution: among the labels of `finest_first` (the check's
    resolutions, finest map first) where `metric` passes in the verdicts of every dataset
    (`verdicts[dataset]`), the one whose map gap, the smallest over the datasets, is largest
    when rounded to `digits` (the precision the check reports); ties to the finer map. Raises
    `ValueError` when the metric passes at no resolution or a verdict is missing."""
    by_key = {
        (dataset, v.metric, v.resolution): v for dataset, got in verdicts.items() for v in got
    }
    gaps, failed = {}, []
    for label in finest_first:
        found = [by_key.get((dataset, metric, label)) for dataset in verdicts]
        if any(v is None for v in found):
            raise ValueError(f"no verdict of {metric!r} at {label!r} for every dataset")
        if all(v.passes for v in found):
            gaps[label] = {
                dataset: v.perfect_score - v.best_prior_score for dataset, v in zip(verdicts, found)
            }
        else:
            failed.append(label)
    if not gaps:
        raise ValueError(f"{metric!r} passes at no resolution on every dataset")
    worst = {label: round(min(per.values()), digits) for label, per in gaps.items()}
    best = max(worst.values())
    chosen = next(label for label in gaps if worst[label] == best)  # finest first: ties to finer
    return MapChoice(metric, chosen, min(gaps[chosen].values()), gaps, tuple(failed))
