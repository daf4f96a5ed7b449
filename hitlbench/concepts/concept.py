"""A binary concept over a dataset's classes, and the two-class task it makes (Stretcu et al.
2023, Agile Modeling: a classifier for one visual concept from a person's ratings)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import numpy as np
import yaml

from ..types import HitlbenchError


@dataclass(frozen=True)
class Concept:
    """A concept: the classes that are it, those that look alike but are not, and phrases."""

    name: str
    positives: tuple[str, ...]
    hard_negatives: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    negative_phrases: tuple[str, ...] = ()
    others: tuple[str, ...] = ()  # the dataset's classes that are not the concept

    @property
    def class_names(self) -> tuple[str, str]:
        """The task's two classes: 0 is not the concept, 1 is."""
        return (f"not {self.name}", self.name)


@functools.cache
def shipped_concepts() -> dict[str, dict[str, Any]]:
    """The concepts that ship with hitlbench, by name (`concepts/*.yaml`)."""
    found: dict[str, dict[str, Any]] = {}
    folder = resources.files(__package__)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            found.update(yaml.safe_load(entry.read_text()))
    return found


def resolve_concept(given: str | Mapping[str, Any], class_names: Sequence[str]) -> Concept:
    """A shipped concept by name, or one given as {name, positives, hard_negatives, phrases,
    negative_phrases}; its classes must be the dataset's. Raises `HitlbenchError` otherwise."""
    if isinstance(given, str):
        if given not in shipped_concepts():
            raise HitlbenchError(
                f"unknown concept {given!r}; shipped: {', '.join(shipped_concepts())}, or give "
                "{name, positives: [class names], hard_negatives, phrases, negative_phrases}"
            )
        fields = {"name": given, **shipped_concepts()[given]}
    else:
        fields = dict(given)
    unknown = sorted(set(fields) - {"name", "positives", "hard_negatives", "phrases",
                                    "negative_phrases"})  # fmt: skip
    if unknown or not fields.get("name") or not fields.get("positives"):
        raise HitlbenchError(
            f"concept {given!r}: needs a name and positives (class names); unknown keys {unknown}"
        )
    fields["others"] = [name for name in class_names if name not in fields["positives"]]
    concept = Concept(**{k: v if k == "name" else tuple(v) for k, v in fields.items()})
    named = set(concept.positives) | set(concept.hard_negatives)
    missing = sorted(named - set(class_names))
    if missing or set(concept.positives) & set(concept.hard_negatives):
        raise HitlbenchError(
            f"concept {concept.name!r}: {missing or 'a class both positive and negative'} "
            f"(the dataset's classes: {', '.join(class_names)})"
        )
    if set(concept.positives) == set(class_names):
        raise HitlbenchError(f"concept {concept.name!r}: every class is positive; nothing is not")
    return concept


def concept_labels(labels: np.ndarray, class_names: Sequence[str], concept: Concept) -> np.ndarray:
    """int64 [N]: 1 where the item's class is one of the concept's positives, else 0."""
    positive = [class_names.index(name) for name in concept.positives]
    return np.isin(np.asarray(labels), positive).astype(np.int64)


def rare(labels: np.ndarray, prevalence: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions that keep every negative and only as many positives (drawn with `rng`)
    as make them a `prevalence` share of the result (at least one)."""
    positives, negatives = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    keep = max(1, round(prevalence / (1 - prevalence) * len(negatives)))
    if keep > len(positives):
        raise HitlbenchError(
            f"prevalence {prevalence} needs {keep} positives, the data has {len(positives)}"
        )
    chosen = rng.choice(positives, size=keep, replace=False)
    return np.sort(np.concatenate([negatives, chosen]))


def concept_task(data: Any, concept: Concept, prevalence: float | None, rng: np.random.Generator):
    """`data` (an `ImageData`) as the two-class task of `concept`: labels 1 for its positives,
    0 for the rest; with `prevalence`, positives subsampled to that share."""
    labels = concept_labels(data.labels, data.class_names, concept)
    keep = np.arange(len(labels)) if prevalence is None else rare(labels, prevalence, rng)

    def subset(array):
        return None if array is None else array[keep]

    return replace(
        data,
        images=data.images[keep],
        labels=labels[keep],
        class_names=concept.class_names,
        boxes=subset(data.boxes),
        masks={name: m[keep] for name, m in data.masks.items()},
        official_test=subset(data.official_test),
        groups=subset(data.groups),
        clean_images=subset(data.clean_images),
        concept=concept,
        source=data,
        source_rows=keep.astype(np.int64),
        provenance={
            **data.provenance,
            "concept": concept.name,
            "prevalence": prevalence,
            "kept": int(len(keep)),
        },
    )
