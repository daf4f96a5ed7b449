"""Fashion-MNIST items pasted on a cluttered canvas, with the true box: data for detectors."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..core.cache import cached_arrays
from ..types import Want
from .base import Dataset, ImageData, datasets
from .fmnist import CLASS_NAMES, FashionMNIST
from .splits import stratified_take


def _resize(item: np.ndarray, size: int) -> np.ndarray:
    x = torch.from_numpy(item.astype(np.float32))[None, None]
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)[0, 0].numpy()


def _compose(
    images: np.ndarray, canvas: int, item_px: tuple[int, int], n_clutter: int, noise: int, seed: int
) -> dict[str, np.ndarray]:
    """One canvas per item: noise, `n_clutter` fragments of other items, the item on top."""
    rng = np.random.default_rng(seed)
    n = len(images)
    out = rng.integers(0, noise + 1, size=(n, canvas, canvas)).astype(np.float32)
    boxes = np.zeros((n, 4), np.float32)
    for i in range(n):
        for _ in range(n_clutter):
            other = images[rng.integers(n), 0]
            f = int(rng.integers(7, 14))
            y, x = rng.integers(0, 28 - f, size=2)
            fragment = other[y : y + f, x : x + f].astype(np.float32)
            cy, cx = rng.integers(0, canvas - f, size=2)
            out[i, cy : cy + f, cx : cx + f] = np.maximum(
                out[i, cy : cy + f, cx : cx + f], fragment
            )
        size = int(rng.integers(item_px[0], item_px[1] + 1))
        item = _resize(images[i, 0], size)
        y0, x0 = rng.integers(0, canvas - size + 1, size=2)
        region = out[i, y0 : y0 + size, x0 : x0 + size]
        out[i, y0 : y0 + size, x0 : x0 + size] = np.where(item > 8, item, region)
        rows, cols = np.nonzero(item > 8)
        if len(rows) == 0:  # a blank item: its square is the box
            rows, cols = np.array([0, size - 1]), np.array([0, size - 1])
        boxes[i] = [x0 + cols.min(), y0 + rows.min(), x0 + cols.max() + 1, y0 + rows.max() + 1]
    return {"images": np.clip(out, 0, 255).astype(np.uint8)[:, None], "boxes": boxes}


@datasets.register("fmnist_clutter", "cluttered_fmnist")
class ClutteredFashionMNIST(Dataset):
    """Each real Fashion-MNIST item at a random place and scale on a noisy canvas with fragments
    of other items as clutter, its true box recorded; a deterministic function of `seed`.

    Holmes et al. 2023 crop photos to a detected object before classifying; Fashion-MNIST items
    fill their frame, so this canvas makes the crop matter while staying offline and small.
    `size` items are used (a stratified subset, drawn with `seed`): by default 1,360, the size of
    17 Flowers, the paper's smallest dataset; null for all 70,000.
    """

    offers = frozenset({Want.BOX})

    def __init__(
        self,
        size: int | None = 1360,
        canvas: int = 64,
        item_min: int = 24,
        item_max: int = 40,
        n_clutter: int = 4,
        noise: int = 40,
        seed: int = 0,
        split: str = "holdout",
        holdout: float = 0.15,
        pool_size: int | None = None,
    ):
        super().__init__(split=split, holdout=holdout, pool_size=pool_size)
        if not 8 <= item_min <= item_max <= canvas:
            raise ValueError(
                f"need 8 <= item_min <= item_max <= canvas, got {item_min}, {item_max}, {canvas}"
            )
        if size is not None and not 10 <= size <= 70000:
            raise ValueError(
                f"size must be between 10 and 70000 items (or null for all), got {size}"
            )
        if n_clutter < 0 or not 0 <= noise <= 255:
            raise ValueError("n_clutter must be >= 0 and noise in [0, 255]")
        self.size = size
        self.canvas = canvas
        self.item_min = item_min
        self.item_max = item_max
        self.n_clutter = n_clutter
        self.noise = noise
        self.seed = seed

    # 2: declares its class names before loading (`declared_class_names`); the same data
    version = "2"

    def declared_class_names(self):
        return CLASS_NAMES

    def load(self):
        base = FashionMNIST().load()
        chosen = np.arange(len(base))
        if self.size is not None:
            chosen = stratified_take(
                base.labels, chosen, self.size, np.random.default_rng(self.seed)
            )
        params = {
            k: v for k, v in self.get_params().items() if k not in ("split", "holdout", "pool_size")
        }
        arrays = cached_arrays(
            "fmnist_clutter",
            {"fmnist_sha256": base.provenance["sha256"], "version": self.version, **params},
            lambda: _compose(
                base.images[chosen],
                self.canvas,
                (self.item_min, self.item_max),
                self.n_clutter,
                self.noise,
                self.seed,
            ),
        )
        return ImageData(
            images=arrays["images"],
            labels=base.labels[chosen],
            class_names=base.class_names,
            boxes=arrays["boxes"],
            official_test=base.official_test[chosen],
            provenance={**base.provenance, "derived": f"fmnist_clutter {params}"},
        )
