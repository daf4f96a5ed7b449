"""CUB-200-2011 birds (Wah et al. 2011), read from a local copy in its native layout."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..types import HitlbenchError
from .base import datasets
from .photo import (
    LocalPhotoDataset,
    PhotoItem,
    PhotoSet,
    checksum_files,
    class_id,
    data_root,
    number,
    ordered,
    require_file,
    xywh_to_xyxy,
)

URL = "https://www.vision.caltech.edu/datasets/cub_200_2011/"
LAYOUT = (
    "images.txt, image_class_labels.txt, bounding_boxes.txt, classes.txt, "
    "train_test_split.txt and images/<class>/<file>.jpg"
)
Table = dict[str, tuple[list[str], str]]


def read_table(path: Path, n_fields: int) -> Table:
    """Lines `<id> <field> ...` of a CUB text file: id -> (fields, 'file line k')."""
    rows: Table = {}
    for k, line in enumerate(require_file(path).read_text().splitlines(), 1):
        parts = line.split(maxsplit=n_fields)
        where = f"{path} line {k}"
        if not parts:
            continue
        if len(parts) != n_fields + 1:
            raise HitlbenchError(f"{where}: expected {n_fields + 1} fields, found {len(parts)}")
        rows[parts[0]] = (parts[1:], where)
    return rows


def check_ids(table: Table, images: Table, path: Path) -> None:
    """`table` has exactly one line per image of images.txt; an error naming `path` otherwise."""
    for image_id, (_, where) in table.items():
        if image_id not in images:
            raise HitlbenchError(f"{where}: refers to image id {image_id}, not in images.txt")
    for image_id, (fields, _) in images.items():
        if image_id not in table:
            raise HitlbenchError(f"{path}: no line for image id {image_id} ({fields[0]})")


def class_names(path: Path) -> tuple[str, ...]:
    """classes.txt ids 1..n in order, without the `001.` prefix: 'Black_footed_Albatross'."""
    table = read_table(path, 1)
    ids = [str(i) for i in range(1, len(table) + 1)]
    if set(table) != set(ids):
        raise HitlbenchError(f"{path}: class ids must be 1..{len(table)}")
    return tuple(re.sub(r"^\d+\.", "", table[i][0][0]) for i in ids)


def official_test(path: Path, images: Table) -> np.ndarray | None:
    """train_test_split.txt as a bool test mask (`0` = test), or None when the file is absent."""
    if not path.is_file():
        return None
    table = read_table(path, 1)
    check_ids(table, images, path)
    for fields, where in table.values():
        if fields[0] not in ("0", "1"):
            raise HitlbenchError(f"{where}: is_training_image must be 0 or 1, got {fields[0]!r}")
    return np.array([table[i][0][0] == "0" for i in images])


@datasets.register("cub200", "birds")
class CUB200(LocalPhotoDataset):
    """CUB-200-2011: 11,788 photos of 200 bird species with one box each (Wah et al. 2011).

    The "Birds" dataset of Holmes et al. Reads the unpacked `CUB_200_2011` folder: images.txt,
    image_class_labels.txt (1-based class ids), classes.txt, bounding_boxes.txt (x, y, width,
    height in pixels) and images/. `split: official` uses train_test_split.txt. `root` defaults
    to `$HITLBENCH_DATA/CUB_200_2011`; images are stretched to `image_size` squares.
    """

    def read(self) -> PhotoSet:
        root = data_root(self.root, "CUB_200_2011", "cub200", LAYOUT, URL)
        names = class_names(root / "classes.txt")
        images = read_table(root / "images.txt", 1)
        labels = read_table(root / "image_class_labels.txt", 1)
        boxes = read_table(root / "bounding_boxes.txt", 4)
        check_ids(labels, images, root / "image_class_labels.txt")
        check_ids(boxes, images, root / "bounding_boxes.txt")
        items = []
        for image_id, (fields, where) in images.items():
            label, label_where = labels[image_id]
            box, box_where = boxes[image_id]
            items.append(
                PhotoItem(
                    path=str(root / "images" / fields[0]),
                    label=class_id(label[0], len(names), label_where, first=1),
                    box=ordered(xywh_to_xyxy(*(number(v, box_where) for v in box)), box_where),
                    origin=f"{where}, {box_where}",
                )
            )
        split_file = root / "train_test_split.txt"
        files = [root / n for n in ("classes.txt", "images.txt", "image_class_labels.txt")]
        files += [root / "bounding_boxes.txt", *([split_file] if split_file.is_file() else [])]
        return PhotoSet(
            items=items,
            class_names=names,
            source=str(root),
            checksum=checksum_files(files, root),
            official_test=official_test(split_file, images),
        )
