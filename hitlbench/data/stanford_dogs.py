"""Stanford Dogs (Khosla et al. 2011), read from a local copy in its native layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..types import HitlbenchError
from .base import datasets
from .photo import (
    LocalPhotoDataset,
    PhotoItem,
    PhotoSet,
    checksum_files,
    data_root,
    image_files,
    largest,
    require_file,
    require_folders,
    subfolders,
)
from .voc_boxes import read_voc

URL = "http://vision.stanford.edu/aditya86/ImageNetDogs/"
LAYOUT = (
    "Images/<synset-breed>/<file>.jpg, Annotation/<synset-breed>/<file> (Pascal VOC XML) "
    "and, for split: official, test_list.mat from lists.tar"
)


def check_annotations_have_images(annotation_dir: Path, used: set[str]) -> None:
    """Every Annotation/<breed>/<file> belongs to an image; an error naming the orphan otherwise."""
    for breed in subfolders(annotation_dir):
        for path in sorted(p for p in breed.iterdir() if p.is_file()):
            if f"{breed.name}/{path.name}" not in used:
                raise HitlbenchError(
                    f"{path}: annotation for a missing image (no Images/{breed.name}/{path.name}.*)"
                )


def official_test(path: Path, relative: list[str]) -> np.ndarray | None:
    """test_list.mat (the official 8,580 test images) as a bool mask, or None when absent."""
    if not path.is_file():
        return None
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    try:
        listed = {str(np.ravel(entry)[0]) for entry in np.ravel(loadmat(path)["file_list"])}
    except (OSError, ValueError, KeyError, IndexError, MatReadError) as exc:
        raise HitlbenchError(f"{path}: cannot read the file_list of test images ({exc})") from exc
    missing = sorted(listed - set(relative))
    if missing:
        raise HitlbenchError(f"{path}: lists {len(missing)} missing image(s), e.g. {missing[0]}")
    return np.array([name in listed for name in relative])


@datasets.register("stanford_dogs", "dogs")
class StanfordDogs(LocalPhotoDataset):
    """Stanford Dogs: 20,580 photos of 120 dog breeds with boxes (Khosla et al. 2011).

    The "Dog Breeds" dataset of Holmes et al. Reads Images/<synset-breed>/<file>.jpg and the
    Pascal VOC XML files Annotation/<synset-breed>/<file> (`voc_boxes.read_voc`: box corners used
    as given, clipped to `<size>`, `difficult` objects skipped); where an image shows several
    dogs, the largest box is the image's object. Class names are the breed
    part of the folder names. `split: official` uses test_list.mat (from lists.tar) when it is in
    the root. `root` defaults to `$HITLBENCH_DATA/stanford_dogs`.
    """

    def read(self) -> PhotoSet:
        root = data_root(self.root, "stanford_dogs", "stanford_dogs", LAYOUT, URL)
        image_dir, annotation_dir = require_folders(
            root, ("Images", "Annotation"), "stanford_dogs", LAYOUT
        )
        breeds = subfolders(image_dir)
        items, relative, annotations = [], [], []
        for label, breed in enumerate(breeds):
            for image in image_files(breed):
                annotation = require_file(annotation_dir / breed.name / image.stem)
                objects = read_voc(annotation).objects
                if not objects:
                    raise HitlbenchError(f"{annotation}: no <object><bndbox> in the annotation")
                box = objects[largest([o.box for o in objects])].box
                items.append(PhotoItem(str(image), label, box, str(annotation)))
                relative.append(f"{breed.name}/{image.name}")
                annotations.append(annotation)
        check_annotations_have_images(
            annotation_dir, {a.relative_to(annotation_dir).as_posix() for a in annotations}
        )
        split_file = root / "test_list.mat"
        files = [*annotations, *([split_file] if split_file.is_file() else [])]
        return PhotoSet(
            items=items,
            class_names=tuple(b.name.split("-", 1)[-1] for b in breeds),
            source=str(root),
            checksum=checksum_files(files, root),
            official_test=official_test(split_file, relative),
        )
