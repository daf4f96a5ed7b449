"""Built-in datasets; importing this package registers them."""

from . import (  # noqa: F401
    coco_boxes,
    cub200,
    decoy_fmnist,
    digits,
    fmnist,
    fmnist_clutter,
    hf_boxes,
    imagefolder_boxes,
    stanford_dogs,
    voc_boxes,
    yolo_boxes,
)
from .base import Dataset, ImageData, SplitData, datasets

__all__ = ["Dataset", "ImageData", "SplitData", "datasets"]
