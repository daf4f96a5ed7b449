from pathlib import Path

import numpy as np
import pytest

from hitlbench.data import datasets
from hitlbench.data.decoy_fmnist import (
    ClasswiseDecoyFashionMNIST,
    DecoyFashionMNIST,
    classwise_positions,
    corner_positions,
)
from hitlbench.data.fmnist import FashionMNIST
from hitlbench.testing import check_dataset

pytestmark = pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").is_dir(), reason="real Fashion-MNIST missing"
)

VARIANTS = {"random": DecoyFashionMNIST, "classwise": ClasswiseDecoyFashionMNIST}


@pytest.fixture(scope="module")
def base():
    return FashionMNIST().load()


@pytest.fixture(scope="module")
def loaded():
    """Each variant, decoyed and clean, loaded once."""
    return {
        (name, clean): cls(clean=clean).load()
        for name, cls in VARIANTS.items()
        for clean in (False, True)
    }


def square_corners(spurious: np.ndarray, patch: int = 4) -> np.ndarray:
    """[N, 2] top-left (row, col) of each mask's square; asserts each mask is one such square."""
    assert (spurious.sum(axis=(1, 2)) == patch * patch).all()
    rows = spurious.any(axis=2).argmax(axis=1)
    cols = spurious.any(axis=1).argmax(axis=1)
    n = np.arange(len(spurious))[:, None, None]
    r = rows[:, None, None] + np.arange(patch)[None, :, None]
    c = cols[:, None, None] + np.arange(patch)[None, None, :]
    assert spurious[n, r, c].all(), "the mask is not one solid square"
    return np.stack([rows, cols], axis=1)


def test_registered():
    assert datasets.get("decoy_fmnist") is DecoyFashionMNIST
    assert datasets.get("decoy_fmnist_classwise") is ClasswiseDecoyFashionMNIST
    assert DecoyFashionMNIST().split == "official"


@pytest.mark.parametrize("name", VARIANTS)
def test_shapes_masks_and_intensity_rule(name, base, loaded):
    data = loaded[(name, False)]
    n = len(base)
    assert data.images.shape == (n, 1, 28, 28) and data.images.dtype == np.uint8
    assert np.array_equal(data.labels, base.labels)
    assert np.array_equal(data.official_test, base.official_test)
    assert set(data.masks) == {"object", "spurious"}
    for mask in data.masks.values():
        assert mask.shape == (n, 28, 28) and mask.dtype == bool
    spurious, obj = data.masks["spurious"], data.masks["object"]
    square_corners(spurious)
    assert not (obj & spurious).any(), "patch pixels must not be object pixels"
    assert obj.any(axis=(1, 2)).all(), "every image has object pixels"
    assert np.array_equal(obj, (base.images[:, 0] > 10) & ~spurious)
    # outside the square the base pixels are untouched
    assert np.array_equal(data.images[:, 0][~spurious], base.images[:, 0][~spurious])
    # one grey level per square
    patch = data.images[:, 0][spurious].reshape(n, 16)
    assert (patch == patch[:, :1]).all()
    level = patch[:, 0].astype(int)
    train, test = ~data.official_test, data.official_test
    assert np.array_equal(level[train], 255 - 25 * data.labels[train])
    assert set(np.unique(level[test])) <= set(255 - 25 * np.arange(10))
    for y in range(10):  # test levels are not a function of the class
        assert len(np.unique(level[test & (data.labels == y)])) == 10
    assert abs(np.corrcoef(level[test], data.labels[test])[0, 1]) < 0.05
    assert data.provenance["derived"].startswith(VARIANTS[name].registered_name + " ")
    assert data.provenance["sha256"] == base.provenance["sha256"]


def test_random_corners_independent_of_class(loaded):
    data = loaded[("random", False)]
    corners = square_corners(data.masks["spurious"])
    allowed = {tuple(p) for p in corner_positions(4)}
    assert {tuple(p) for p in np.unique(corners, axis=0)} == allowed
    train = ~data.official_test
    for y in range(10):
        mine = corners[train & (data.labels == y)]
        counts = np.unique(mine, axis=0, return_counts=True)[1]
        assert len(counts) == 4 and counts.min() > 0.2 * len(mine)


def test_classwise_one_position_per_class(loaded):
    data = loaded[("classwise", False)]
    corners = square_corners(data.masks["spurious"])
    table = classwise_positions(4)
    for y in range(10):
        assert (corners[data.labels == y] == table[y]).all()
    assert len({tuple(p) for p in table}) == 10
    squares = np.zeros((28, 28), int)
    for r, c in table:
        squares[r : r + 4, c : c + 4] += 1
    assert squares.max() == 1, "class-wise squares overlap"
    assert squares.sum() == 160


@pytest.mark.parametrize("name", VARIANTS)
def test_clean_same_items_without_patch(name, base, loaded):
    decoyed, clean = loaded[(name, False)], loaded[(name, True)]
    assert np.array_equal(clean.images, base.images)
    for key in ("object", "spurious"):
        assert np.array_equal(clean.masks[key], decoyed.masks[key])
    assert "'clean': True" in clean.provenance["derived"]


@pytest.mark.parametrize("name", VARIANTS)
def test_without_the_training_decoy_only_test_images_carry_the_square(name, base, loaded):
    decoyed = loaded[(name, False)]
    control = VARIANTS[name](train_decoy=False).load()
    test = base.official_test
    assert np.array_equal(control.images[~test], base.images[~test])
    assert np.array_equal(control.images[test], decoyed.images[test])
    assert not np.array_equal(control.images[test], base.images[test])
    for key in ("object", "spurious"):
        assert np.array_equal(control.masks[key], decoyed.masks[key])
    assert "'train_decoy': False" in control.provenance["derived"]
    assert "train_decoy" not in decoyed.provenance["derived"]  # the default keeps its cache key


def test_deterministic_and_seeded(loaded):
    again = DecoyFashionMNIST(seed=0).load()
    assert np.array_equal(again.images, loaded[("random", False)].images)
    other = DecoyFashionMNIST(seed=1).load()
    first = square_corners(loaded[("random", False)].masks["spurious"])
    assert (square_corners(other.masks["spurious"]) != first).any(axis=1).mean() > 0.5


def test_patch_size_is_checked():
    with pytest.raises(ValueError, match="patch"):
        DecoyFashionMNIST(patch=9)


@pytest.mark.parametrize("cls", VARIANTS.values())
def test_check_dataset(cls):
    check_dataset(cls(pool_size=200))
    check_dataset(cls(split="holdout", pool_size=200))


def test_builder_is_a_function_of_the_seed(base):
    from hitlbench.data.decoy_fmnist import _decoy

    args = (base.images[:500], base.labels[:500], base.official_test[:500], False, 4)
    first, again = _decoy(*args, seed=3, clean=False), _decoy(*args, seed=3, clean=False)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    other = _decoy(*args, seed=4, clean=False)
    assert not np.array_equal(first["spurious"], other["spurious"])
