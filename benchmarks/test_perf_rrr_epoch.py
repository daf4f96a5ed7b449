"""Cost of the RRR Grad-CAM loss (Hagos et al. 2024): one training epoch with it vs without.

Run (about a minute; not part of the unit tests):

    .venv/bin/python -m pytest benchmarks/test_perf_rrr_epoch.py --benchmark-only -s

Target: an epoch with `rrr_gradcam` costs <= 1.5x an epoch with labels only (the same CNN, the
same 4,000 decoy Fashion-MNIST images with spurious masks, batch 64), medians of three
alternating epochs of each, measured in one run; for every Grad-CAM variant (ReLU or signed,
Grad-CAM or guided channel weights, max/sum/minmax, the mask at the image or at the map, the
true or the predicted class) on keras_cnn, the paper regime's model, and for the default loss
on small_cnn.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from hitlbench.classifiers.keras_cnn import KerasCNN
from hitlbench.classifiers.small_cnn import SmallCNN
from hitlbench.data.decoy_fmnist import ClasswiseDecoyFashionMNIST
from hitlbench.feedback.labels import LabelsOnly
from hitlbench.feedback.rrr_gradcam import RRRGradCAM
from hitlbench.types import LabeledView

N = 4000
REPEATS = 3
LIMIT = 1.5


RELU_SUM = {"relu": True, "norm": "sum", "mask_at": "input", "target": "true", "cam_weight": 10}
VARIANTS = {
    "small_cnn relu sum": (SmallCNN, RELU_SUM),
    "small_cnn default (RRR-G)": (SmallCNN, {}),
    "keras_cnn relu sum": (KerasCNN, RELU_SUM),
    "keras_cnn default (RRR-G: signed minmax at the map, predicted)": (KerasCNN, {}),
    "keras_cnn guided max at the image": (
        KerasCNN,
        {"weights": "guided", "relu": True, "norm": "max", "mask_at": "input", "cam_weight": 1},
    ),
    "keras_cnn signed minmax at the image": (KerasCNN, {"mask_at": "input"}),
    "keras_cnn cover guided max": (
        KerasCNN,
        {"region": "missing", "weights": "guided", "relu": True, "norm": "max", "mask_at": "input"},
    ),
}


def epoch_seconds(model, feedback, view, task) -> float:
    clf = model(batch_size=64, max_epochs=1, min_epochs=1, val_fraction=0.0)
    clf.bind(task, device="cpu", seed=0)
    start = time.perf_counter()
    clf.fit(view, feedback=feedback, rng=np.random.default_rng(0))
    return time.perf_counter() - start


@pytest.mark.parametrize("variant", VARIANTS)
def test_rrr_epoch_costs_at_most_one_and_a_half_plain_epochs(benchmark, variant):
    model, params = VARIANTS[variant]
    data = ClasswiseDecoyFashionMNIST().load()
    idx = np.flatnonzero(~data.official_test)[:N]
    images = data.images[idx].astype(np.float32) / 255.0
    view = LabeledView(
        indices=idx, labels=data.labels[idx], images=images, val_images=images,
        masks={name: data.masks[name][idx] for name in ("spurious", "object")},
        has_mask={"spurious": np.ones(N, bool), "object": np.ones(N, bool)},
    )  # fmt: skip
    task = data.task()
    epoch_seconds(model, LabelsOnly(), view, task)  # warm-up: first-call allocations

    def both() -> tuple[float, float]:
        """Medians of alternating epochs, so a load change on the machine hits both alike."""
        pairs = [
            (
                epoch_seconds(model, LabelsOnly(), view, task),
                epoch_seconds(model, RRRGradCAM(**params), view, task),
            )
            for _ in range(REPEATS)
        ]
        plain, rrr = zip(*pairs, strict=True)
        return float(np.median(plain)), float(np.median(rrr))

    plain, rrr = benchmark.pedantic(both, rounds=1, iterations=1)
    print(f"\n{variant}: plain epoch {plain:.2f} s, RRR epoch {rrr:.2f} s, ratio {rrr / plain:.2f}")
    assert rrr / plain <= LIMIT
