"""Embedders: frozen networks whose image features are computed once per dataset and cached.

Importing this package registers the built-in embedders: `timm` (pooled features of a timm
network, EfficientNet-Lite0 offline by default) and `open_clip` (CLIP image embeddings).
"""

from __future__ import annotations

from . import open_clip_embedder, timm_embedder  # noqa: F401  (registers the built-ins)
from .base import Embedder, embedders
from .cache import cached_embeddings
from .dataset_embeddings import dataset_embeddings

__all__ = ["Embedder", "cached_embeddings", "dataset_embeddings", "embedders"]
