"""Built-in samplers; importing this package registers them."""

from . import (  # noqa: F401
    badge,
    bald,
    coreset,
    entropy,
    expansion,
    kernel_herding,
    least_confidence,
    margin,
    margin_positive_mining,
    probcover,
    random_balanced,
    random_order,
    typiclust,
)
from .base import Sampler, ScoreSampler, samplers

__all__ = ["Sampler", "ScoreSampler", "samplers"]
