"""Class probabilities over cached embeddings chunk by chunk: the same as one forward pass over
all rows, for any chunk size, item order and storage dtype, and from the embedding MLP."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hitlbench.classifiers import classifiers
from hitlbench.classifiers.embedding_mlp import mlp
from hitlbench.core.torch_rng import seeded
from hitlbench.embeddings.streaming import stream_forward
from hitlbench.testing import tiny_data

N, DIM, CLASSES = 203, 24, 3


def network() -> torch.nn.Sequential:
    with seeded(0):
        return mlp(DIM, [16, 16], CLASSES, 0.5).eval()


def one_shot(net, features: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Every row gathered and upcast at once, then one forward pass."""
    rows = torch.from_numpy(np.asarray(features[np.asarray(items, np.int64)], np.float32))
    with torch.inference_mode():
        return torch.softmax(net(rows), dim=1).numpy()


def memmapped(tmp_path, dtype: str) -> np.ndarray:
    """Seeded [N, DIM] embeddings stored as `dtype`, reopened read-only as the cache does."""
    rows = np.random.default_rng(3).standard_normal((N, DIM)).astype(dtype)
    np.save(tmp_path / "features.npy", rows)
    return np.load(tmp_path / "features.npy", mmap_mode="r")


ITEMS = {
    "all in order": np.arange(N),
    "a contiguous run": np.arange(40, 171),
    "shuffled": np.random.default_rng(4).permutation(N),
    "repeats and gaps": np.random.default_rng(5).integers(0, N, 300),
    "runs broken in the middle": np.concatenate([np.arange(10, 60), np.arange(100, 150)]),
    "negative items": np.array([-1, -N, 0, 5, -7]),
}


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("chunk_rows", [1, 7, 50, 64, 1000])
@pytest.mark.parametrize("case", sorted(ITEMS))
def test_chunks_give_the_one_shot_probabilities(tmp_path, dtype, chunk_rows, case):
    features, net = memmapped(tmp_path, dtype), network()
    items = ITEMS[case]
    proba = stream_forward(net, features, items, out_dim=CLASSES, chunk_rows=chunk_rows)
    assert proba.dtype == np.float32 and proba.shape == (len(items), CLASSES)
    np.testing.assert_allclose(proba, one_shot(net, features, items), rtol=0, atol=1e-6)


def test_no_items_give_no_rows(tmp_path):
    features = memmapped(tmp_path, "float16")
    proba = stream_forward(network(), features, np.zeros(0, np.int64), out_dim=CLASSES)
    assert proba.shape == (0, CLASSES) and proba.dtype == np.float32


def test_bad_arguments_are_refused(tmp_path):
    features, net = memmapped(tmp_path, "float16"), network()
    with pytest.raises(IndexError, match=f"item {N} is out of bounds"):
        stream_forward(net, features, np.array([0, N]), out_dim=CLASSES, chunk_rows=1)
    with pytest.raises(IndexError, match=f"item {-N - 1} is out of bounds"):
        stream_forward(net, features, np.array([-N - 1]), out_dim=CLASSES)
    with pytest.raises(ValueError, match="chunk_rows must be >= 1"):
        stream_forward(net, features, np.arange(3), out_dim=CLASSES, chunk_rows=0)
    with pytest.raises(ValueError, match="features must be 2-D"):
        stream_forward(net, features[0], np.arange(3), out_dim=CLASSES)
    with pytest.raises(ValueError, match=r"logits of shape \(3, 3\), not \(3, 2\)"):
        stream_forward(net, features, np.arange(3), out_dim=2)


def test_the_embedding_mlp_predicts_through_it(tmp_path):
    clf = classifiers.create("embedding_mlp")
    clf.bind(tiny_data(n_classes=CLASSES).task(), device="cpu", seed=0)
    clf.embeddings, clf.net = memmapped(tmp_path, "float16"), network()
    items = ITEMS["repeats and gaps"]
    proba = clf.predict_proba(None, items=items)
    np.testing.assert_allclose(proba, one_shot(clf.net, clf.embeddings, items), rtol=0, atol=1e-6)
    assert clf.predict_proba(None, items=items[:0]).shape == (0, CLASSES)


def test_features_not_in_row_order_are_gathered(tmp_path):
    features, net = np.asfortranarray(memmapped(tmp_path, "float16")), network()
    items = ITEMS["a contiguous run"]
    proba = stream_forward(net, features, items, out_dim=CLASSES, chunk_rows=16)
    np.testing.assert_allclose(proba, one_shot(net, features, items), rtol=0, atol=1e-6)
