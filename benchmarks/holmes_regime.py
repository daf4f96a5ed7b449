"""How accurate holmes2023's no-box classifier can get, by item size and input size.

The paper regime of `benchmarks/holmes2023.yaml` asks for a no-box EfficientNet-Lite0 model
that ends at >= 0.80 holdout accuracy. At the loop's end every pool item is labeled, so the
final model is one fit on the whole pool. This script makes that fit directly for each
candidate setting: the suite's dataset with items of a given size on the 64 px canvas, and the
suite's classifier (head-only on frozen features, its early stopping) at a given input size.
It reports the holdout accuracy over seeded pool/holdout splits (the dataset's own split, 15 %
held out); one classifier is bound per setting, so the spread is over splits, internal splits
and shuffles, not initial weights.

Run (about 10 minutes on 2 cores; needs Debian's dataset-fashion-mnist):

    .venv/bin/python benchmarks/holmes_regime.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from hitlbench.classifiers.timm_finetune import TimmClassifier
from hitlbench.core.metrics import accuracy
from hitlbench.data.fmnist_clutter import ClutteredFashionMNIST
from hitlbench.feedback.labels import LabelsOnly
from hitlbench.harness.suites import load_suite
from hitlbench.types import LabeledView

ITEMS = ((32, 48), (40, 56), (48, 64))  # item side in pixels on the 64 px canvas
INPUT_SIZES = (224, 320)  # the classifier's input, pixels


def holdout_accuracies(dataset_params: dict, classifier_params: dict, splits: int) -> np.ndarray:
    """Holdout accuracy of one fit on every pool label, for each of `splits` seeded splits."""
    dataset = ClutteredFashionMNIST(**dataset_params)
    data = dataset.load()  # the same items every split draws from (a function of `seed`)
    classifier = TimmClassifier(**classifier_params)
    classifier.bind(data.task(), device="cpu", seed=0)  # once: features stay cached across fits
    images = data.images.astype(np.float32) / 255.0
    accuracies = []
    for seed in range(splits):
        split = dataset.build(np.random.default_rng(seed))
        pool, holdout = split.pool, split.holdout
        view = LabeledView(
            indices=pool, labels=data.labels[pool], images=images[pool], val_images=images[pool]
        )
        classifier.fit(view, feedback=LabelsOnly(), rng=np.random.default_rng(seed))
        predicted = classifier.predict_proba(images[holdout], items=holdout).argmax(1)
        accuracies.append(accuracy(data.labels[holdout], predicted))
    return np.array(accuracies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=10, help="seeded pool/holdout splits")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    suite = load_suite("holmes2023")
    dataset_params = suite.defaults["dataset"]["params"]
    classifier_params = suite.defaults["classifier"]["params"]
    print(f"holmes2023's data and classifier ({args.splits} splits): one fit on every pool label")
    print("| items (px) | classifier input (px) | holdout accuracy, mean ± sd | min | time (s) |")
    print("|---|---|---|---|---|")
    for item_min, item_max in ITEMS:
        for size in INPUT_SIZES:
            started = time.perf_counter()
            accuracy = holdout_accuracies(
                {**dataset_params, "item_min": item_min, "item_max": item_max},
                {**classifier_params, "input_size": size},
                args.splits,
            )
            print(
                f"| {item_min} to {item_max} | {size} | {accuracy.mean():.3f} ± "
                f"{accuracy.std(ddof=1):.3f} | {accuracy.min():.3f} | "
                f"{time.perf_counter() - started:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
