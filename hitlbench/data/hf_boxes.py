"""Any Hugging Face `datasets` dataset with an image, a label and a box column."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from ..types import HitlbenchError
from .base import datasets
from .photo import (
    Box,
    PhotoDataset,
    PhotoItem,
    PhotoSet,
    class_id,
    largest,
    number,
    ordered,
    xywh_to_xyxy,
)

BOX_FORMATS = ("xyxy", "xywh")


def unlist(feature: Any) -> Any:
    """The element feature of a (nested) List/Sequence feature; others unchanged."""
    while hasattr(feature, "feature"):
        feature = feature.feature
    return feature


def walk(value: Any, fields: list[str]) -> Any:
    """`value` followed through dotted `fields`, mapping over lists (`objects.bbox`)."""
    for name in fields:
        value = [v[name] for v in value] if isinstance(value, list) else value[name]
    return value


def check_unique_images(items: list[PhotoItem]) -> None:
    """No image in two rows: the same file name with the same bytes (embedded images) or the
    same file (images on disk); an error naming both rows otherwise, e.g. for a one-row-per-box
    layout. Different images that only share a name pass."""
    first: dict[tuple[str, str | None], str] = {}
    for item in items:
        key = (item.path, None if item.data is None else hashlib.sha256(item.data).hexdigest())
        if key in first:
            raise HitlbenchError(
                f"{item.origin}: image {item.path!r} is also {first[key]}; each image must be one "
                "row (several boxes of an image go into one row's list of boxes)"
            )
        first[key] = item.origin


@datasets.register("hf_boxes")
class HFBoxes(PhotoDataset):
    """Any Hugging Face dataset with image, label and box columns (`datasets.load_dataset`).

    Calls `datasets.load_dataset(path, split=hf_split, data_dir=..., data_files=...,
    **load_kwargs)`: local files work offline (`path: parquet` with `data_files`, or
    `path: imagefolder` with `data_dir`), a Hub id needs a connection. Columns may be dotted
    (`objects.bbox`, `objects.category`); a row with several boxes takes its largest box and
    that box's label, a row with none is left out; two rows with one image (the same file, or
    the same name and bytes) are refused. Boxes are `box_format` (xyxy or xywh) in pixels, or
    fractions of the image with `box_normalized`; a box past the image by a rounding overshoot
    (a pixel, 0.5 % of a fraction) is clipped to it, one further out refused, naming its row.
    Class names come from a ClassLabel feature, else the sorted label strings, else the ids.
    `hf_test_split` names the split that `split: official` holds out (loaded after `hf_split`).
    """

    def __init__(
        self,
        path: str | None = None,
        hf_split: str = "train",
        hf_test_split: str | None = None,
        data_dir: str | None = None,
        data_files: str | list[str] | dict[str, Any] | None = None,
        image_column: str = "image",
        label_column: str = "label",
        box_column: str = "bbox",
        box_format: str = "xywh",
        box_normalized: bool = False,
        load_kwargs: dict[str, Any] | None = None,
        image_size: int = 224,
        split: str = "holdout",
        holdout: float = 0.15,
        pool_size: int | None = None,
    ):
        super().__init__(image_size=image_size, split=split, holdout=holdout, pool_size=pool_size)
        if box_format not in BOX_FORMATS:
            raise ValueError(
                f"box_format must be one of {', '.join(BOX_FORMATS)}, got {box_format!r}"
            )
        self.path = path
        self.hf_split = hf_split
        self.hf_test_split = hf_test_split
        self.data_dir = data_dir
        self.data_files = data_files
        self.image_column = image_column
        self.label_column = label_column
        self.box_column = box_column
        self.box_format = box_format
        self.box_normalized = box_normalized
        self.load_kwargs = load_kwargs

    def _location(self) -> dict[str, Any]:
        given = {"data_dir": self.data_dir, "data_files": self.data_files}
        return {k: v for k, v in given.items() if v is not None}

    def _load(self, split_name: str):
        """One split through `datasets.load_dataset`, with the image column left undecoded."""
        from datasets import Image, load_dataset
        from datasets.exceptions import DatasetsError

        try:
            ds = load_dataset(
                self.path, split=split_name, **self._location(), **(self.load_kwargs or {})
            )
        except (OSError, ValueError, DatasetsError) as exc:
            raise HitlbenchError(
                f"hf_boxes: cannot load {self.path!r} split {split_name!r} ({exc}). Local files "
                "load offline; a Hub dataset needs a connection (or the Hugging Face cache)."
            ) from exc
        for column in (self.image_column, self.label_column, self.box_column):
            if column.split(".")[0] not in ds.column_names:
                raise HitlbenchError(
                    f"hf_boxes: {self.path!r} split {split_name!r} has no column {column!r}; "
                    f"it has {', '.join(ds.column_names)}"
                )
        if not isinstance(ds.features.get(self.image_column), Image):
            raise HitlbenchError(f"hf_boxes: column {self.image_column!r} is not an Image feature")
        return ds.cast_column(self.image_column, Image(decode=False))

    def _column(self, ds, dotted: str) -> list[Any]:
        root, *fields = dotted.split(".")
        try:
            return [walk(value, fields) for value in ds[root]]
        except (KeyError, TypeError) as exc:
            raise HitlbenchError(
                f"hf_boxes: {self.path!r} has no field {dotted!r} ({exc})"
            ) from exc

    def _box(self, value: Any, where: str) -> Box:
        if not isinstance(value, (list, tuple)) or len(value) != 4:
            raise HitlbenchError(f"{where}: a box must have 4 numbers, got {value!r}")
        box = tuple(number(v, where) for v in value)
        return ordered(xywh_to_xyxy(*box) if self.box_format == "xywh" else box, where)

    def _object(self, boxes: Any, labels: Any, where: str) -> tuple[Box, Any] | None:
        """The row's one object: its box and raw label (the largest box where there are several)."""
        if not boxes or not isinstance(boxes[0], (list, tuple)):
            return (self._box(boxes, where), labels) if boxes else None
        converted = [self._box(b, where) for b in boxes]
        k = largest(converted)
        if not isinstance(labels, list):
            return converted[k], labels
        if len(labels) != len(boxes):
            raise HitlbenchError(f"{where}: {len(boxes)} boxes but {len(labels)} labels")
        return converted[k], labels[k]

    @staticmethod
    def _label(label: Any, names: tuple[str, ...], where: str) -> int:
        """A raw label (a class name or id) as a class index."""
        return names.index(label) if isinstance(label, str) else class_id(label, len(names), where)

    def _class_names(self, features: Any, raw: list[Any]) -> tuple[str, ...]:
        """From a ClassLabel feature, else the sorted label strings, else the ids 0..max."""
        root, *fields = self.label_column.split(".")
        feature = features[root]
        for name in fields:
            feature = unlist(feature)[name]
        feature = unlist(feature)
        if hasattr(feature, "names"):
            return tuple(feature.names)
        if all(isinstance(v, str) for v in raw):
            return tuple(sorted(set(raw)))
        top = max((number(v, self.path) for v in raw), default=-1)
        return tuple(str(i) for i in range(int(top) + 1))

    def _split(self, split_name: str, digest: Any) -> tuple[Any, list[tuple[Any, Any, Any, str]]]:
        """One split's features and (image, labels, boxes, where) rows; annotations go into `digest`."""
        ds = self._load(split_name)
        columns = zip(
            self._column(ds, self.image_column),
            self._column(ds, self.label_column),
            self._column(ds, self.box_column),
        )
        rows = []
        for i, (image, labels, boxes) in enumerate(columns):
            digest.update(json.dumps([split_name, labels, boxes], default=str).encode())
            rows.append((image, labels, boxes, f"{self.path} split {split_name!r} row {i}"))
        return ds.features, rows

    def read(self) -> PhotoSet:
        if not self.path:
            raise HitlbenchError(
                "hf_boxes: set `path`: a Hub dataset id, or `parquet` / `imagefolder` with "
                "data_files / data_dir for local files"
            )
        splits = [self.hf_split, *([self.hf_test_split] if self.hf_test_split else [])]
        objects, is_test, digest, skipped = [], [], hashlib.sha256(), 0
        for split_name in splits:
            features, rows = self._split(split_name, digest)
            for image, labels, boxes, where in rows:
                found = self._object(boxes, labels, where)
                if found is None:
                    skipped += 1
                    continue
                objects.append((image, *found, where))
                is_test.append(split_name == self.hf_test_split)
        names = self._class_names(features, [label for _, _, label, _ in objects])
        items = [
            PhotoItem(
                path=image["path"] or where,
                label=self._label(label, names, where),
                box=box,
                origin=where,
                normalized=self.box_normalized,
                data=image["bytes"],
            )
            for image, box, label, where in objects
        ]
        check_unique_images(items)
        return PhotoSet(
            items=items,
            class_names=names,
            source=" ".join([self.path, *(f"{k}={v}" for k, v in self._location().items())]),
            checksum=digest.hexdigest(),
            official_test=np.array(is_test) if self.hf_test_split else None,
            notes={"images_without_boxes": skipped},
        )
