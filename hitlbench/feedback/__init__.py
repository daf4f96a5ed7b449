"""Built-in feedback types; importing this package registers them."""

from . import labels  # noqa: F401
from .base import Feedback, feedback

__all__ = ["Feedback", "feedback"]
