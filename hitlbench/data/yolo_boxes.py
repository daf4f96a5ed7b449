"""A YOLO txt detection export (e.g. Roboflow's ASL letters) as images with one labeled box each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from ..types import HitlbenchError
from .base import datasets
from .photo import (
    Box,
    LocalPhotoDataset,
    PhotoItem,
    PhotoSet,
    checksum_files,
    class_id,
    clip_box,
    data_root,
    image_files,
    largest,
    number,
    ordered,
    require_file,
)

URL = "https://public.roboflow.com/object-detection/american-sign-language-letters"
LAYOUT = (
    "data.yaml with `names`, images/*.jpg and labels/*.txt with lines `class cx cy w h` "
    "(fractions of the image), or train/, valid/ and test/ folders each holding images/ and labels/"
)
SPLITS = ("train", "valid", "val", "test")


def class_names(path: Path) -> tuple[str, ...]:
    """The `names` of data.yaml: a list, or a {class id: name} mapping (Ultralytics style);
    `nc`, where given, must count them."""
    try:
        config = yaml.safe_load(require_file(path).read_text())
    except yaml.YAMLError as exc:
        raise HitlbenchError(f"{path}: not valid YAML ({exc})") from exc
    names = config.get("names") if isinstance(config, dict) else None
    if isinstance(names, dict):  # class id -> name: the ids must be 0..n-1, as label lines use
        if sorted(names) != list(range(len(names))):
            raise HitlbenchError(
                f"{path}: `names` maps class ids {sorted(names, key=str)}; expected 0..{len(names) - 1}"
            )
        names = [names[k] for k in range(len(names))]
    if not isinstance(names, list) or not names:
        raise HitlbenchError(f"{path}: needs a `names` list of class names")
    if "nc" in config and config["nc"] != len(names):
        raise HitlbenchError(
            f"{path}: nc is {config['nc']!r} but `names` lists {len(names)} classes"
        )
    return tuple(str(name) for name in names)


def label_boxes(path: Path, n_classes: int) -> list[tuple[Box, int, str]]:
    """A label file's lines as [(normalised xyxy box clipped to [0, 1], class id, 'file line k'), ...]."""
    boxes = []
    for k, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        where = f"{path} line {k}"
        if not parts:
            continue
        if len(parts) != 5:
            raise HitlbenchError(f"{where}: expected `class cx cy w h`, found {len(parts)} values")
        cx, cy, w, h = (number(v, where) for v in parts[1:])
        box = clip_box(
            ordered((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), where), 1, 1, where
        )
        boxes.append((box, class_id(parts[0], n_classes, where), where))
    return boxes


def parts(root: Path) -> list[Path]:
    """`root` if it holds images/, else its train/valid/val/test folders that do."""
    if (root / "images").is_dir():
        return [root]
    found = [root / split for split in SPLITS if (root / split / "images").is_dir()]
    if not found:
        raise HitlbenchError(f"yolo_boxes: no images/ folder in {root} (expected {LAYOUT})")
    return found


def check_labels_have_images(label_dir: Path, images: list[Path]) -> None:
    """Every labels/*.txt belongs to an image; an error naming the orphan otherwise."""
    stems = {image.stem for image in images}
    for path in sorted(label_dir.glob("*.txt")):
        if path.stem not in stems:
            raise HitlbenchError(f"{path}: labels for a missing image (no images/{path.stem}.*)")


@datasets.register("yolo_boxes", "asl_letters")
class YOLOBoxes(LocalPhotoDataset):
    """A YOLO txt export as images with one labeled box each, e.g. Roboflow's ASL letters.

    The American Sign Language dataset of Holmes et al. (Roboflow public, 26 letters). Reads
    data.yaml (`names`) and images/ with labels/<image stem>.txt, either in `root` or in its
    train/, valid/ and test/ folders; `split: official` then holds out test/. Each image's object
    is its largest box; images with an empty label file (background) are left out and counted in
    the provenance. `root` defaults to `$HITLBENCH_DATA/asl_letters`.
    """

    def read(self) -> PhotoSet:
        root = data_root(self.root, "asl_letters", "yolo_boxes", LAYOUT, URL)
        yaml_path = root / "data.yaml"
        names = class_names(yaml_path)
        folders = parts(root)
        items, is_test, files, skipped = [], [], [yaml_path], 0
        for folder in folders:
            images = image_files(folder / "images")
            for image in images:
                label_file = require_file(folder / "labels" / f"{image.stem}.txt")
                files.append(label_file)
                boxes = label_boxes(label_file, len(names))
                if not boxes:
                    skipped += 1
                    continue
                box, label, where = boxes[largest([b for b, _, _ in boxes])]
                items.append(PhotoItem(str(image), label, box, where, normalized=True))
                is_test.append(folder.name == "test")
            check_labels_have_images(folder / "labels", images)
        return PhotoSet(
            items=items,
            class_names=names,
            source=str(root),
            checksum=checksum_files(files, root),
            official_test=np.array(is_test) if root / "test" in folders else None,
            notes={"images_without_boxes": skipped},
        )
