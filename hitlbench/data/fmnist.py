"""Fashion-MNIST (Xiao et al. 2017), read from local files only."""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np

from ..core.cache import cached_arrays
from ..types import HitlbenchError
from .base import Dataset, ImageData, datasets

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_PACKAGE = "dataset-fashion-mnist"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hitlbench" / "fashion-mnist"


def candidate_dirs() -> list[Path]:
    """Where Fashion-MNIST is looked for, in order: $HITLBENCH_DATA, Debian's package, the cache."""
    dirs = []
    if os.environ.get("HITLBENCH_DATA"):
        root = Path(os.environ["HITLBENCH_DATA"])
        dirs += [root / "fashion-mnist", root]
    return [*dirs, DEBIAN_DIR, cache_dir()]


def _file_in(directory: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (directory / name).is_file():
            return directory / name
    return None


def locate() -> dict[str, Path]:
    """The four files from the first directory that has them all, or a clear error.

    A directory with none of them is passed over; one with some but not all is refused, so a
    location given explicitly is never silently replaced by the next one.
    """
    for directory in candidate_dirs():
        found = {key: _file_in(directory, stem) for key, stem in FILES.items()}
        if all(found.values()):
            return found
        if any(found.values()):
            missing = [f"{FILES[key]}.gz" for key, path in found.items() if path is None]
            raise HitlbenchError(
                f"Fashion-MNIST: {directory} holds some of the four files but not "
                f"{', '.join(missing)}; add them there, or remove the others so that the next "
                "location is used"
            )
    raise HitlbenchError(
        "Fashion-MNIST files not found (looked in: "
        + ", ".join(str(d) for d in candidate_dirs())
        + "). Provide them in one of three ways: (1) set HITLBENCH_DATA to a folder holding "
        + ", ".join(f"{s}.gz" for s in FILES.values())
        + f"; (2) on Debian/Ubuntu, `sudo apt-get install {DEBIAN_PACKAGE}` (files go to "
        + f"{DEBIAN_DIR}); (3) copy the four files into {cache_dir()}."
    )


def _read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise HitlbenchError(f"{path}: cannot read ({exc})") from exc
    header = np.frombuffer(raw[: 4 * (1 + ndim)], dtype=">u4")
    if len(header) != 1 + ndim or header[0] != magic:
        raise HitlbenchError(f"{path}: not an IDX file with magic {magic}")
    shape = tuple(int(s) for s in header[1:])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 * (1 + ndim))
    if body.size != int(np.prod(shape)):
        raise HitlbenchError(f"{path}: expected {int(np.prod(shape))} values, found {body.size}")
    return body.reshape(shape)


def _debian_version() -> str | None:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", DEBIAN_PACKAGE],
            capture_output=True, text=True, check=True, timeout=10,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _decode(files: dict[str, Path]) -> dict[str, np.ndarray]:
    train_x = _read_idx(files["train_images"], 2051, 3)
    test_x = _read_idx(files["test_images"], 2051, 3)
    train_y = _read_idx(files["train_labels"], 2049, 1)
    test_y = _read_idx(files["test_labels"], 2049, 1)
    return {
        "images": np.concatenate([train_x, test_x])[:, None],
        "labels": np.concatenate([train_y, test_y]).astype(np.int64),
        "official_test": np.r_[np.zeros(len(train_y), bool), np.ones(len(test_y), bool)],
    }


@functools.lru_cache(maxsize=2)
def _load(paths: tuple[tuple[str, Path], ...]) -> ImageData:
    files = dict(paths)
    digest = hashlib.sha256()
    for key in FILES:
        digest.update(files[key].read_bytes())
    arrays = cached_arrays("fmnist", {"sha256": digest.hexdigest()}, lambda: _decode(files))
    source = files["train_images"].parent
    provenance = {"source": str(source), "sha256": digest.hexdigest()}
    if source == DEBIAN_DIR and (version := _debian_version()):
        provenance["package"] = f"{DEBIAN_PACKAGE} {version}"
    return ImageData(class_names=CLASS_NAMES, provenance=provenance, **arrays)


@datasets.register("fmnist", "fashion_mnist")
class FashionMNIST(Dataset):
    """The real 70,000 Fashion-MNIST images, 28x28 grey, 10 classes (Xiao et al. 2017)."""

    offers = frozenset()

    # 2: declares its class names before loading (`declared_class_names`); the same data
    version = "2"

    def declared_class_names(self):
        return CLASS_NAMES

    def load(self):
        return _load(tuple(locate().items()))
