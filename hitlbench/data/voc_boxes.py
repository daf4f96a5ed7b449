"""Pascal VOC XML annotations (Everingham et al. 2010), and a plain VOC folder as a dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from ..types import HitlbenchError
from .base import datasets
from .photo import (
    IMAGE_SUFFIXES,
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
    require_folders,
)

URL = "http://host.robots.ox.ac.uk/pascal/VOC/"
LAYOUT = (
    "JPEGImages/<image> and Annotations/<name>.xml (Pascal VOC XML), and for split: official "
    "ImageSets/Main/test.txt (or val.txt) listing the held-out image ids"
)
CORNERS = ("xmin", "ymin", "xmax", "ymax")


@dataclass(frozen=True)
class VOCObject:
    """One `<object>`: its class name, xyxy box (pixels as written) and where it was read."""

    name: str
    box: Box
    where: str


@dataclass(frozen=True)
class VOCAnnotation:
    """One annotation file: the image it names (`<filename>`, may be empty) and its objects,
    `difficult` ones left out (the VOC evaluation ignores them), counted in `difficult`."""

    filename: str
    objects: list[VOCObject]
    difficult: int


def read_voc(path: Path) -> VOCAnnotation:
    """Parse a Pascal VOC XML file; boxes are clipped to `<size>` where it is given.

    Raises `HitlbenchError` naming the file for invalid XML, a box corner that is not a number,
    a box past `<size>` by more than a pixel (`photo.clip_box`) or with no area inside it.
    """
    try:
        root = ElementTree.parse(require_file(path)).getroot()
    except ElementTree.ParseError as exc:
        raise HitlbenchError(f"{path}: not valid Pascal VOC XML ({exc})") from exc
    size = None
    if root.find("size/width") is not None and root.find("size/height") is not None:
        size = tuple(
            number(root.findtext(f"size/{t}"), f"{path} <size><{t}>") for t in ("width", "height")
        )
        size = size if min(size) > 0 else None  # some exports write 0 when unknown
    objects, difficult = [], 0
    for k, element in enumerate(root.findall("object")):
        where = f"{path} object {k}"
        if element.find("bndbox") is None:
            continue
        if element.findtext("difficult", "0").strip() in ("1", "true"):
            difficult += 1
            continue
        box = ordered(
            (number(element.findtext(f"bndbox/{t}"), f"{where} <{t}>") for t in CORNERS), where
        )
        if size is not None:
            box = clip_box(box, *size, where)
        name = (element.findtext("name") or "").strip()
        if not name:
            raise HitlbenchError(f"{where}: the object has no <name> (its class)")
        objects.append(VOCObject(name, box, where))
    return VOCAnnotation((root.findtext("filename") or "").strip(), objects, difficult)


def _image_for(annotation: VOCAnnotation, xml: Path, image_dir: Path) -> Path:
    """The image an annotation describes: `<filename>` in `image_dir`, else the file with the
    XML's name and an image suffix; an error naming the XML when neither exists."""
    if annotation.filename and (image_dir / annotation.filename).is_file():
        return image_dir / annotation.filename
    for suffix in sorted(IMAGE_SUFFIXES):
        for candidate in (image_dir / (xml.stem + suffix), image_dir / (xml.stem + suffix.upper())):
            if candidate.is_file():
                return candidate
    raise HitlbenchError(
        f"{xml}: refers to image {image_dir / (annotation.filename or xml.stem + '.*')}, "
        "which does not exist"
    )


def check_one_annotation_each(described: list[tuple[Path, Path]]) -> None:
    """No image is described by two annotation files ((image, XML) pairs); an error naming both
    XMLs otherwise (two `<filename>`s alike, or one matching another XML's name)."""
    first: dict[Path, Path] = {}
    for image, xml in described:
        if image in first:
            raise HitlbenchError(
                f"{xml}: describes image {image}, as {first[image]} does; each image must have "
                "one annotation file"
            )
        first[image] = xml


def _held_out(root: Path) -> tuple[set[str] | None, Path | None]:
    """Image ids of ImageSets/Main/test.txt (else val.txt), and that file; (None, None) without."""
    for name in ("test.txt", "val.txt"):
        path = root / "ImageSets" / "Main" / name
        if path.is_file():
            return {line.split()[0] for line in path.read_text().splitlines() if line.strip()}, path
    return None, None


@datasets.register("voc_boxes", "pascal_voc")
class VOCBoxes(LocalPhotoDataset):
    """A plain Pascal VOC folder (JPEGImages/ + Annotations/*.xml, Everingham et al. 2010), the
    layout most VOC exports use, as images with one labeled box each.

    Each XML names its image in `<filename>` (else the image shares the XML's name). Objects
    marked `difficult` are skipped (the VOC evaluation ignores them), a box past `<size>` by up
    to a pixel (rounding) is clipped to it and one further out refused, naming its object, and
    each image's object is its largest remaining box, labeled with that object's `<name>`;
    classes are the names that label at least one image, sorted. Two XML files that describe one
    image are refused. Images whose every
    object is difficult are left out and counted in the provenance. Corners are used as written
    (VOC counts pixels from 1; the shift is under a pixel of the resized image). `split: official`
    holds out the ids in ImageSets/Main/test.txt (or val.txt). `root` defaults to
    `$HITLBENCH_DATA/voc_boxes`.
    """

    def read(self) -> PhotoSet:
        root = data_root(self.root, "voc_boxes", "voc_boxes", LAYOUT, URL)
        image_dir, annotation_dir = require_folders(
            root, ("JPEGImages", "Annotations"), "voc_boxes", LAYOUT
        )
        xmls = sorted(annotation_dir.glob("*.xml"))
        chosen, described, skipped = [], [], 0
        for xml in xmls:
            annotation = read_voc(xml)
            if not annotation.objects:
                skipped += 1
                continue
            image = _image_for(annotation, xml, image_dir)
            described.append((image, xml))
            chosen.append((image, annotation.objects[largest([o.box for o in annotation.objects])]))
        check_one_annotation_each(described)
        names = sorted({obj.name for _, obj in chosen})
        index = {name: k for k, name in enumerate(names)}
        items = [
            PhotoItem(str(image), index[obj.name], obj.box, obj.where) for image, obj in chosen
        ]
        held_out, split_file = _held_out(root)
        official = None
        if held_out is not None:
            official = np.array([Path(item.path).stem in held_out for item in items])
        return PhotoSet(
            items=items,
            class_names=tuple(names),
            source=str(root),
            checksum=checksum_files([*xmls, *([split_file] if split_file else [])], root),
            official_test=official,
            notes={"images_without_boxes": skipped},
        )
