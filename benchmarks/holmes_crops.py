"""Why crops from true boxes do not help holmes2023's classifier: the crop's shape.

holmes2023's positive control (the person's own true boxes, `detector: human`) needs more
corrections than no box at all. The loop crops each image to its box and resizes the crop to
the classifier's square input (`core.crops.crop_resize`), so a tall item (trousers, a dress)
is stretched sideways and a flat one (a sandal) upwards. This script makes one fit on every
pool label, as `holmes_regime.py` does, with the suite's classifier and data, for three views
of each item: the whole canvas, the true box stretched to the square (what the loop does), and
the true box grown to a square around its centre before cropping (the item's shape kept). It
reports the holdout accuracy over seeded pool/holdout splits. Measured (5 splits, mean ± sd):
whole canvas 0.812 ± 0.021, stretched 0.781 ± 0.015, squared 0.808 ± 0.030.

Run (29 minutes on 2 cores shared with two other jobs; needs Debian's dataset-fashion-mnist):

    .venv/bin/python benchmarks/holmes_crops.py
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from hitlbench.core.crops import crop_resize
from hitlbench.core.metrics import accuracy
from hitlbench.feedback.labels import LabelsOnly
from hitlbench.harness.spec import instantiate
from hitlbench.harness.suites import load_suite
from hitlbench.types import LabeledView


def square_boxes(boxes: np.ndarray, side_limit: int) -> np.ndarray:
    """float32 [N, 4] xyxy boxes grown to squares of side max(w, h) around their centres,
    shifted to stay inside a canvas of `side_limit` pixels."""
    boxes = np.asarray(boxes, np.float32)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    side = np.minimum((boxes[:, 2:] - boxes[:, :2]).max(axis=1, keepdims=True), side_limit)
    low = np.clip(centre - side / 2, 0, side_limit - side)
    return np.concatenate([low, low + side], axis=1)


def views(images: np.ndarray, boxes: np.ndarray) -> dict[str, np.ndarray]:
    """The three views of float32 [N, C, H, W] images in [0, 1] with their true boxes."""
    size = images.shape[2:]
    return {
        "whole canvas": images,
        "true box, stretched": crop_resize(images, boxes, size),
        "true box, squared": crop_resize(images, square_boxes(boxes, size[0]), size),
    }


def holdout_accuracies(view: np.ndarray, dataset, classifier, splits: int) -> np.ndarray:
    """Holdout accuracy of one fit on every pool label of `view`, per seeded split."""
    labels = dataset.load().labels
    found = []
    for seed in range(splits):
        split = dataset.build(np.random.default_rng(seed))
        pool, holdout = split.pool, split.holdout
        train = LabeledView(
            indices=pool, labels=labels[pool], images=view[pool], val_images=view[pool]
        )
        classifier.fit(train, feedback=LabelsOnly(), rng=np.random.default_rng(seed))
        predicted = classifier.predict_proba(view[holdout], items=holdout).argmax(1)
        found.append(accuracy(labels[holdout], predicted))
    return np.array(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5, help="seeded pool/holdout splits")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cell = next(c for c in load_suite("holmes2023").cells() if c.method == "Random")
    dataset = instantiate(cell.spec, "dataset")
    data = dataset.load()
    classifier = instantiate(cell.spec, "classifier")
    classifier.bind(data.task(), device="cpu", seed=0)  # once: features stay cached by content
    images = data.images.astype(np.float32) / 255.0
    print(f"one fit on every pool label, {args.splits} splits: mean ± sd (min)")
    for name, view in views(images, data.boxes).items():
        found = holdout_accuracies(view, dataset, classifier, args.splits)
        print(f"{name:22s} {found.mean():.3f} ± {found.std(ddof=1):.3f} ({found.min():.3f})")


if __name__ == "__main__":
    main()
