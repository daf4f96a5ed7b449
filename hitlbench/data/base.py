"""Datasets: images, labels and class names, with boxes and masks where known."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import Field

from ..concepts import concept_task, resolve_concept
from ..core.component import Component
from ..core.registry import Registry
from ..types import MASK_OF_WANT, HitlbenchError, TaskInfo, Want
from .splits import long_tailed, make_split


@dataclass(frozen=True)
class ImageData:
    """A whole labeled image collection, as loaded (before any split)."""

    images: np.ndarray  # uint8 [N, C, H, W]
    labels: np.ndarray  # int64 [N]
    class_names: tuple[str, ...]
    boxes: np.ndarray | None = None  # float32 [N, 4] xyxy pixels of the object
    masks: dict[str, np.ndarray] = field(default_factory=dict)  # name -> bool [N, H, W]
    official_test: np.ndarray | None = None  # bool [N]: the dataset's own test split
    # str [N]: items that are copies of one source (e.g. augmented versions of one photo) share
    # a group, kept on one side by `split: grouped`; None: every item is its own source
    groups: np.ndarray | None = None
    clean_images: np.ndarray | None = None  # the same items without their decoy, where known
    provenance: dict[str, Any] = field(default_factory=dict)
    concept: Any = None  # the `hitlbench.concepts.Concept` of a two-class concept task
    # a concept task's collection as loaded, and the row there of each item here (int64 [N]),
    # so that per-image artefacts (cached embeddings) are shared by every concept over it
    source: ImageData | None = None
    source_rows: np.ndarray | None = None

    def __post_init__(self):
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise ValueError("images must be uint8 [N, C, H, W]")
        if len(self.labels) != len(self.images):
            raise ValueError(f"{len(self.labels)} labels for {len(self.images)} images")

    def __len__(self) -> int:
        return len(self.labels)

    def task(self) -> TaskInfo:
        return TaskInfo(
            len(self.class_names), self.class_names, tuple(self.images.shape[1:]), self.concept
        )

    def offers(self) -> frozenset[Want]:
        """What a person could be asked for beyond labels: true boxes, and masks by name."""
        boxes = {Want.BOX} if self.boxes is not None else set()
        return frozenset(boxes | {w for w, name in MASK_OF_WANT.items() if name in self.masks})


@dataclass(frozen=True)
class SplitData:
    """A dataset split into the pool the person labels from and the holdout the model is scored on."""

    data: ImageData
    pool: np.ndarray  # dataset indices
    holdout: np.ndarray  # dataset indices


# "holdout": a seeded stratified `holdout` share of every image; "grouped": a seeded stratified
# `holdout` share of the groups (`ImageData.groups`), so that near-copies of one source never
# straddle pool and holdout; "official": the dataset's own test split; "training": a seeded
# stratified `holdout` share of the official training images, the official test images left
# out (to choose settings without looking at the test set).
SPLITS = ("holdout", "grouped", "official", "training")


class Dataset(Component, ABC):
    """A registered dataset; every one takes `split` (`SPLITS`), `holdout` and `pool_size` (DESIGN §4),
    and, given by the registry to every dataset (plugins included), `concept` and `prevalence`:
    the two-class task of one concept over its classes (a shipped name such as `footwear`, or
    {name, positives, hard_negatives, phrases, negative_phrases}), its positives subsampled to
    a `prevalence` share if given (`hitlbench.concepts`; Stretcu et al. 2023); and
    `pool_imbalance`, a long-tailed pool: class shares falling geometrically with the class id
    to that ratio of the first class's (`splits.long_tailed`, after `pool_size`; the holdout
    keeps the split's shares), the setting where class balance matters to a sampler."""

    # What its loaded data offers beyond labels (`ImageData.offers`), declared so that a
    # combination can be refused before any data is decoded; None: known only once loaded.
    offers: ClassVar[frozenset[Want] | None] = None
    shared: ClassVar[dict[str, tuple[Any, Any]]] = {
        "concept": (str | dict[str, Any] | None, None),
        "prevalence": (Annotated[float, Field(gt=0.0, lt=1.0)] | None, None),
        "pool_imbalance": (Annotated[float, Field(gt=0.0, le=1.0)] | None, None),
    }
    concept: str | dict[str, Any] | None = None
    prevalence: float | None = None
    pool_imbalance: float | None = None

    def __init__(self, split: str = "holdout", holdout: float = 0.15, pool_size: int | None = None):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        if not 0.0 < holdout < 1.0:
            raise ValueError(f"holdout must be a fraction in (0, 1), got {holdout}")
        if pool_size is not None and pool_size < 1:
            raise ValueError(f"pool_size must be >= 1, got {pool_size}")
        self.split = split
        self.holdout = holdout
        self.pool_size = pool_size

    def declared_class_names(self) -> tuple[str, ...] | None:
        """The class names, known without decoding an image; None where only loading tells."""
        return None

    def task_class_names(self) -> tuple[str, ...] | None:
        """The task's class names before loading: the concept's two, or the declared ones."""
        concept = self.task_concept()
        return self.declared_class_names() if concept is None else concept.class_names

    def task_concept(self):
        """The concept task's `Concept` before loading (None: no concept, or classes known only
        once loaded)."""
        names = self.declared_class_names()
        if self.concept is None or names is None:
            return None
        return resolve_concept(self.concept, names)

    @abstractmethod
    def load(self) -> ImageData:
        """The full collection; raises HitlbenchError naming how to get missing files."""

    def build(self, rng: np.random.Generator) -> SplitData:
        """Load and split (`SPLITS`), then the pool subset."""
        data = self.load()
        if self.prevalence is not None and self.concept is None:
            raise HitlbenchError("prevalence applies to a concept task; set concept too")
        if self.concept is not None:
            concept = resolve_concept(self.concept, data.class_names)
            data = concept_task(data, concept, self.prevalence, rng)
        self._require_split_data(data)
        pool, holdout = make_split(
            data.labels,
            official_test=data.official_test if self.split == "official" else None,
            exclude=data.official_test if self.split == "training" else None,
            groups=data.groups if self.split == "grouped" else None,
            holdout=self.holdout,
            pool_size=self.pool_size,
            rng=rng,
        )
        if self.pool_imbalance is not None:
            pool = long_tailed(data.labels, pool, self.pool_imbalance, rng)
        what = f"dataset {self.registered_name!r}"
        require_classes(data.labels[pool], f"{what}: the pool (after split and pool_size)")
        if len(holdout) == 0:
            raise HitlbenchError(f"{what}: the holdout is empty; use a larger holdout fraction")
        if data.concept is not None:
            require_both_sides(data.labels[holdout], data.concept, f"{what}: the holdout")
        return SplitData(data, pool, holdout)

    def _require_split_data(self, data: ImageData) -> None:
        """Refuse a split the loaded data cannot make: grouped without groups, official or
        training without an official test split."""
        name = self.registered_name
        if self.split == "grouped" and data.groups is None:
            raise HitlbenchError(
                f"dataset {name!r} declares no groups (copies of one source); use split: holdout"
            )
        if self.split in ("official", "training") and data.official_test is None:
            raise HitlbenchError(f"dataset {name!r} has no official test split; use split: holdout")


def require_classes(labels: np.ndarray, what: str) -> None:
    """Refuse labels of fewer than 2 distinct classes: nothing to learn, no margin to rank by."""
    found = np.unique(labels)
    if len(found) < 2:
        raise HitlbenchError(
            f"{what} holds {len(labels)} items of {len(found)} class(es); a run needs at least 2 "
            "classes"
        )


def require_both_sides(labels: np.ndarray, concept: Any, what: str) -> None:
    """Refuse a concept task's labels (int64 [N], 1: the concept) without a positive or without
    a negative: its binary metrics (AUC-PR, AUROC) would have nothing to score."""
    missing = [side for side, label in (("positive", 1), ("negative", 0)) if label not in labels]
    if missing:
        raise HitlbenchError(
            f"{what} holds {len(labels)} items of concept {concept.name!r}, no "
            f"{' and no '.join(missing)}; a concept task's holdout needs both (use a larger "
            "holdout fraction or prevalence)"
        )


datasets: Registry[Dataset] = Registry("dataset", Dataset, group="hitlbench.datasets")
