"""The registries by kind, with every built-in registered: the six of a spec, the labelers that
the zero_shot classifier nests and the embedders that embedding_mlp nests."""

from __future__ import annotations

from .classifiers import classifiers
from .core.registry import Registry
from .data import datasets
from .detectors import detectors
from .embeddings import embedders
from .feedback import feedback
from .oracles import oracles
from .samplers import samplers
from .zero_shot import labelers

REGISTRIES: dict[str, Registry] = {
    "dataset": datasets,
    "sampler": samplers,
    "detector": detectors,
    "classifier": classifiers,
    "oracle": oracles,
    "feedback": feedback,
    "labeler": labelers,  # the zero_shot classifier's backends (a nested component)
    "embedder": embedders,  # the embedding_mlp classifier's feature networks (nested)
}
COMPONENT_KINDS = ("sampler", "detector", "classifier", "oracle", "feedback")
