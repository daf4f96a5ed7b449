"""Embedders: frozen networks that turn images into feature vectors, cached once per dataset
(Stretcu et al. 2023, Agile Modeling: small classifiers on cached image embeddings)."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ..component import Component
from ..registry import Registry


class Embedder(Component, ABC):
    """Maps images to fixed-length feature vectors with a frozen network."""

    @abstractmethod
    def bind(self, *, device: str, seed: int) -> None:
        """Load the network (weights from disk only; random ones drawn from `seed`)."""

    @property
    @abstractmethod
    def dim(self) -> int:
        """The length D of an embedding (after `bind`)."""

    @abstractmethod
    def embed(self, images: np.ndarray) -> np.ndarray:
        """float32 [N, D] for `images` (float32 [N, C, H, W] in [0, 1], C = 1 or 3)."""

    def cache_key(self) -> dict:
        """What the embeddings depend on beyond the images: the parameters and the version
        (a subclass adds the weights' identity where the parameters do not fix it)."""
        return {"embedder": self.registered_name, "version": self.version, **self.get_params()}


embedders: Registry[Embedder] = Registry("embedder", Embedder, group="hitlbench.embedders")
