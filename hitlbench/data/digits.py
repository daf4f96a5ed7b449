"""scikit-learn's bundled 8x8 handwritten digits: a tiny real dataset for fast tests."""

from __future__ import annotations

import hashlib

import numpy as np

from .base import Dataset, ImageData, datasets


@datasets.register("digits")
class Digits(Dataset):
    """1,797 8x8 grey digits shipped with scikit-learn (UCI optical digits, Alpaydin & Kaynak 1995)."""

    offers = frozenset()

    def load(self):
        import sklearn
        from sklearn.datasets import load_digits

        bunch = load_digits()
        images = np.clip(bunch.images * 16, 0, 255).astype(np.uint8)[:, None]
        labels = bunch.target.astype(np.int64)
        checksum = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
        return ImageData(
            images=images,
            labels=labels,
            class_names=tuple(str(c) for c in bunch.target_names),
            provenance={
                "source": f"scikit-learn {sklearn.__version__} load_digits",
                "sha256": checksum,
            },
        )
