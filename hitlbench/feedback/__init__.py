"""Built-in feedback types; importing this package registers them."""

from . import labels, rrr_gradcam  # noqa: F401
from .base import Feedback, feedback

__all__ = ["Feedback", "feedback"]
