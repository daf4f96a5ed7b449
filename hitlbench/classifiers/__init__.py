"""Built-in classifiers; importing this package registers them."""

from . import embedding_mlp, small_cnn, timm_finetune, zero_shot  # noqa: F401
from .base import Classifier, classifiers

__all__ = ["Classifier", "classifiers"]
