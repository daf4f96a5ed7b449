"""No detection: the classifier sees the whole image."""

from __future__ import annotations

from .base import Detector, detectors, whole_image_boxes


@detectors.register("none", "whole_image")
class WholeImage(Detector):
    """The whole image as the box: the no-detection baseline of Holmes et al. 2023."""

    def propose(self, images, *, true_boxes=None):
        return whole_image_boxes(images)
