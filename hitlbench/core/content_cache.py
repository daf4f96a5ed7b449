"""Values computed once per distinct image content, kept in a dict by a hash of its bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

import numpy as np


def content_key(image: np.ndarray) -> bytes:
    """A 16-byte blake2b digest of an array's bytes: equal arrays, equal keys."""
    return hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).digest()


def once_per_content(
    cache: MutableMapping[bytes, Any],
    images: np.ndarray,
    compute: Callable[[np.ndarray], Iterable[Any]],
    batch: int,
) -> list[Any]:
    """`compute`'s value for each of `images` [N, ...], in order: `compute` maps a batch of at
    most `batch` images not yet in `cache` to one value each, and each distinct image is
    computed once for as long as `cache` lives."""
    keys = [content_key(image) for image in images]
    todo = list(dict.fromkeys(k for k in keys if k not in cache))
    where = {k: i for i, k in enumerate(keys)}
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        cache.update(zip(chunk, compute(images[[where[k] for k in chunk]]), strict=True))
    return [cache[k] for k in keys]
