"""Class names as WordNet synsets, and ImageNet's 1,000 classes mapped onto them.

A class resolves to a set of WordNet 3.0 noun synsets: those the user gives for it (synset
names such as `jersey.n.03`, or phrases), else those of a shipped class map for its dataset's
class names (`class_maps/*.yaml`), else its name's most frequent noun sense (each alternative of
a name such as "T-shirt/top", spaces as underscores, plurals reduced by WordNet's morphology).
ImageNet class ids are WordNet 3.0 noun offsets, so an ImageNet class belongs to the target class
whose synsets it falls under, the nearest in the hypernym hierarchy where several claim it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from importlib import resources

import numpy as np
import yaml

from ..types import HitlbenchError
from .wordnet import wordnet


@functools.cache
def shipped_maps() -> tuple[dict[str, list[str]], ...]:
    """The class maps that ship with hitlbench, each {class name: [synset names]}."""
    folder = resources.files(__package__) / "class_maps"
    return tuple(
        yaml.safe_load(entry.read_text())
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    )


def _phrase_synsets(phrase: str) -> list:
    """A synset name (`cat.n.01`) as that synset; a phrase as its most frequent noun sense."""
    wn = wordnet()
    phrase = phrase.strip()
    if re.fullmatch(r"[\w'.-]+\.n\.\d\d", phrase):
        try:
            return [wn.synset(phrase)]
        except HitlbenchError:  # a damaged WordNet copy, named by `wordnet()`'s reader
            raise
        except Exception as exc:  # nltk raises WordNetError or ValueError
            raise HitlbenchError(f"{phrase!r} is not a WordNet 3.0 noun synset") from exc
    for alternative in re.split(r"[/,]", phrase):
        spaced = re.sub(r"\s+", "_", alternative.strip().lower())
        for term in dict.fromkeys([spaced, spaced.replace("-", "_")]):  # "t-shirt", "x_ray"
            found = wn.synsets(term, pos="n") if term else []
            if found:
                return found[:1]
    return []


def synsets_of(phrases: Sequence[str]) -> list:
    """The synsets of synset names and phrases (`class_synsets` says how each resolves)."""
    return [s for phrase in phrases for s in _phrase_synsets(phrase)]


def class_synsets(
    class_names: Sequence[str], given: Mapping[str, Sequence[str]] | None = None
) -> dict[str, list]:
    """{class name: its synsets} (an empty list for a class that resolves to none).

    Raises `HitlbenchError` for a `given` key that is not a class name, or a given synset name
    that WordNet does not have.
    """
    given = dict(given or {})
    unknown = sorted(set(given) - set(class_names))
    if unknown:
        raise HitlbenchError(
            f"synsets given for {unknown}, not among the task's classes ({', '.join(class_names)})"
        )
    shipped = next((m for m in shipped_maps() if set(class_names) <= set(m)), {})
    out = {}
    for name in class_names:
        out[name] = synsets_of(given.get(name) or shipped.get(name) or [name])
    return out


def hypernym_steps(synset, targets: set) -> float:
    """Steps up the hypernym hierarchy from `synset` to the nearest of `targets` (inf: none)."""
    best = float("inf")
    for path in synset.hypernym_paths():  # root first, `synset` last
        for steps, ancestor in enumerate(reversed(path)):
            if ancestor in targets:
                best = min(best, steps)
                break
    return best


def imagenet_synsets() -> list:
    """ImageNet-1k's classes in timm's order, as WordNet 3.0 synsets (their ids are offsets)."""
    from timm.data import ImageNetInfo

    wn = wordnet()
    return [wn.synset_from_pos_and_offset("n", int(i[1:])) for i in ImageNetInfo().label_names()]


def imagenet_matrix(synsets: Mapping[str, Sequence]) -> np.ndarray:
    """float32 [1000, C]: row i spreads ImageNet class i over the target classes (columns, in
    the order of `synsets`) it falls under, the nearest only (ties shared); all zero where it
    falls under none."""
    targets = [set(s) for s in synsets.values()]
    matrix = np.zeros((1000, len(targets)), np.float32)
    for i, synset in enumerate(imagenet_synsets()):
        distances = np.array([hypernym_steps(synset, t) for t in targets])
        if np.isfinite(distances).any():
            nearest = distances == distances.min()
            matrix[i, nearest] = 1.0 / nearest.sum()
    return matrix
