"""How much class information kernel herding's features carry, by embedding size.

Kernel herding orders the pool from image features alone (Holmes et al. 2023); an order can
cover the classes only as well as those features separate them. This script embeds the pool
of a `holmes2023` setting with EfficientNet-Lite0 (`TimmEmbedder`, offline weights) at each
size, uncropped and cropped to the true boxes, and reports the leave-one-out 1-nearest-neighbour
class accuracy (scikit-learn, Euclidean distance on the PCA-reduced features that herding uses).

Run (about 10 minutes on 2 cores; needs Debian's dataset-fashion-mnist):

    .venv/bin/python benchmarks/herding_features.py --setting paper
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.neighbors import NearestNeighbors

from hitlbench.core.crops import crop_resize
from hitlbench.data.fmnist_clutter import ClutteredFashionMNIST
from hitlbench.embeddings.timm_embedder import TimmEmbedder
from hitlbench.harness.suites import load_suite
from hitlbench.samplers.kernel_herding import pca_project

SETTINGS = {  # the dataset parameters of benchmarks/holmes2023.yaml's two regimes
    "paper": load_suite("holmes2023").defaults["dataset"]["params"],
    "high_error": {},  # fmnist_clutter's defaults
}
SIZES = (64, 224)
PCA = 64  # kernel herding's default


def one_nn_accuracy(features: np.ndarray, labels: np.ndarray) -> float:
    """Leave-one-out 1-NN class accuracy on the features' top principal components."""
    reduced = pca_project(features.astype(np.float64), min(PCA, features.shape[1]))
    # kneighbors() without a query leaves each point out of its own neighbours
    nearest = NearestNeighbors(n_neighbors=1).fit(reduced).kneighbors(return_distance=False)
    return float((labels[nearest[:, 0]] == labels).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="paper")
    parser.add_argument("--items", type=int, default=1156, help="pool items embedded")
    args = parser.parse_args()
    data = ClutteredFashionMNIST(**SETTINGS[args.setting]).load()
    pick = np.sort(np.random.default_rng(0).choice(len(data.labels), args.items, replace=False))
    images = data.images[pick].astype(np.float32) / 255.0
    labels = data.labels[pick]
    crops = crop_resize(images, data.boxes[pick], images.shape[2:])
    print(f"setting {args.setting}: {args.items} items, 1-NN class accuracy (leave-one-out)")
    print("| embed size | whole image | true-box crop |")
    print("|---|---|---|")
    for size in SIZES:
        embedder = TimmEmbedder("efficientnet_lite0", input_px=size)
        embedder.bind(device="cpu", seed=0)
        whole = one_nn_accuracy(embedder.embed(images), labels)
        cropped = one_nn_accuracy(embedder.embed(crops), labels)
        print(f"| {size} px | {whole:.3f} | {cropped:.3f} |", flush=True)


if __name__ == "__main__":
    main()
