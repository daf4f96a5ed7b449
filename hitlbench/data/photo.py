"""Shared work of the photo-dataset loaders: find the root, decode, resize, scale boxes, validate.

Every loader reads its native annotation format into a `PhotoSet` of `PhotoItem`s (one object
box per image, in the original pixels); `load_photos` turns that into `ImageData` with RGB images
resized to a square and the boxes scaled with them. Every image is decoded by `decode.as_shown`
and every box checked by `clip_box` against the decoded image: a coordinate past the image's edge
by a rounding overshoot (up to `PIXEL_SLACK` pixel, or `FRACTION_SLACK` of a normalised
coordinate: export tools round, e.g. a normalised 1.0004) is clipped to it; one further out (a box
in another image's pixels, say the original photo's against a resized copy) is refused, as is a
box with no positive area after clipping, each naming its annotation. Loaders whose format
records the image size (COCO, Pascal VOC, YOLO's fractions) clip every annotation with `clip_box`
as they parse, so the largest box, the image's object, is chosen among clipped boxes. Decoded
arrays are kept in the artefact cache (`hitlbench.core.cache`), keyed by the annotations'
checksum, each image file's size and mtime, and the slack.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..core.cache import cached_arrays
from ..types import HitlbenchError, Want
from .base import Dataset, ImageData, require_classes
from .decode import as_shown

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
Box = tuple[float, float, float, float]
PIXEL_SLACK = 1.0  # pixels a coordinate may pass the image's edge by (rounding) and be clipped
FRACTION_SLACK = 0.005  # the same for a normalised coordinate (0.5 % of the image's side)


@dataclass(frozen=True)
class PhotoItem:
    """One image: its file, class id and object box (xyxy, original pixels or fractions of them)."""

    path: str  # the image file; with `data`, only the name used in messages
    label: int
    box: Box
    origin: str  # the annotation (file, line) that describes the image, for messages
    normalized: bool = False  # box in fractions of the image's width and height
    data: bytes | None = None  # the encoded image, when it does not live in a file


@dataclass(frozen=True)
class PhotoSet:
    """What a format reader found: items, class names, the official test mask, provenance."""

    items: list[PhotoItem]
    class_names: tuple[str, ...]
    source: str
    checksum: str  # sha256 over the annotation files (the images are not hashed: too slow)
    official_test: np.ndarray | None = None  # bool [N], aligned with `items`
    groups: list[str] | None = None  # each item's source (`ImageData.groups`), where declared
    notes: dict[str, Any] = field(default_factory=dict)  # extra provenance, e.g. skipped images


class PhotoDataset(Dataset):
    """Base of the photo datasets: RGB images resized to `image_size` squares (stretched)."""

    offers = frozenset({Want.BOX})
    # 1: 16-bit images clipped to white, alpha dropped, EXIF orientation ignored. A box more
    # than a rounding overshoot outside its image is refused, as in 1 (clipped for a while in 2,
    # with no valid input changed): no version bump, every box that loads is the same as in 2
    version = "2"

    def __init__(
        self,
        image_size: int = 224,
        split: str = "holdout",
        holdout: float = 0.15,
        pool_size: int | None = None,
    ):
        super().__init__(split=split, holdout=holdout, pool_size=pool_size)
        if image_size < 1:
            raise ValueError(f"image_size must be >= 1, got {image_size}")
        self.image_size = image_size

    @abstractmethod
    def read(self) -> PhotoSet:
        """The annotations in the dataset's native format."""

    def load(self) -> ImageData:
        return load_photos(self.read(), image_size=self.image_size)

    def declared_class_names(self):
        return self.read().class_names  # annotations only, no image decoded


class LocalPhotoDataset(PhotoDataset):
    """A photo dataset read from a local folder `root` (None: the dataset's folder under $HITLBENCH_DATA)."""

    def __init__(
        self,
        root: str | None = None,
        image_size: int = 224,
        split: str = "holdout",
        holdout: float = 0.15,
        pool_size: int | None = None,
    ):
        super().__init__(image_size=image_size, split=split, holdout=holdout, pool_size=pool_size)
        self.root = root


def _fmt(box: Iterable[float]) -> str:
    return "(" + ", ".join(f"{v:g}" for v in box) + ")"


def data_root(root: str | None, folder: str, dataset: str, layout: str, url: str) -> Path:
    """`root`, or `$HITLBENCH_DATA/<folder>`; a clear error saying where the data belongs."""
    where = f"Download it manually from {url}, unpack it ({layout}) and pass root=<folder>"
    if root is None:
        base = os.environ.get("HITLBENCH_DATA")
        if not base:
            raise HitlbenchError(
                f"{dataset}: no root given and HITLBENCH_DATA is not set; the data is expected "
                f"in $HITLBENCH_DATA/{folder}. {where}, or put it in $HITLBENCH_DATA/{folder}."
            )
        path = Path(base) / folder
    else:
        path = Path(root).expanduser()
    if not path.is_dir():
        raise HitlbenchError(f"{dataset}: data not found: {path} is not a folder. {where}.")
    return path


def require_folders(root: Path, names: Sequence[str], dataset: str, layout: str) -> list[Path]:
    """`root / name` for each name, or an error naming the first folder that is missing."""
    folders = [root / name for name in names]
    for folder in folders:
        if not folder.is_dir():
            raise HitlbenchError(f"{dataset}: folder missing: {folder} (expected {layout})")
    return folders


def require_file(path: Path) -> Path:
    """`path` if it is a file, else an error naming the missing annotation file."""
    if not path.is_file():
        raise HitlbenchError(f"annotation file missing: {path}")
    return path


def image_files(folder: Path) -> list[Path]:
    """The image files directly inside `folder`, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def subfolders(folder: Path) -> list[Path]:
    """The visible subfolders of `folder`, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def number(text: Any, where: str) -> float:
    """`text` as a float, or an error naming `where` (a file and line)."""
    try:
        return float(text)
    except (TypeError, ValueError):
        raise HitlbenchError(f"{where}: {text!r} is not a number") from None


def class_id(text: Any, n_classes: int, where: str, first: int = 0) -> int:
    """A class id counted from `first`, as a 0-based index; an error naming `where` if invalid."""
    value = number(text, where)
    if not (value.is_integer() and first <= value < first + n_classes):
        raise HitlbenchError(
            f"{where}: class id {text} is out of range ({first}..{first + n_classes - 1})"
        )
    return int(value) - first


def ordered(box: Iterable[float], where: str) -> Box:
    """`box` (xyxy) as a tuple; an error naming `where` unless x1 > x0 and y1 > y0.

    For formats that do not record the image size; `clip_box` checks again once it is known.
    """
    x0, y0, x1, y1 = box = tuple(box)
    if not (x1 > x0 and y1 > y0):
        raise HitlbenchError(f"{where}: box {_fmt(box)} has x1 <= x0 or y1 <= y0")
    return box


def clip_box(
    box: Iterable[float], width: float, height: float, where: str, *, fractions: bool = False
) -> Box:
    """`box` (xyxy) clipped to a `width` x `height` image (pixels; `fractions`: a 1 x 1 image).

    Only a rounding overshoot is clipped: up to `PIXEL_SLACK` pixel past an edge, or
    `FRACTION_SLACK` with `fractions`. Raises `HitlbenchError` naming `where` when a coordinate
    is not a finite number, lies further outside the image (a box in the wrong units or another
    image's pixels), or no positive area is left inside the image after clipping.
    """
    given = tuple(float(v) for v in box)
    if not np.isfinite(given).all():
        raise HitlbenchError(f"{where}: box {_fmt(given)} has a coordinate that is not a number")
    slack = FRACTION_SLACK if fractions else PIXEL_SLACK
    extent = [width, height, width, height]
    beyond = [v < -slack or v > side + slack for v, side in zip(given, extent, strict=True)]
    if any(beyond):
        corner = ("x0", "y0", "x1", "y1")[beyond.index(True)]
        raise HitlbenchError(
            f"{where}: box {_fmt(given)} lies outside the image (x 0..{width:g}, y 0..{height:g}) "
            f"by more than rounding ({slack:g}{'' if fractions else ' pixel'}) at {corner}; "
            "are its coordinates in other units or another image's pixels?"
        )
    x0, y0, x1, y1 = np.clip(given, 0.0, extent).tolist()
    if not (x1 > x0 and y1 > y0):
        raise HitlbenchError(
            f"{where}: box {_fmt(given)} has no area inside the image "
            f"(x 0..{width:g}, y 0..{height:g}) after clipping to it"
        )
    return (x0, y0, x1, y1)


def xywh_to_xyxy(x: float, y: float, w: float, h: float) -> Box:
    """A COCO/CUB (x, y, width, height) box as (x0, y0, x1, y1)."""
    return (x, y, x + w, y + h)


def largest(boxes: Sequence[Box]) -> int:
    """The position of the largest box by area (the first on ties): the image's one object."""
    areas = [(b[2] - b[0]) * (b[3] - b[1]) for b in boxes]
    return int(np.argmax(areas))


def checksum_files(files: Iterable[Path], root: Path) -> str:
    """sha256 over the files' names relative to `root` and their bytes, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _items_digest(items: Sequence[PhotoItem]) -> str:
    """sha256 over what each item decodes to: annotation, and file size and mtime or bytes."""
    digest = hashlib.sha256()
    for item in items:
        if item.data is None:
            try:
                stat = os.stat(item.path)
            except OSError:
                raise HitlbenchError(
                    f"{item.origin}: refers to image {item.path}, which does not exist"
                ) from None
            content = f"{stat.st_size}:{stat.st_mtime_ns}"
        else:
            content = hashlib.sha256(item.data).hexdigest()
        digest.update(f"{item.path}|{item.label}|{item.box}|{item.normalized}|{content}\n".encode())
    return digest.hexdigest()


def _scaled_box(item: PhotoItem, width: int, height: int, size: int) -> np.ndarray:
    """The item's box clipped to the image (`clip_box`) in pixels of the `size` square."""
    extent = np.array([width, height, width, height], np.float64)
    where = f"{item.origin} (image {item.path})"
    if item.normalized:  # the fractions' own slack, then pixels
        box = np.asarray(clip_box(item.box, 1.0, 1.0, where, fractions=True)) * extent
    else:
        box = np.asarray(item.box, np.float64)
    clipped = clip_box(box, width, height, where)
    return (np.asarray(clipped) * size / extent).astype(np.float32)


def _decode(item: PhotoItem, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One image as uint8 [3, size, size] (bilinear, stretched) and its scaled box."""
    where = item.path if item.data is None else f"{item.path} ({item.origin})"
    try:
        with Image.open(io.BytesIO(item.data) if item.data is not None else item.path) as image:
            rgb = as_shown(image, where)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise HitlbenchError(f"{where}: cannot decode image ({exc})") from exc
    width, height = rgb.size
    resized = rgb.resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(resized, np.uint8).transpose(2, 0, 1), _scaled_box(item, width, height, size)


def _decode_all(photos: PhotoSet, size: int) -> dict[str, np.ndarray]:
    """Decode every item in threads (PIL releases the GIL), with a progress bar on a terminal."""
    from tqdm import tqdm

    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:
        results = list(
            tqdm(
                pool.map(lambda item: _decode(item, size), photos.items),
                total=len(photos.items),
                desc=f"decoding {photos.source}",
                unit="image",
                disable=None,
                file=sys.stderr,
                leave=False,
            )
        )
    return {
        "images": np.stack([image for image, _ in results]),
        "boxes": np.stack([box for _, box in results]),
    }


def load_photos(photos: PhotoSet, *, image_size: int) -> ImageData:
    """`ImageData` of `photos`: uint8 [N, 3, S, S] RGB, int64 labels, float32 xyxy boxes."""
    if not photos.items:
        raise HitlbenchError(f"no annotated images found in {photos.source}")
    labels = np.array([item.label for item in photos.items], np.int64)
    require_classes(labels, f"{photos.source}")  # before decoding anything
    key = {
        "checksum": photos.checksum,
        "items": _items_digest(photos.items),
        "image_size": image_size,
        "box_slack": [PIXEL_SLACK, FRACTION_SLACK],  # boxes are checked while decoding
    }
    arrays = cached_arrays("photos", key, lambda: _decode_all(photos, image_size))
    return ImageData(
        images=arrays["images"],
        labels=labels,
        class_names=photos.class_names,
        boxes=arrays["boxes"],
        official_test=photos.official_test,
        groups=None if photos.groups is None else np.array(photos.groups, dtype=str),
        provenance={
            "source": photos.source,
            "sha256": photos.checksum,
            "sha256_of": "the annotations only (hashing every image would be too slow)",
            **photos.notes,
        },
    )
