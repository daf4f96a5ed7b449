"""Metrics read from a record's rounds (`hitlbench.harness.record_metrics`), the per-setting figures of
a suite's `round_figures`, and settings given as mappings."""

from __future__ import annotations

import numpy as np
import pytest

from hitlbench.harness.records import MISSING, direction, setting_text, summary_value
from hitlbench.publish.plots_common import MARKERS
from hitlbench.publish.round_figures import round_figures
from hitlbench.simulation.evaluation import class_coverage


def row(k, auc, effort, select, fit, presumed=None):
    out = {
        "round": k,
        "n_labeled": 100 * (k + 1),
        "effort_s_cum": effort,
        "metrics": {"auc_pr": auc},
        "time_s": {"select": select, "fit": fit, "evaluate": 9.0},
    }
    if presumed is not None:
        out["presumed_negatives"], out["presumed_negatives_positive"] = presumed
    return out


def record(method="Margin", concept="shirt", seed=0, rounds=None):
    rounds = rounds or [
        row(0, 0.2, 170.0, 0.0, 1.0, (1000, 100)),
        row(1, 0.3, 340.0, 2.0, 1.0, (1000, 120)),
        row(2, 0.4, 510.0, 2.0, 1.0, (1000, 80)),
    ]
    return {
        "spec": {"seed": seed},
        "suite": {"method": method, "setting": {"dataset": {"params": {"concept": concept}}}},
        "summary": {"effort_s_total": rounds[-1]["effort_s_cum"], "final_accuracy": 0.9},
        "rounds": rounds,
    }


def test_round_metrics_waits_and_the_persons_time():
    r = record()
    assert summary_value(r, "round.1.auc_pr") == 0.3
    assert summary_value(r, "round.3.auc_pr") is MISSING
    assert summary_value(r, "round.0.dice") is MISSING
    assert summary_value(r, "round.2.n_labeled") == 300  # a round's own field
    assert summary_value(r, "wait_s_total") == 7.0  # select + fit, evaluation left out
    assert summary_value(r, "expert_s_total") == 517.0
    assert summary_value(r, "presumed_positive_share") == 0.1
    assert summary_value(r, "final_accuracy") == 0.9  # summary keys as before


def test_a_metric_within_a_budget_of_the_persons_time():
    r = record()  # the person's time after each round: 171, 344, 517 s
    assert summary_value(r, "at_expert_s.170.auc_pr") is None
    assert summary_value(r, "at_expert_s.344.auc_pr") == 0.3
    assert summary_value(r, "at_expert_s.1000.auc_pr") == 0.4
    # a modelled wait of 81.7 s a round: 251.7, 503.4, 755.1 s
    assert summary_value(r, "at_expert_s.503.wait.81.7.auc_pr") == 0.2
    assert summary_value(r, "at_expert_s.503.4.wait.81.7.auc_pr") == 0.3


def test_the_mean_of_a_field_the_oracle_reports_per_round():
    r = record()
    r["rounds"][0]["oracle"] = {"error_correlation": 0.1, "wrong_agreement": None}
    r["rounds"][2]["oracle"] = {"error_correlation": 0.4, "wrong_agreement": None}
    assert summary_value(r, "oracle_mean.error_correlation") == 0.25  # round 1 has no block
    assert summary_value(r, "oracle_mean.wrong_agreement") is None  # reported, never defined
    assert summary_value(r, "oracle_mean.agreement") is None


def test_class_coverage_of_the_labeled_items_against_the_pool():
    pool = np.array([0, 0, 1, 1, 2, 2, 3, 3])  # four classes, equal shares
    same = class_coverage(np.array([0, 1, 2, 3]), pool, n_classes=4)
    assert same == {"classes_labeled": 4, "class_tv_distance": 0.0}
    half = class_coverage(np.array([0, 0, 1, 1]), pool, n_classes=4)
    assert half == {"classes_labeled": 2, "class_tv_distance": 0.5}  # half the mass is missing
    assert class_coverage(np.array([3]), pool, 4)["class_tv_distance"] == 0.75
    assert direction("round.0.class_tv_distance") == -1  # closer to the pool's shares is better


def test_directions_of_the_derived_metrics():
    assert direction("round.1.auc_pr") == 1
    assert direction("at_expert_s.1511.wait.81.7.auc_pr") == 1
    assert direction("wait_s_total") == -1 and direction("expert_s_total") == -1


def test_a_mapping_setting_reads_as_its_leaves():
    setting = {"dataset": {"params": {"concept": "footwear", "prevalence": 0.01}}}
    assert setting_text(setting) == "concept=footwear, prevalence=0.01"
    assert setting_text({"classifier.name": "timm", "a": "digits"}) == "digits / timm"


def test_round_figures_one_per_setting_and_a_constant_model_as_a_line():
    flat = [row(k, 0.1, 170.0 * (k + 1), 0.0, 0.0) for k in range(1)]
    records = [record(seed=s, concept=c) for s in range(2) for c in ("shirt", "bag")] + [
        record("Zero-shot", c, s, flat) for s in range(2) for c in ("shirt", "bag")
    ]
    spec = {"auc": {"metric": "auc_pr", "methods": ["Margin", "Zero-shot", "Absent"]}}
    figures = round_figures(records, spec, "agile", ["C0", "C1", "C2"])
    assert sorted(figures) == ["auc_concept-bag", "auc_concept-shirt"]
    ax = figures["auc_concept-shirt"].axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["Margin", "Zero-shot"]
    zero_shot = ax.get_lines()[1]
    assert zero_shot.get_linestyle() == "--" and list(zero_shot.get_ydata()) == [0.1, 0.1]
    assert ax.get_lines()[0].get_marker() == MARKERS[0]
    timed = {"t": {"metric": "auc_pr", "x": "expert_s", "wait": 81.7, "methods": ["Margin"]}}
    ax = round_figures(records[:1], timed, "agile", ["C0"])["t"].axes[0]
    assert list(ax.get_lines()[0].get_xdata()) == pytest.approx([251.7, 503.4, 755.1])


def test_a_share_per_round_is_named_and_its_axis_stops_at_0_and_1():
    records = [record(seed=s, concept="shirt") for s in range(2)]
    spec = {"auc": {"metric": "auc_pr", "methods": ["Margin"]}}
    ax = round_figures(records, spec, "agile", ["C0"])["auc"].axes[0]
    assert ax.get_ylabel() == "holdout AUC-PR"
    assert ax.get_ylim() == (0.0, 1.02)


def test_the_mean_of_a_holdout_metric_over_rounds():
    r = record()  # AUC-PR 0.2, 0.3, 0.4 after rounds 0 to 2
    assert summary_value(r, "round_mean.auc_pr") == pytest.approx(0.3)
    assert direction("round_mean.auc_pr") == 1
    del r["rounds"][1]["metrics"]["auc_pr"]
    assert summary_value(r, "round_mean.auc_pr") is None  # a round without it: no area
    assert summary_value(r, "round_mean.dice") is None
