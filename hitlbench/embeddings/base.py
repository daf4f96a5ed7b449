"""Embedders: frozen networks that turn images into feature vectors, cached once per dataset
(Stretcu et al. 2023, Agile Modeling: small classifiers on cached image embeddings)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from ..core.component import Component
from ..core.registry import Registry
from ..types import HitlbenchError


class Embedder(Component, ABC):
    """Maps images to fixed-length feature vectors with a frozen network.

    A subclass loads its network in `bind`, setting `net`, the feature length `_dim` and
    `_weights` (what identifies the weights beyond the parameters: library version, a digest,
    the seed of random ones), and encodes one batch in `_embed_batch`.
    """

    batch_size: int = 64
    net: Any = None
    _dim: int = 0
    _weights: dict[str, Any] = {}

    @abstractmethod
    def bind(self, *, device: str, seed: int) -> None:
        """Load the network (weights from disk only; random ones drawn from `seed`)."""

    @abstractmethod
    def _embed_batch(self, images: np.ndarray) -> np.ndarray:
        """float32 [B, D] for one batch of `images` (float32 [B, C, H, W], C = 1 or 3)."""

    def _bound(self, what: str) -> None:
        if self.net is None:
            raise RuntimeError(f"bind() must be called before {what}")

    @property
    def dim(self) -> int:
        """The length D of an embedding; RuntimeError before `bind`."""
        self._bound("dim")
        return self._dim

    def embed(self, images: np.ndarray) -> np.ndarray:
        """float32 [N, D] for `images` (float32 [N, C, H, W] in [0, 1], C = 1 or 3, any H, W),
        `batch_size` at a time. Raises RuntimeError before `bind`, HitlbenchError for another
        shape."""
        self._bound("embed()")
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise HitlbenchError(
                f"embedder {self.registered_name!r} needs [N, 1 or 3, H, W] images, "
                f"got {images.shape}"
            )
        out = [
            self._embed_batch(images[start : start + self.batch_size])
            for start in range(0, len(images), self.batch_size)
        ]
        return np.concatenate(out) if out else np.zeros((0, self._dim), np.float32)

    def cache_key(self) -> dict:
        """What the embeddings depend on beyond the images: the parameters but `batch_size`
        (it does not change them), the version and the weights' identity (`_weights`).
        RuntimeError before `bind`."""
        self._bound("cache_key()")
        params = {k: v for k, v in self.get_params().items() if k != "batch_size"}
        return {
            "embedder": self.registered_name,
            "version": self.version,
            **params,
            "weights": dict(self._weights),
        }


embedders: Registry[Embedder] = Registry("embedder", Embedder, group="hitlbench.embedders")
