"""A YOLO txt detection export (e.g. Roboflow's ASL letters) as images with one labeled box each."""

from __future__ import annotations

import re
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
    "data.yaml with `names` (or Label Studio's classes.txt, one name per line), images/*.jpg and "
    "labels/*.txt with lines `class cx cy w h` (fractions of the image), or train/, valid/ and "
    "test/ folders each holding images/ and labels/"
)
SPLITS = ("train", "valid", "val", "test")
# Roboflow names each exported file <source stem>_<source suffix>.rf.<hash>: augmented copies
# of one source photo share the part before `_jpg.rf.`
ROBOFLOW_NAME = re.compile(r"^(?P<source>.+)_[A-Za-z0-9]+\.rf\.[0-9a-f]+$")


def source_of(image: Path) -> str:
    """The source photo a file was exported from: Roboflow's stem before `_jpg.rf.<hash>`,
    else the file's own stem (a file is then its own source)."""
    match = ROBOFLOW_NAME.match(image.stem)
    return match["source"] if match else image.stem


def yaml_class_names(path: Path) -> tuple[str, ...]:
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


def listed_class_names(path: Path) -> tuple[str, ...]:
    """The class names of a classes.txt (Label Studio's YOLO export): one per line, line k
    naming class id k - 1; trailing blank lines are ignored, a blank line among names is refused
    (it would shift every later id)."""
    lines = [line.strip() for line in require_file(path).read_text().splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise HitlbenchError(f"{path}: lists no class names (expected one name per line)")
    if "" in lines:
        raise HitlbenchError(
            f"{path} line {lines.index('') + 1}: blank line among the class names "
            "(each line names the class id of its position)"
        )
    return tuple(lines)


def class_names(root: Path) -> tuple[tuple[str, ...], Path]:
    """The class names and the file they come from: `root`/data.yaml (Ultralytics, Roboflow),
    else `root`/classes.txt (Label Studio); an error naming both when neither exists."""
    yaml_path, listed = root / "data.yaml", root / "classes.txt"
    if yaml_path.is_file():
        return yaml_class_names(yaml_path), yaml_path
    if listed.is_file():
        return listed_class_names(listed), listed
    raise HitlbenchError(
        f"annotation file missing: {yaml_path} (or {listed.name}, one class name per line)"
    )


def label_boxes(path: Path, n_classes: int) -> list[tuple[Box, int, str]]:
    """A label file's lines as [(normalised xyxy box clipped to [0, 1], class id, 'file line k'), ...].

    Raises `HitlbenchError` naming the line for a malformed line, a class id out of range or a
    box beyond the image by more than rounding (`photo.clip_box`).
    """
    boxes = []
    for k, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        where = f"{path} line {k}"
        if not parts:
            continue
        if len(parts) != 5:
            raise HitlbenchError(f"{where}: expected `class cx cy w h`, found {len(parts)} values")
        cx, cy, w, h = (number(v, where) for v in parts[1:])
        corners = ordered((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), where)
        box = clip_box(corners, 1, 1, where, fractions=True)
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


def check_unique_stems(images: list[Path]) -> None:
    """No two images of one folder share a stem (they would share one label file); an error
    naming both otherwise."""
    seen: dict[str, Path] = {}
    for image in images:
        if image.stem in seen:
            raise HitlbenchError(
                f"{image}: same file name as {seen[image.stem].name} but for the suffix; both "
                f"would take labels/{image.stem}.txt (rename or remove one)"
            )
        seen[image.stem] = image


@datasets.register("yolo_boxes", "asl_letters")
class YOLOBoxes(LocalPhotoDataset):
    """A YOLO txt export as images with one labeled box each, e.g. Roboflow's ASL letters.

    The American Sign Language dataset of Holmes et al. (Roboflow public, 26 letters). Reads
    data.yaml (`names`), or where there is none classes.txt (Label Studio's export, one name per
    line), and images/ with labels/<image stem>.txt, either in `root` or in its train/, valid/
    and test/ folders; `split: official` then holds out test/. Two images of a folder with one
    stem (one label file) are refused. Each image's object is its largest box; a box past the
    image by more than rounding (0.5 %) is refused, naming its line. Images with an empty label
    file (background) are left out and counted in the provenance. `root` defaults to
    `$HITLBENCH_DATA/asl_letters`.

    Every item's group is its source photo (`source_of`): Roboflow exports augmented copies of
    one photo under one stem, so the default `split: grouped` holds out a stratified share of
    source photos and no near-copy of a holdout photo is in the pool; `split: holdout` is a
    random share of files (Holmes et al.'s protocol, which lets copies straddle the split).
    """

    version = "3"  # 2: the default split was `holdout`, a random share of files
    # Before duplicate stems and boxes far outside their image were refused and classes.txt
    # read: the ASL letters load to the same images, boxes and labels (sha256 of the three
    # arrays equal, 1,728 items, none clipped or refused).
    same_behaviour_as = ("418e2b47787b48e4",)

    def __init__(
        self,
        root: str | None = None,
        image_size: int = 224,
        split: str = "grouped",
        holdout: float = 0.15,
        pool_size: int | None = None,
    ):
        super().__init__(
            root=root, image_size=image_size, split=split, holdout=holdout, pool_size=pool_size
        )

    def read(self) -> PhotoSet:
        root = data_root(self.root, "asl_letters", "yolo_boxes", LAYOUT, URL)
        names, names_file = class_names(root)
        folders = parts(root)
        items, is_test, groups, files, skipped = [], [], [], [names_file], 0
        for folder in folders:
            images = image_files(folder / "images")
            check_unique_stems(images)
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
                groups.append(source_of(image))
            check_labels_have_images(folder / "labels", images)
        return PhotoSet(
            items=items,
            class_names=names,
            source=str(root),
            checksum=checksum_files(files, root),
            official_test=np.array(is_test) if root / "test" in folders else None,
            groups=groups,
            notes={"images_without_boxes": skipped},
        )
