"""Degenerate label sets are refused before round 0; uncertainty scores are defined for any
number of classes >= 2 (seen or not); ties are broken at random with the sampler's own stream."""

import numpy as np
import pytest
from PIL import Image

from hitlbench.data.digits import Digits
from hitlbench.data.imagefolder_boxes import ImageFolderBoxes
from hitlbench.samplers import samplers
from hitlbench.testing import tiny_data, tiny_labeled
from hitlbench.types import HitlbenchError, LabeledView, PoolView

SCORE_SAMPLERS = ["margin", "entropy", "least_confidence"]


def one_class_folder(root):
    rows = ["path,x0,y0,x1,y1"]
    for k in range(6):
        (root / "only").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (20, 20), (k * 30, 0, 0)).save(root / "only" / f"{k}.png")
        rows.append(f"only/{k}.png,2,2,18,18")
    (root / "boxes.csv").write_text("\n".join(rows) + "\n")


def test_a_single_class_imagefolder_is_refused_before_decoding(tmp_path, monkeypatch):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path / "cache"))
    one_class_folder(tmp_path / "data")
    dataset = ImageFolderBoxes(root=str(tmp_path / "data"), image_size=16)
    with pytest.raises(HitlbenchError, match="6 items of 1 class"):
        dataset.build(np.random.default_rng(0))
    assert not (tmp_path / "cache").exists()  # nothing was decoded


def test_a_pool_of_one_class_after_pool_size_is_refused():
    with pytest.raises(HitlbenchError, match=r"the pool \(after split and pool_size\) holds 1"):
        Digits(pool_size=1).build(np.random.default_rng(0))


def test_an_empty_holdout_is_refused():
    with pytest.raises(HitlbenchError, match="the holdout is empty"):
        Digits(holdout=0.0001).build(np.random.default_rng(0))


def fitted_on(classes: list[int], n_classes: int):
    """A small CNN that has seen only `classes` of `n_classes`."""
    from hitlbench.classifiers.small_cnn import SmallCNN
    from hitlbench.feedback.labels import LabelsOnly

    data = tiny_data(n=60, n_classes=n_classes)
    full = tiny_labeled(data)
    keep = np.isin(full.labels, classes)
    seen = LabeledView(
        indices=full.indices[keep],
        labels=full.labels[keep],
        images=full.images[keep],
        val_images=full.val_images[keep],
    )
    model = SmallCNN(width=4, hidden=8, max_epochs=3, min_epochs=1)
    model.bind(data.task(), device="cpu", seed=0)
    model.fit(seen, feedback=LabelsOnly(), rng=np.random.default_rng(0))
    return model, data


@pytest.mark.parametrize("name", SCORE_SAMPLERS)
@pytest.mark.parametrize(("classes", "n_classes"), [([0, 1], 2), ([0, 1], 3), ([0], 3)])
def test_scores_are_defined_for_any_number_of_classes_seen_or_not(name, classes, n_classes):
    model, data = fitted_on(classes, n_classes)
    images = data.images.astype(np.float32) / 255.0
    pool = PoolView(np.arange(len(data)), crops=lambda p: images[p], raw=lambda p: images[p])
    sampler = samplers.create(name)
    assert np.isfinite(sampler.scores(model.predict_proba(images, items=pool.indices))).all()
    picked = sampler.select(pool, 7, model=model, rng=np.random.default_rng(0))
    assert len(set(picked.tolist())) == 7


class Uniform:
    """A fresh or collapsed model: the same probabilities for every item, so every score ties."""

    ready = True

    def predict_proba(self, images, *, items):
        return np.full((len(images), 4), 0.25, np.float32)


@pytest.mark.parametrize("name", SCORE_SAMPLERS)
def test_ties_are_broken_at_random_with_the_samplers_own_stream(name):
    labels = np.repeat(np.arange(4), 25)  # a pool stored in class order, as ImageFolder loads it
    pool = PoolView(
        np.arange(100), crops=lambda p: np.zeros((len(p), 1, 2, 2), np.float32), raw=None
    )
    sampler = samplers.create(name)

    def pick(seed):
        return sampler.select(pool, 20, model=Uniform(), rng=np.random.default_rng(seed))

    first = pick(0)
    assert not np.array_equal(np.sort(first), np.arange(20))  # not the lowest positions
    assert len(np.unique(labels[first])) > 1  # so not a batch of a single class
    assert np.array_equal(first, pick(0))  # deterministic for a seed
    assert not np.array_equal(first, pick(1))


def test_a_strict_ranking_is_kept_whatever_the_tie_break():
    proba = np.array([[0.5, 0.5], [0.9, 0.1], [0.6, 0.4], [0.99, 0.01]], np.float32)

    class Fixed:
        ready = True

        def predict_proba(self, images, *, items):
            return proba

    pool = PoolView(np.arange(4), crops=lambda p: np.zeros((len(p), 1, 2, 2)), raw=None)
    for seed in range(5):
        got = samplers.create("margin").select(
            pool, 4, model=Fixed(), rng=np.random.default_rng(seed)
        )
        assert got.tolist() == [0, 2, 1, 3]
