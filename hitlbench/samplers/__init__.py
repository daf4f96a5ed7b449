"""Built-in samplers; importing this package registers them."""

from . import entropy, kernel_herding, least_confidence, margin, random_order  # noqa: F401
from .base import Sampler, ScoreSampler, samplers

__all__ = ["Sampler", "ScoreSampler", "samplers"]
