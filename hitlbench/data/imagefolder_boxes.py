"""An ImageFolder (one folder per class) with a CSV of object boxes, e.g. Oxford 17 Flowers."""

from __future__ import annotations

import csv
from pathlib import Path, PurePosixPath

from ..types import HitlbenchError
from .base import datasets
from .photo import (
    Box,
    LocalPhotoDataset,
    PhotoItem,
    PhotoSet,
    checksum_files,
    data_root,
    image_files,
    largest,
    number,
    ordered,
    require_file,
    subfolders,
)

URL = "https://www.robots.ox.ac.uk/~vgg/data/flowers/17/"
LAYOUT = "<class>/<image> folders and boxes.csv with columns path,x0,y0,x1,y1, paths relative to the root"
COLUMNS = ("path", "x0", "y0", "x1", "y1")


def read_boxes(path: Path) -> dict[str, list[tuple[Box, str]]]:
    """The CSV's rows grouped by image path: path -> [(xyxy box, 'file line k'), ...]."""
    rows: dict[str, list[tuple[Box, str]]] = {}
    with require_file(path).open(newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise HitlbenchError(
                f"{path}: missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}"
            )
        for row in reader:
            where = f"{path} line {reader.line_num}"
            box = ordered((number(row[c], where) for c in COLUMNS[1:]), where)
            key = PurePosixPath(row["path"].replace("\\", "/")).as_posix()
            rows.setdefault(key, []).append((box, where))
    return rows


@datasets.register("imagefolder_boxes", "flowers17")
class ImageFolderBoxes(LocalPhotoDataset):
    """Any ImageFolder (<root>/<class>/<image>) with object boxes in a CSV, e.g. 17 Flowers.

    The 17Flowers dataset of Holmes et al. (Nilsback & Zisserman 2006) has no box file of its
    own: sort its jpg/ into one folder per class and write `boxes_file` (default boxes.csv) with
    the columns path,x0,y0,x1,y1 (path relative to `root`, corners in pixels; a corner past the
    image by up to a pixel is clipped to it, one further out refused, naming its line). Classes
    are the folder names in sorted order; every image needs a box, and where an image has several
    rows the largest box is its object. `root` defaults to `$HITLBENCH_DATA/flowers17`.
    """

    def __init__(
        self,
        root: str | None = None,
        boxes_file: str = "boxes.csv",
        image_size: int = 224,
        split: str = "holdout",
        holdout: float = 0.15,
        pool_size: int | None = None,
    ):
        super().__init__(
            root=root, image_size=image_size, split=split, holdout=holdout, pool_size=pool_size
        )
        self.boxes_file = boxes_file

    def read(self) -> PhotoSet:
        root = data_root(self.root, "flowers17", "imagefolder_boxes", LAYOUT, URL)
        csv_path = root / self.boxes_file
        rows = read_boxes(csv_path)
        classes = [folder for folder in subfolders(root) if image_files(folder)]
        items = []
        for label, folder in enumerate(classes):
            for image in image_files(folder):
                key = image.relative_to(root).as_posix()
                if key not in rows:
                    raise HitlbenchError(f"{csv_path}: no box for image {key}")
                boxes = rows.pop(key)
                box, where = boxes[largest([b for b, _ in boxes])]
                items.append(PhotoItem(str(image), label, box, where))
        if rows:
            key, boxes = next(iter(rows.items()))
            problem = "is not in a class folder" if (root / key).is_file() else "does not exist"
            raise HitlbenchError(f"{boxes[0][1]}: refers to image {root / key}, which {problem}")
        return PhotoSet(
            items=items,
            class_names=tuple(folder.name for folder in classes),
            source=str(root),
            checksum=checksum_files([csv_path], root),
        )
