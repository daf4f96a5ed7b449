"""Built-in classifiers; importing this package registers them."""

from . import (  # noqa: F401
    embedding_mlp,
    keras_cnn,
    reference_map,
    small_cnn,
    timm_finetune,
    zero_shot,
)
from .base import Classifier, classifiers

__all__ = ["Classifier", "classifiers"]
