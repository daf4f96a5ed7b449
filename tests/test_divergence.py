"""A fit whose loss or outputs stop being finite stops the run with a clear error; samplers refuse
non-finite scores; no record is written as if the run were valid."""

import numpy as np
import pytest
import torch

from hitlbench.classifiers.base import Classifier, classifiers
from hitlbench.classifiers.small_cnn import SmallCNN
from hitlbench.harness.runner import execute
from hitlbench.samplers.margin import MarginSampler
from hitlbench.types import DivergedError, FitReport, PoolView


@classifiers.register("test_nan_loss_cnn")
class NaNLossCNN(SmallCNN):
    """The small CNN whose logits turn NaN from its second fit on: its loss becomes NaN."""

    def bind(self, task, *, device, seed):
        super().bind(task, device=device, seed=seed)
        self.fits = 0

    def fit(self, train, *, feedback, rng):
        self.fits += 1
        return super().fit(train, feedback=feedback, rng=rng)

    def forward(self, xb):
        logits = super().forward(xb)
        return logits * torch.nan if self.fits >= 2 and self.net.training else logits


@classifiers.register("test_nan_output")
class NaNOutput(Classifier):
    """A classifier that trains without complaint but predicts NaN (e.g. a plugin's bug)."""

    tuning = ("temperature",)

    def __init__(self, temperature: float = 1.0):
        self.temperature = temperature

    def bind(self, task, *, device, seed):
        self.n_classes, self._ready = task.n_classes, False

    def fit(self, train, *, feedback, rng):
        self._ready = True
        return FitReport(epochs=1, best_epoch=1, val_accuracy=None, n_train=len(train), n_val=0)

    def predict_proba(self, images, *, items):
        return np.full((len(images), self.n_classes), np.nan, np.float32)

    @property
    def ready(self):
        return self._ready


def test_a_nan_loss_stops_the_run_naming_classifier_round_and_what_to_look_at(
    tmp_path, digits_spec
):
    spec = digits_spec(classifier={"name": "test_nan_loss_cnn", "params": {"lr": 0.003}})
    with pytest.raises(DivergedError) as info:
        execute(spec, out=tmp_path)
    message = str(info.value)
    assert "classifier 'test_nan_loss_cnn' diverged in round 1" in message
    assert "training loss is nan in epoch 1" in message
    assert "lr=0.003" in message and "batch_size=8" in message and "\n" not in message
    assert not (tmp_path / "runs").exists()  # nothing written as if it were valid


def test_non_finite_probabilities_stop_the_run(tmp_path, digits_spec):
    spec = digits_spec(classifier={"name": "test_nan_output", "params": {}})
    with pytest.raises(DivergedError, match=r"'test_nan_output' diverged in round 0: its proba"):
        execute(spec, out=tmp_path)
    assert not (tmp_path / "runs").exists()


def test_a_diverged_cell_is_recorded_as_failed_never_as_valid(tmp_path, digits_spec):
    from hitlbench.harness.bench import is_finished, run_cell

    spec = digits_spec(classifier={"name": "test_nan_output", "params": {}})
    error, _ = run_cell(spec, {"name": "t", "method": "m", "setting": {}}, str(tmp_path / "t"))
    assert "diverged" in error
    [path] = (tmp_path / "t").glob("*.json")
    assert not is_finished(path)


class FixedProba:
    """A stand-in model whose probabilities are given."""

    ready = True

    def __init__(self, proba):
        self.proba = np.asarray(proba, np.float32)

    def predict_proba(self, images, *, items):
        return self.proba[: len(images)]


def pool_of(n: int) -> PoolView:
    indices = np.arange(n)
    return PoolView(indices, crops=lambda p: np.zeros((len(p), 1, 4, 4), np.float32), raw=None)


def test_samplers_refuse_non_finite_scores():
    proba = np.full((10, 3), 1 / 3)
    proba[4] = np.nan
    with pytest.raises(DivergedError, match="sampler 'margin': 1 of 10 scores are not finite"):
        MarginSampler().select(
            pool_of(10), 3, model=FixedProba(proba), rng=np.random.default_rng(0)
        )
