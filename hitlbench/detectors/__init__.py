"""Built-in detectors; importing this package registers them."""

from . import box_regressor, frcnn, human, whole_image  # noqa: F401
from .base import Detector, detectors, whole_image_boxes

__all__ = ["Detector", "detectors", "whole_image_boxes"]
