"""Readable names, with units, for the metrics that leaderboards show: one table for every table.

A suite names its columns by record path (`effort_counts.box_draw`, `final_metrics.iou`); the
tables print `metric_name(path)` ("boxes drawn", "IoU") and list the paths once under the
header, so every number can still be traced to its record field. A path without an entry here
is printed as it is.
"""

from __future__ import annotations

import re

from ..harness.record_metrics import AT_EXPERT, ROUND, ROUND_MEAN

# summary keys (docs/concepts.md, "Metrics")
SUMMARY = {
    "total_corrections": "corrections",
    "effort_s_total": "effort (s)",
    "final_accuracy": "accuracy",
    "final_macro_f1": "macro F1",
    "aulc_effort": "area under accuracy vs effort",
    "n_labeled": "items labeled",
    "label_errors": "label errors",
    "label_error_rate": "label error rate",
    "missed_corrections": "missed corrections",
    "proposal_accuracy": "pre-label accuracy",
    "unsure": "items marked unsure",
    "wait_s_total": "waiting (s)",
    "expert_s_total": "person's time (s)",
    "presumed_positive_share": "positives among presumed negatives",
}
# effort actions (`hitlbench.types.Action`), as counts
ACTIONS = {
    "label_scratch": "labels from scratch",
    "label_correct": "labels corrected",
    "label_accept": "labels accepted",
    "rating": "ratings",
    "box_draw": "boxes drawn",
    "box_correct": "boxes corrected",
    "box_verify": "boxes checked",
    "region_mask": "regions marked",
    "label_unsure": "items marked unsure",
}
# holdout metrics and per-round fields
ROUND_FIELDS = {
    "accuracy": "accuracy",
    "accuracy_clean": "accuracy without decoy",
    "auc_pr": "AUC-PR",
    "auroc": "AUROC",
    "f1": "F1",
    "iou": "IoU",
    "iou_whole_image": "IoU of the whole image",
    "fallback_rate": "whole-image fallbacks",
    "dice_object": "dice vs object",
    "dice_spurious": "dice vs decoy",
    "soft_dice_object": "soft dice vs object",
    "cam_share_spurious": "Grad-CAM share on decoy",
    "zero_map_rate": "empty maps",
    "classes_labeled": "classes labeled",
    "class_tv_distance": "class TV distance",
}
# round fields that are shares, between 0 and 1: their axes stop there, however wide a band
SHARES = frozenset({
    "accuracy", "accuracy_clean", "macro_f1", "auc_pr", "auroc", "f1", "iou", "iou_whole_image",
    "fallback_rate", "dice_object", "dice_spurious", "soft_dice_object", "cam_share_spurious",
    "zero_map_rate", "class_tv_distance",
})  # fmt: skip


def round_field_name(name: str) -> str:
    """A holdout metric or round field, with the suffixes of `metrics.explanation_metrics`."""
    if name.endswith("_true"):
        return f"{round_field_name(name[: -len('_true')])} (true class)"
    if found := re.fullmatch(r"(\w+?)_t(0(?:\.\d+)?)", name):
        return f"{round_field_name(found[1])} at threshold {found[2]}"
    return ROUND_FIELDS.get(name, name)


def metric_name(metric: str) -> str:
    """The readable name of a leaderboard metric (`metric` itself when it has none).

    >>> metric_name("effort_counts.box_draw"), metric_name("round.0.class_tv_distance")
    ('boxes drawn', 'class TV distance after round 0')
    """
    if metric in SUMMARY:
        return SUMMARY[metric]
    head, _, rest = metric.partition(".")
    if head == "effort_counts" and rest in ACTIONS:
        return ACTIONS[rest]
    if head == "final_metrics" and rest:
        return round_field_name(rest)
    if head == "effort_s_to" and rest:
        return f"effort (s) to accuracy {rest}"
    if found := ROUND.fullmatch(metric):
        return f"{round_field_name(found[2])} after round {found[1]}"
    if found := ROUND_MEAN.fullmatch(metric):
        return f"{round_field_name(found[1])}, mean over rounds"
    if found := AT_EXPERT.fullmatch(metric):
        wait = f", {found[2]} s wait per round" if found[2] else ""
        return f"{round_field_name(found[3])} at {found[1]} s of the person's time{wait}"
    return metric
