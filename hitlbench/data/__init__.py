"""Built-in datasets; importing this package registers them."""

from . import digits, fmnist  # noqa: F401
from .base import Dataset, ImageData, SplitData, datasets

__all__ = ["Dataset", "ImageData", "SplitData", "datasets"]
