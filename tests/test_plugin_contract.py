"""Plugins written to an earlier plugin contract (`core.component.CONTRACT`): a classifier of
contract 1, whose predict_proba and predict take no `items`, is called as it was written by
the loop and the contract templates; one whose explain takes no `target` is refused when it
loads, in one line naming the change."""

import numpy as np
import pytest
from plugin_packages import hitlbench, install_plugin

from hitlbench import testing
from hitlbench.classifiers.base import Classifier
from hitlbench.core.component import CONTRACT
from hitlbench.types import FitReport

PROJECT = """
[project]
name = "hitlbench-centroid-v1"
version = "1.0.0"

[project.entry-points."hitlbench.classifiers"]
centroid_v1 = "centroid_v1:NearestCentroid"
old_explainer = "centroid_v1:OldExplainer"
"""

MODULE = '''
"""Classifiers written to plugin contract 1: predict_proba(images), explain(images)."""
import numpy as np
from hitlbench.classifiers.base import Classifier
from hitlbench.types import FitReport


class NearestCentroid(Classifier):
    """The class whose mean labeled image is nearest (contract 1)."""

    def bind(self, task, *, device, seed):
        self.n_classes = task.n_classes
        self.centroids = None

    def fit(self, train, *, feedback, rng):
        flat = train.images.reshape(len(train.images), -1)
        self.centroids = np.stack([
            flat[train.labels == c].mean(axis=0) if (train.labels == c).any()
            else np.full(flat.shape[1], np.inf)
            for c in range(self.n_classes)
        ])
        return FitReport(epochs=1, best_epoch=1, val_accuracy=None, n_train=len(flat), n_val=0)

    def predict_proba(self, images):
        flat = images.reshape(len(images), -1)
        distance = ((flat[:, None, :] - self.centroids[None]) ** 2).sum(axis=2)
        proba = np.zeros((len(images), self.n_classes), np.float32)
        proba[np.arange(len(images)), distance.argmin(axis=1)] = 1.0
        return proba

    @property
    def ready(self):
        return self.centroids is not None


class OldExplainer(NearestCentroid):
    """A contract-1 explainer: the map of the predicted class only."""

    def explain(self, images):
        return np.ones(images.shape[:1] + images.shape[2:], np.float32)
'''


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory):
    return install_plugin(tmp_path_factory, PROJECT, {"centroid_v1.py": MODULE})


def test_list_shows_each_classifiers_contract_and_refuses_an_old_explain(plugin_site):
    out = hitlbench(plugin_site, "list", "classifier")
    assert out.returncode == 0, out.stderr
    row = next(line for line in out.stdout.splitlines() if "centroid_v1" in line)
    assert "hitlbench-centroid-v1==1.0.0, contract 1" in row
    assert f"builtin, contract {CONTRACT}" in out.stdout
    failed = [line for line in out.stdout.splitlines() if "FAILED plugin 'old_explainer'" in line]
    assert failed == [
        "  FAILED plugin 'old_explainer' (centroid_v1:OldExplainer): TypeError: "
        "OldExplainer.explain takes no `target`: it is written to classifier contract 1, "
        "where explain(images) drew the predicted class's Grad-CAM; since contract 2 hitlbench calls "
        "explain(images, *, target, cam, masks)"
    ]


def test_a_contract_1_classifier_runs_in_the_loop(plugin_site, tmp_path):
    out = hitlbench(
        plugin_site, "run", "--classifier", "centroid_v1", "--dataset", "digits",
        "--set", "dataset.pool_size=150", "--rounds", "2", "--batch-size", "30",
        "--threads", "1", "--quiet", "--out", str(tmp_path),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr


class OldCentroid(Classifier):
    """Contract 1, defined in this process: predict_proba(images) and predict(images)."""

    def bind(self, task, *, device, seed):
        self.n_classes = task.n_classes
        self.fitted = False

    def fit(self, train, *, feedback, rng):
        self.fitted = True
        return FitReport(epochs=1, best_epoch=1, val_accuracy=None, n_train=0, n_val=0)

    def predict_proba(self, images):
        means = images.reshape(len(images), -1).mean(axis=1)
        bins = np.minimum((means * self.n_classes).astype(int), self.n_classes - 1)
        return np.eye(self.n_classes, dtype=np.float32)[bins]

    def predict(self, images):
        return self.predict_proba(images).argmax(axis=1)

    @property
    def ready(self):
        return self.fitted


def test_the_contract_templates_call_a_contract_1_classifier_as_written():
    assert OldCentroid.contract == 1
    testing.check_classifier(OldCentroid)
    model = OldCentroid()
    model.bind(testing.tiny_data().task(), device="cpu", seed=0)
    images = np.random.default_rng(0).random((4, 3, 8, 8), dtype=np.float32)
    assert model.predict(images, items=np.arange(4)).shape == (4,)
