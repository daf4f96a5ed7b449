"""Samplers that choose in a pretrained embedding space, with no model: the dataset's cached
embeddings (`hitlbench.embeddings`) of every item, pool and labeled alike."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..core.component import nested_component
from ..embeddings import dataset_embeddings, embedders
from ..types import HitlbenchError, PoolView
from .base import Sampler


class EmbeddingSpaceSampler(Sampler):
    """Reads `embedder`'s embeddings of the whole collection once (`prepare`, cached on disk
    like the `embedding_mlp` classifier's), then looks up the pool's and the labeled items'."""

    nested: ClassVar[dict[str, tuple[str, str]]] = {"embedder": ("embedder", "timm")}

    def __init__(self, embedder: str | dict[str, Any] | None = None):
        self.embedder = embedder
        self.inner = nested_component(embedders, embedder, "timm")
        self.embeddings: np.ndarray | None = None
        self.n_classes = 2  # the task's, once prepared

    def prepare(self, data, *, progress):
        self.n_classes = max(2, len(data.class_names))
        self.inner.bind(device="cpu", seed=0)
        self.embeddings, hit = dataset_embeddings(data, self.inner, progress=progress)
        return "embeddings: cache hit" if hit else "embeddings: computed and cached"

    def rows(self, items: np.ndarray | None) -> np.ndarray:
        """float32 [N, D]: the embeddings of dataset indices `items` (none for None)."""
        if self.embeddings is None:
            raise HitlbenchError(f"sampler {self.registered_name!r}: prepare(data) must run first")
        if items is None:
            return np.zeros((0, self.embeddings.shape[1]), np.float32)
        return np.asarray(self.embeddings[np.asarray(items, np.int64)], np.float32)

    def pool_and_labeled(self, pool: PoolView) -> tuple[np.ndarray, np.ndarray]:
        return self.rows(pool.indices), self.rows(pool.labeled_items)
