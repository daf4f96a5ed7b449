"""Embedding Fashion-MNIST with EfficientNet-Lite0: throughput and concept AUC-PR by input size.

Run (about 5 minutes on 2 cores; not part of the unit tests; needs Debian's
dataset-fashion-mnist):

    .venv/bin/python -m pytest benchmarks/test_perf_embedding_resolution.py --benchmark-only -s

Target: at the default 128 px the embedder runs fast enough to embed all 70,000 Fashion-MNIST
images in <= 10 minutes on 2 cores (>= 117 images/s). Measured beside it, on a seeded sample of
3,000 images embedded at 96, 128 and 224 px: images/s, and for each shipped concept the AUC-PR
(average precision, scikit-learn) on half the sample of a logistic regression (scikit-learn)
fitted on the other half, so the notes can say what a smaller input costs in quality.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.preprocessing import StandardScaler

from hitlbench.concepts.concept import concept_labels, resolve_concept
from hitlbench.data.fmnist import FashionMNIST
from hitlbench.embeddings.timm_embedder import TimmEmbedder
from hitlbench.types import HitlbenchError

SAMPLE = 3000
SIZES = (96, 128, 224)
CONCEPTS = ("footwear", "shirt", "bag", "upper_body", "trouser")
FULL, LIMIT_S = 70_000, 600.0


def embedded(images: np.ndarray, px: int) -> tuple[np.ndarray, float]:
    """(float32 [N, 1280] features, images per second) at `px`."""
    embedder = TimmEmbedder(input_px=px)
    embedder.bind(device="cpu", seed=0)
    embedder.embed(images[:64])  # warm-up
    start = time.perf_counter()
    features = embedder.embed(images)
    return features, len(images) / (time.perf_counter() - start)


def concept_auc_pr(features: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> float:
    order = rng.permutation(len(labels))
    train, test = order[: len(order) // 2], order[len(order) // 2 :]
    scaler = StandardScaler().fit(features[train])
    model = LogisticRegression(max_iter=2000, C=0.1).fit(
        scaler.transform(features[train]), labels[train]
    )
    scores = model.predict_proba(scaler.transform(features[test]))[:, 1]
    return float(average_precision_score(labels[test], scores))


def test_default_input_size_embeds_fashion_mnist_within_ten_minutes(benchmark):
    try:
        data = FashionMNIST().load()
    except HitlbenchError as exc:
        pytest.skip(str(exc))
    pick = np.sort(np.random.default_rng(0).choice(len(data.labels), SAMPLE, replace=False))
    images = data.images[pick].astype(np.float32) / 255.0

    def measure() -> dict[int, tuple[float, dict[str, float]]]:
        found = {}
        for px in SIZES:
            features, rate = embedded(images, px)
            aucs = {}
            for name in CONCEPTS:
                concept = resolve_concept(name, data.class_names)
                labels = concept_labels(data.labels[pick], data.class_names, concept)
                aucs[name] = concept_auc_pr(features, labels, np.random.default_rng(1))
            found[px] = (rate, aucs)
        return found

    found = benchmark.pedantic(measure, rounds=1, iterations=1)
    print()
    for px, (rate, aucs) in found.items():
        shown = ", ".join(f"{name} {auc:.3f}" for name, auc in aucs.items())
        print(
            f"{px} px: {rate:.0f} images/s (70,000 in {FULL / rate / 60:.1f} min); AUC-PR {shown}"
        )
    assert FULL / found[128][0] <= LIMIT_S
