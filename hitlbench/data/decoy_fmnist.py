"""Decoy Fashion-MNIST: the real items with a small grey square that is a shortcut to the class.

Two variants share one builder (`_decoy`):

- `decoy_fmnist`, Teso & Kersting 2019's "random decoy": the square sits in one of the four
  corners, drawn at random per image, independently of the class;
- `decoy_fmnist_classwise`, Hagos et al.'s "class-wise decoy": the square sits at a position
  fixed per class (`classwise_positions`), in training and test images alike.

The square's grey level follows Ross et al. 2017's decoy MNIST: in training images (FMNIST's
official 60,000) it encodes the class, `255 - 25 * y`; in test images (the official 10,000) it
is `255 - 25 * r` with `r` drawn uniformly from 0..9 independently of the label, so a model that
learned the shortcut fails on test. Every image has masks `object` (the item's pixels, > 10
before pasting, minus the square) and `spurious` (the square). With `clean: true` the same items
come without any square (the base pixels unchanged), for accuracy on clean images; the
`spurious` mask then still marks where the square would be, and `object` is unchanged. With
`train_decoy: false` only the training images come without it and the test images keep theirs:
under the official split, a model trained on the pool never sees the shortcut that its holdout
shows (the XIL suites' positive control on the decoy question).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..core.cache import cached_arrays
from ..types import Want
from .base import Dataset, ImageData, datasets
from .fmnist import CLASS_NAMES, FashionMNIST

SIZE = 28  # Fashion-MNIST images are 28x28
OBJECT_THRESHOLD = 10  # base pixels above this belong to the item (below: scanner noise)


def corner_positions(patch: int) -> np.ndarray:
    """The (row, col) top-left corners of the four corner squares: TL, TR, BL, BR."""
    far = SIZE - patch
    return np.array([(0, 0), (0, far), (far, 0), (far, far)], np.int64)


def classwise_positions(patch: int) -> np.ndarray:
    """Ten (row, col) top-left corners spread along the border, class c at row c.

    Top edge at columns 0, 1/3, 2/3, 1 of the free range; the same on the bottom edge; the
    middle of the left and right edges. For the default 4x4 patch: top (0,0) (0,8) (0,16)
    (0,24), bottom (24,0) (24,8) (24,16) (24,24), left (12,0), right (12,24).
    """
    far = SIZE - patch
    third, two_thirds, mid = round(far / 3), round(2 * far / 3), far // 2
    cols = (0, third, two_thirds, far)
    return np.array(
        [(0, c) for c in cols] + [(far, c) for c in cols] + [(mid, 0), (mid, far)], np.int64
    )


def _squares(positions: np.ndarray, patch: int) -> np.ndarray:
    """bool [len(positions), SIZE, SIZE]: the square at each position."""
    out = np.zeros((len(positions), SIZE, SIZE), bool)
    for k, (r, c) in enumerate(positions):
        out[k, r : r + patch, c : c + patch] = True
    return out


def _decoy(
    images: np.ndarray,
    labels: np.ndarray,
    official_test: np.ndarray,
    classwise: bool,
    patch: int,
    seed: int,
    clean: bool,
    train_decoy: bool = True,
) -> dict[str, np.ndarray]:
    """Paste one square per image (vectorised); returns images, masks and per-image records."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    random_corner = rng.integers(0, 4, size=n)  # drawn for both variants: one stream per seed
    random_class = rng.integers(0, 10, size=n)
    if classwise:
        table, position = classwise_positions(patch), labels.astype(np.int64)
    else:
        table, position = corner_positions(patch), random_corner
    spurious = _squares(table, patch)[position]  # [N, SIZE, SIZE]
    coded = np.where(official_test, random_class, labels)
    intensity = (255 - 25 * coded).astype(np.uint8)
    base = images[:, 0]
    obj = (base > OBJECT_THRESHOLD) & ~spurious
    pasted = spurious if train_decoy else spurious & official_test[:, None, None]
    if not clean:
        base = np.where(pasted, intensity[:, None, None], base)
    return {
        "images": base[:, None].astype(np.uint8),
        "object": obj,
        "spurious": spurious,
        "position": table[position],  # [N, 2] top-left (row, col) of the square
        "intensity": intensity,  # the grey level pasted (or that would be, when clean)
    }


class _DecoyFashionMNIST(Dataset):
    """The shared builder of both variants; `classwise` picks where the square goes."""

    offers = frozenset({Want.MASK_SPURIOUS, Want.MASK_OBJECT})

    classwise: ClassVar[bool] = False

    def __init__(
        self,
        seed: int = 0,
        clean: bool = False,
        patch: int = 4,
        train_decoy: bool = True,
        split: str = "official",
        holdout: float = 0.15,
        pool_size: int | None = None,
    ):
        super().__init__(split=split, holdout=holdout, pool_size=pool_size)
        if not 1 <= patch <= 7:  # ten class-wise squares fit without overlap up to 7x7
            raise ValueError(f"patch must be between 1 and 7 pixels, got {patch}")
        self.seed = seed
        self.clean = clean
        self.patch = patch
        self.train_decoy = train_decoy

    # 2: declares its class names before loading (`declared_class_names`); the same data
    version = "2"
    added_params = {"train_decoy": True}
    # Before `train_decoy`: records equal (benchmarks/same_behaviour.py, the rrr_gradcam specs).
    same_behaviour_as = ("7c6313b5556d45cf",)

    def declared_class_names(self):
        return CLASS_NAMES

    def load(self) -> ImageData:
        base = FashionMNIST().load()
        params = {"seed": self.seed, "clean": self.clean, "patch": self.patch}
        if not self.train_decoy:  # the arrays of the default keep their cache key
            params["train_decoy"] = False
        key = {
            "fmnist_sha256": base.provenance["sha256"],
            "variant": type(self).__name__,
            "version": self.version,
            **params,
        }
        arrays = cached_arrays(
            "decoy_fmnist",
            key,
            lambda: _decoy(
                base.images,
                base.labels,
                base.official_test,
                self.classwise,
                self.patch,
                self.seed,
                self.clean,
                self.train_decoy,
            ),
        )
        return ImageData(
            images=arrays["images"],
            labels=base.labels,
            class_names=base.class_names,
            masks={"object": arrays["object"], "spurious": arrays["spurious"]},
            official_test=base.official_test,
            clean_images=None if self.clean else base.images,
            provenance={**base.provenance, "derived": f"{self.registered_name} {params}"},
        )


@datasets.register("decoy_fmnist", "random_decoy_fmnist")
class DecoyFashionMNIST(_DecoyFashionMNIST):
    """Teso & Kersting 2019's random decoy Fashion-MNIST: a `patch`x`patch` square in a corner
    drawn per image with `seed`, independent of the class.

    Training images (the official 60,000) carry grey level `255 - 25 * label`, test images (the
    official 10,000) `255 - 25 * r` with `r` uniform in 0..9 drawn with `seed` (Ross et al.
    2017's decoy rule). `clean: true` gives the same items without the square; the `spurious`
    mask still marks where it would be. `train_decoy: false` leaves the square off the training
    images only (test images keep theirs). Masks: `object` (pixels > 10, square excluded) and
    `spurious`. `split` defaults to `official` (FMNIST's 60k/10k, as in Hagos et al.'s Table 1).
    """


@datasets.register("decoy_fmnist_classwise", "classwise_decoy_fmnist")
class ClasswiseDecoyFashionMNIST(_DecoyFashionMNIST):
    """Hagos et al.'s class-wise decoy Fashion-MNIST: the square sits at one border position
    per class (`classwise_positions`: four top, four bottom, left and right middle, disjoint),
    in training and test images alike.

    Grey level, `clean`, masks and `split` as for `decoy_fmnist`: class-coded `255 - 25 * label`
    in training images, random `255 - 25 * r` in test images. The position still reveals the
    class on test images; use `clean: true` for accuracy without the shortcut.
    """

    classwise = True
