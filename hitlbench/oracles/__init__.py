"""Built-in oracles; importing this package registers them."""

from . import automation_bias, crowd, gold_screening, nobody, noisy, perfect  # noqa: F401
from .base import Oracle, label_review, oracles

__all__ = ["Oracle", "label_review", "oracles"]
