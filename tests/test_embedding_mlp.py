"""The MLP on cached embeddings (Stretcu et al. 2023): its recipe, its place in the loop, and
the binary metrics of a two-class task."""

from __future__ import annotations

import numpy as np
import pytest

from hitlbench.classifiers import classifiers
from hitlbench.core.metrics import binary_metrics
from hitlbench.feedback.labels import LabelsOnly
from hitlbench.harness.runner import execute
from hitlbench.harness.spec import resolve_spec
from hitlbench.testing import tiny_data, tiny_labeled
from hitlbench.types import HitlbenchError, LabeledView

EMBEDDER = {"name": "timm", "params": {"arch": "efficientnet_lite0", "input_px": 64}}


@pytest.fixture(autouse=True)
def scratch_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path / "cache"))


def make(**params):
    return classifiers.create(
        "embedding_mlp", **{"embedder": EMBEDDER, "lr": 1e-2, "epochs": 30, **params}
    )


def prepared(clf, data):
    clf.bind(data.task(), device="cpu", seed=0)
    return clf.prepare(data, progress=False)


def test_the_first_model_is_small_and_later_ones_follow_the_recipe():
    data = tiny_data()
    clf = make(dropout=0.0)
    assert prepared(clf, data) == "embeddings: computed and cached"
    view = tiny_labeled(data)
    clf.fit(view, feedback=LabelsOnly(), rng=np.random.default_rng(0))
    widths = [m.out_features for m in clf.net if hasattr(m, "out_features")]
    assert widths == [16, 3]
    clf.fit(view, feedback=LabelsOnly(), rng=np.random.default_rng(1))
    widths = [m.out_features for m in clf.net if hasattr(m, "out_features")]
    assert widths == [128, 128, 128, 3]
    proba = clf.predict_proba(np.zeros((len(data), 1, 8, 8), np.float32), items=np.arange(60))
    assert (proba.argmax(axis=1) == data.labels).mean() > 0.9  # the bands are easy


def test_a_second_preparation_is_a_cache_hit():
    data = tiny_data()
    prepared(make(), data)
    assert prepared(make(), data) == "embeddings: cache hit"


def test_positives_are_half_of_each_epoch_on_a_two_class_task():
    clf = make()
    data = tiny_data(n_classes=2)
    prepared(clf, data)
    labels = np.array([1] * 3 + [0] * 27)
    order = clf._epoch_order(labels, np.random.default_rng(0))
    assert len(order) == 54 and (labels[order] == 1).sum() == 27


def test_presumed_negatives_are_a_quarter_of_each_epoch():
    clf = make()
    prepared(clf, tiny_data(n_classes=2))
    labels = np.array([1] * 3 + [0] * 27 + [-1] * 100)  # -1: presumed negatives
    order = clf._epoch_order(labels, np.random.default_rng(0))
    drawn = labels[order]
    assert len(order) == 400
    assert [(drawn == v).sum() for v in (1, 0, -1)] == [200, 100, 100]
    assert set(order[drawn == -1]) == set(range(30, 130))  # every presumed negative once


def test_presumed_negatives_come_from_the_unlabeled_pool_only():
    data = tiny_data(n_classes=2)
    clf = make(presumed_negatives=20, epochs=1)
    prepared(clf, data)
    labeled = np.arange(0, 60, 2)
    view = LabeledView(indices=labeled, labels=data.labels[labeled], unlabeled=np.arange(1, 60, 2))
    report = clf.fit(view, feedback=LabelsOnly(), rng=np.random.default_rng(0))
    presumed = report.presumed_negatives
    assert len(presumed) == 20 and len(set(presumed)) == 20
    assert set(presumed) <= set(range(1, 60, 2)) and report.n_train == 50
    no_pool = LabeledView(indices=labeled, labels=data.labels[labeled])
    assert (
        clf.fit(no_pool, feedback=LabelsOnly(), rng=np.random.default_rng(0)).presumed_negatives
        is None
    )
    multiclass = make(presumed_negatives=20, epochs=1)
    three = tiny_data()
    prepared(multiclass, three)
    view = LabeledView(indices=labeled, labels=three.labels[labeled], unlabeled=np.arange(1, 60, 2))
    assert (
        multiclass.fit(view, feedback=LabelsOnly(), rng=np.random.default_rng(0)).presumed_negatives
        is None
    )


def test_the_records_count_presumed_negatives_that_are_positives(tmp_path, digits_spec):
    even = {"name": "even", "positives": ["0", "2", "4", "6", "8"]}
    trained = {"embedder": EMBEDDER, "presumed_negatives": 100, "epochs": 2}
    spec = digits_spec(
        dataset={"name": "digits", "params": {"pool_size": 400, "concept": even}},
        classifier={"name": "embedding_mlp", "params": trained},
    )
    record, _ = execute(spec, out=tmp_path)
    counts = [
        (row["presumed_negatives"], row["presumed_negatives_positive"]) for row in record["rounds"]
    ]
    assert all(n == 100 for n, _ in counts)
    share = sum(p for _, p in counts) / 300  # half the digits are even
    assert 0.35 < share < 0.65


def test_a_cropping_detector_is_refused_before_anything_runs():
    raw = {"dataset": "fmnist_clutter", "detector": "human", "classifier": "embedding_mlp"}
    with pytest.raises(HitlbenchError, match="whole-image embeddings.*--detector none"):
        resolve_spec(raw)


def test_in_the_loop_on_real_digits(tmp_path, digits_spec):
    trained = {"embedder": EMBEDDER, "lr": 0.01, "epochs": 50, "dropout": 0.0}  # fit 90 labels
    spec = digits_spec(classifier={"name": "embedding_mlp", "params": trained})
    record, _ = execute(spec, out=tmp_path / "a")
    again, _ = execute(spec, out=tmp_path / "b")
    assert record["rounds"][-1]["metrics"] == again["rounds"][-1]["metrics"]  # deterministic
    accuracy = [row["metrics"]["accuracy"] for row in record["rounds"]]
    assert accuracy[-1] > accuracy[0] and accuracy[-1] > 0.5  # chance: 0.1


def test_binary_metrics_against_scikit_learn_definitions():
    truth = np.array([0, 0, 1, 1, 0, 1])
    score = np.array([0.1, 0.6, 0.7, 0.4, 0.2, 0.9])
    found = binary_metrics(truth, score)
    assert found["auroc"] == pytest.approx(8 / 9)
    assert found["auc_pr"] == pytest.approx((1 + 1 + 0.75) / 3)
    assert found["f1"] == pytest.approx(2 * (2 / 3) * (2 / 3) / (4 / 3))
    assert binary_metrics(np.zeros(3), np.ones(3)) == {}
