"""The six registries by kind, with every built-in registered."""

from __future__ import annotations

from .classifiers import classifiers
from .data import datasets
from .detectors import detectors
from .feedback import feedback
from .oracles import oracles
from .registry import Registry
from .samplers import samplers

REGISTRIES: dict[str, Registry] = {
    "dataset": datasets,
    "sampler": samplers,
    "detector": detectors,
    "classifier": classifiers,
    "oracle": oracles,
    "feedback": feedback,
}
COMPONENT_KINDS = ("sampler", "detector", "classifier", "oracle", "feedback")
