"""A whole dataset's embeddings, computed once per embedder and data and cached on disk."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from .. import __version__
from ..data.base import ImageData
from .base import Embedder
from .cache import cached_embeddings


def data_identity(data: ImageData) -> dict[str, Any]:
    """What identifies `data`'s images: its provenance sha256 and `derived` description (the
    sha256 of the image bytes where the provenance has none), the count and the image shape."""
    checksum = data.provenance.get("sha256")
    if not checksum:
        digest = hashlib.sha256(f"{data.images.dtype} {data.images.shape}".encode())
        digest.update(np.ascontiguousarray(data.images).data)
        checksum = f"images:{digest.hexdigest()}"
    return {
        "sha256": checksum,
        "derived": data.provenance.get("derived"),
        "n": len(data.images),
        "image_shape": list(data.images.shape[1:]),
    }


def dataset_embeddings(
    data: ImageData, embedder: Embedder, *, progress: bool = True, dtype: str = "float16"
) -> tuple[np.ndarray, bool]:
    """The embeddings of every image of `data` (row i: image i), from the cache where they were
    computed before.

    `embedder` must be bound (`bind`); its `cache_key()`, the data's identity (`data_identity`),
    `dtype` and hitlbench's version key the cache entry (`cached_embeddings`). Images are turned
    into float32 in [0, 1] a batch at a time, never the whole dataset at once.

    Returns (a read-only `dtype` [N, D] array, a `np.memmap` where the cache can be written;
    whether it came from the cache). Raises RuntimeError when `embedder` is not bound, and
    whatever `embedder.embed` and `cached_embeddings` raise. A concept task's embeddings are
    its source collection's rows (`ImageData.source`), so every concept shares one entry.
    """
    if data.source is not None:
        full, hit = dataset_embeddings(data.source, embedder, progress=progress, dtype=dtype)
        return full[data.source_rows], hit
    key = {
        "embedder": embedder.cache_key(),
        "data": data_identity(data),
        "dtype": np.dtype(dtype).name,
        "hitlbench": __version__,
    }

    def compute(indices: np.ndarray) -> np.ndarray:
        images = data.images[indices].astype(np.float32) / 255.0
        return embedder.embed(images)

    return cached_embeddings(
        key, len(data.images), compute, dim=embedder.dim, dtype=dtype, progress=progress
    )
