"""A round's row of the record (DESIGN §5): counts of the round and so far, the labels in
training against the truth, class coverage, effort, holdout metrics, the fit and timings."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.base import ImageData
from ..types import FitReport, Proposal
from .evaluation import class_coverage, label_quality
from .state import LoopState
from .step_results import RoundResult


def round_row(
    result: RoundResult, state: LoopState, data: ImageData, pool_labels: np.ndarray
) -> dict[str, Any]:
    """The row of `result`, after `state` took its review; `pool_labels`, the true classes of
    the whole pool, are what class coverage is held against."""
    reviewed, totals = result.reviewed, state.totals
    labeled_truth = data.labels[state.labeled_idx]
    row = {
        "round": result.index,
        "n_labeled": int(len(state.labeled_idx)),
        "labels_drawn": int(reviewed.review.labels_drawn),
        "corrections": int(reviewed.review.corrections),
        "corrections_cum": int(totals.corrections),
        "missed_corrections": reviewed.n_missed,
        "missed_corrections_cum": totals.missed,
        "unsure": reviewed.n_unsure,
        "unsure_cum": totals.unsure,
        **_proposal_quality(
            result.proposed.proposal, reviewed.truth.labels, reviewed.unanswered, totals.unanswered
        ),
        **label_quality(state.labeled_y, labeled_truth),
        **class_coverage(labeled_truth, pool_labels, len(data.class_names)),
        "effort": reviewed.effort,
        "effort_s": round(reviewed.effort_s, 6),
        "effort_s_cum": round(totals.effort_s, 6),
        "metrics": result.evaluation.metrics,
        "fit": {"epochs": result.report.epochs, "best_epoch": result.report.best_epoch},
        "time_s": result.times,
        **_presumed_negatives(result.report, data.labels),
    }
    if reviewed.review.extras:
        row["oracle"] = dict(reviewed.review.extras)
    if result.evaluation.cam_examples is not None:
        row["cam_examples"] = result.evaluation.cam_examples
    return row


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


def _presumed_negatives(report: FitReport, labels: np.ndarray) -> dict[str, int]:
    """How many unlabeled items the fit trained as negatives, and how many of them are in fact
    positives (Stretcu et al. 2023); nothing when it used none."""
    if report.presumed_negatives is None:
        return {}
    presumed = np.asarray(report.presumed_negatives, np.int64)
    return {
        "presumed_negatives": int(len(presumed)),
        "presumed_negatives_positive": int((labels[presumed] != 0).sum()),
    }
