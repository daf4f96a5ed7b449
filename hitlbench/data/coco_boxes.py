"""A COCO JSON detection export read as a classification set: one object (the largest) per image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..types import HitlbenchError
from .base import datasets
from .photo import (
    Box,
    LocalPhotoDataset,
    PhotoItem,
    PhotoSet,
    checksum_files,
    clip_box,
    data_root,
    largest,
    number,
    ordered,
    require_file,
    xywh_to_xyxy,
)

URL = "https://cocodataset.org/#format-data"
LAYOUT = (
    "a COCO JSON file (images, annotations with bbox [x, y, width, height], categories) "
    "and the image folder its file_name values are relative to"
)


def read_json(path: Path) -> dict[str, Any]:
    """The COCO file with its three lists checked; an error naming the file otherwise."""
    try:
        coco = json.loads(require_file(path).read_text())
    except json.JSONDecodeError as exc:
        raise HitlbenchError(f"{path}: not valid JSON ({exc})") from exc
    fields = {"images": ("id", "file_name"), "annotations": (), "categories": ("id", "name")}
    for key, needed in fields.items():
        if not isinstance(coco, dict) or not isinstance(coco.get(key), list):
            raise HitlbenchError(f"{path}: not a COCO file (no {key!r} list)")
        for k, entry in enumerate(coco[key]):
            if not isinstance(entry, dict) or any(name not in entry for name in needed):
                raise HitlbenchError(f"{path}: {key}[{k}] needs the fields {', '.join(needed)}")
    return coco


def check_unique_images(coco: dict[str, Any], path: Path) -> None:
    """No two `images` entries share an id or a file_name (annotations could not tell which
    image they describe, or one file would be two items); an error naming both entries."""
    for key in ("id", "file_name"):
        first: dict[Any, int] = {}
        for k, image in enumerate(coco["images"]):
            value = image[key]
            if value in first:
                raise HitlbenchError(
                    f"{path}: images[{first[value]}] and images[{k}] have the same {key} "
                    f"{value!r}; each image must be listed once"
                )
            first[value] = k


def _image_sizes(coco: dict[str, Any], path: Path) -> dict[Any, tuple[float, float] | None]:
    """image id -> (width, height) as the file records them, None where it does not."""
    sizes = {}
    for k, image in enumerate(coco["images"]):
        if "width" in image and "height" in image:
            where = f"{path} images[{k}] (id {image['id']})"
            sizes[image["id"]] = (number(image["width"], where), number(image["height"], where))
        else:
            sizes[image["id"]] = None
    return sizes


def object_boxes(
    coco: dict[str, Any], path: Path
) -> tuple[dict[Any, list[tuple[Box, Any, str]]], int]:
    """(image id -> [(xyxy box, category id, 'file annotation k'), ...], crowd regions skipped).

    References are checked; a crowd region (`iscrowd: 1`, a group of objects the format marks
    as such) is no object box and is skipped; every other box is clipped to its image where the
    file records the image's size (`photo.clip_box`: a rounding overshoot only, else refused).
    """
    sizes = _image_sizes(coco, path)
    category_ids = {category["id"] for category in coco["categories"]}
    boxes: dict[Any, list[tuple[Box, Any, str]]] = {}
    crowds = 0
    for k, annotation in enumerate(coco["annotations"]):
        where = f"{path} annotation {k} (id {annotation.get('id')})"
        if annotation.get("image_id") not in sizes:
            raise HitlbenchError(
                f"{where}: refers to image id {annotation.get('image_id')}, not in images"
            )
        if annotation.get("category_id") not in category_ids:
            raise HitlbenchError(
                f"{where}: class id (category_id) {annotation.get('category_id')} is not in categories"
            )
        if annotation.get("iscrowd", 0) not in (0, 1, False, True):
            raise HitlbenchError(f"{where}: iscrowd must be 0 or 1, got {annotation['iscrowd']!r}")
        if annotation.get("iscrowd", 0):
            crowds += 1
            continue
        bbox = annotation.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise HitlbenchError(f"{where}: bbox must be [x, y, width, height], got {bbox!r}")
        box = ordered(xywh_to_xyxy(*(number(v, where) for v in bbox)), where)
        if (size := sizes[annotation["image_id"]]) is not None:
            box = clip_box(box, *size, where)
        boxes.setdefault(annotation["image_id"], []).append((box, annotation["category_id"], where))
    return boxes, crowds


@datasets.register("coco_boxes")
class COCOBoxes(LocalPhotoDataset):
    """A COCO JSON detection export (Lin et al. 2014 format) as images with one labeled box each.

    Reads `annotation_file` (default Roboflow's `_annotations.coco.json`) in `root`, images from
    `image_dir` (relative to `root`). Two images with one id or one file_name are refused. Crowd
    regions (`iscrowd: 1`) are not objects and are skipped; a box past the image size the file
    records by up to a pixel (rounding) is clipped to it, one further out refused, naming its
    annotation. Each image's object is its largest box (by area) and its label that box's
    category; classes are the categories that label at least one image, in id order. Images
    without any box are left out and counted in the provenance, as are the crowd regions
    skipped. `root` defaults to `$HITLBENCH_DATA/coco_boxes`.
    """

    version = "2"  # as PhotoDataset's, and 1 took crowd regions for objects

    def __init__(
        self,
        root: str | None = None,
        annotation_file: str = "_annotations.coco.json",
        image_dir: str = ".",
        image_size: int = 224,
        split: str = "holdout",
        holdout: float = 0.15,
        pool_size: int | None = None,
    ):
        super().__init__(
            root=root, image_size=image_size, split=split, holdout=holdout, pool_size=pool_size
        )
        self.annotation_file = annotation_file
        self.image_dir = image_dir

    def read(self) -> PhotoSet:
        root = data_root(self.root, "coco_boxes", "coco_boxes", LAYOUT, URL)
        path = root / self.annotation_file
        coco = read_json(path)
        check_unique_images(coco, path)
        boxes, crowds = object_boxes(coco, path)
        chosen = [(image, boxes[image["id"]]) for image in coco["images"] if image["id"] in boxes]
        objects = [
            (image, entries[largest([b for b, _, _ in entries])]) for image, entries in chosen
        ]
        used = sorted({category for _, (_, category, _) in objects})
        index = {category: k for k, category in enumerate(used)}
        names = {category["id"]: str(category["name"]) for category in coco["categories"]}
        items = [
            PhotoItem(str(root / self.image_dir / image["file_name"]), index[category], box, where)
            for image, (box, category, where) in objects
        ]
        return PhotoSet(
            items=items,
            class_names=tuple(names[category] for category in used),
            source=str(root),
            checksum=checksum_files([path], root),
            notes={
                "images_without_boxes": len(coco["images"]) - len(items),
                "crowd_regions_skipped": crowds,
            },
        )
