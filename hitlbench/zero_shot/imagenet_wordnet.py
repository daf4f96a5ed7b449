"""Zero-shot labels from an ImageNet classifier, its 1,000 classes mapped onto the task's class
names through WordNet, fully offline."""

from __future__ import annotations

import json
from typing import Literal

import numpy as np
import torch

from ..core.pretrained import create_timm, network_input
from ..types import HitlbenchError
from .base import Answers, Labeler, labelers
from .class_map import class_synsets, imagenet_matrix, synsets_of

ARCHS = Literal["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]


@labelers.register("imagenet_wordnet", "imagenet")
class ImageNetWordNet(Labeler):
    """A pretrained ImageNet classifier (EfficientNet-Lite0 from its PyPI package, offline)
    labels an image; a task class's score is the summed probability of the ImageNet classes
    under its WordNet synsets (`hitlbench.zero_shot.class_map`), renormalised over the task's
    classes. ImageNet class ids are WordNet 3.0 noun offsets; WordNet comes from Debian's
    `wordnet-base` and `wordnet-sense-index`, read with nltk.

    `synsets` ({class name: [synset names or phrases]}) overrides how a class resolves;
    Fashion-MNIST's classes have a shipped map. A class under which no ImageNet class falls is
    refused before any image is decoded. Images are resized to `input_px` squares (bilinear,
    anti-aliased), grey repeated to RGB, `invert`ed first if asked (Fashion-MNIST is light on
    dark, photos mostly the reverse), and normalised as the weights expect. With `min_mass` > 0
    an image whose mapped probability (the ImageNet mass under all the task's classes) is below
    it gets no answer: it is none of the classes, as far as the model can tell. The fine label is
    the most probable ImageNet class under the chosen class, e.g. "tabby (cat)".
    """

    def __init__(
        self,
        arch: ARCHS = "efficientnet_lite0",
        input_px: int = 224,
        invert: bool = False,
        synsets: dict[str, list[str]] | None = None,
        min_mass: float = 0.0,
        batch_size: int = 64,
    ):
        if not 32 <= input_px <= 1024:
            raise ValueError(f"input_px must be between 32 and 1024, got {input_px}")
        if not 0.0 <= min_mass < 1.0:
            raise ValueError(f"min_mass must be in [0, 1), got {min_mass}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.arch = arch
        self.input_px = input_px
        self.invert = invert
        self.synsets = synsets
        self.min_mass = min_mass
        self.batch_size = batch_size

    def _resolved(self, class_names, concept) -> dict[str, list]:
        """Each class's synsets; on a concept task, the concept's positive classes' and phrases'
        for class 1, the other classes' and the negative phrases' for class 0."""
        if concept is None:
            return class_synsets(class_names, self.synsets)
        per_class = class_synsets(concept.positives + concept.others, self.synsets)
        positive = [s for c in concept.positives for s in per_class[c]]
        negative = [s for c in concept.others for s in per_class[c]]
        return {
            class_names[0]: negative + synsets_of(concept.negative_phrases),
            class_names[1]: positive + synsets_of(concept.phrases),
        }

    def _matrix(self, class_names, concept=None) -> np.ndarray:
        """[1000, C] (`imagenet_matrix`), refusing classes no ImageNet class falls under."""
        resolved = self._resolved(class_names, concept)
        matrix = imagenet_matrix(resolved)
        empty = [
            name for name, column in zip(class_names, matrix.T, strict=True) if not column.any()
        ]
        if empty:
            detail = "; ".join(
                f"{name!r} ({', '.join(s.name() for s in resolved[name]) or 'no WordNet noun'})"
                for name in empty
            )
            example = json.dumps({empty[0]: ["<a WordNet synset or phrase>"]})
            raise HitlbenchError(
                f"labeler 'imagenet_wordnet': no ImageNet class falls under {detail}; give each "
                f"class WordNet synsets or phrases that ImageNet covers, e.g. --set "
                f"'classifier.backend.synsets={example}', or use another backend "
                "(open_clip, openai, simulated)"
            )
        return matrix

    def check_classes(self, class_names, *, concept=None):
        self._matrix(class_names, concept)

    def bind(self, task, *, device, seed):
        from timm.data import ImageNetInfo, resolve_data_config

        self.matrix = torch.from_numpy(self._matrix(task.class_names, task.concept))
        self.class_names = task.class_names
        self.device = device
        self.net = create_timm(self.arch, pretrained=True).eval().to(device)
        config = resolve_data_config({}, model=self.net)
        self.mean = torch.tensor(config["mean"])
        self.std = torch.tensor(config["std"])
        info = ImageNetInfo()
        self.imagenet_names = [info.index_to_description(i).split(",")[0] for i in range(1000)]

    def _inputs(self, images: np.ndarray) -> torch.Tensor:
        return network_input(
            images, size=self.input_px, mean=self.mean, std=self.std, invert=self.invert,
            antialias=True, device=self.device,
        )  # fmt: skip

    def imagenet_proba(self, images: np.ndarray) -> np.ndarray:
        """float32 [N, 1000]: the ImageNet model's probabilities for `images`."""
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                logits = self.net(self._inputs(images[start : start + self.batch_size]))
                out.append(torch.softmax(logits.float(), dim=1).cpu())
        return torch.cat(out).numpy() if out else np.zeros((0, 1000), np.float32)

    def answer(self, images, items):
        imagenet = self.imagenet_proba(images)
        matrix = self.matrix.numpy()
        mass = imagenet @ matrix
        total = mass.sum(axis=1, keepdims=True)
        answered = total[:, 0] >= max(self.min_mass, 1e-12)
        proba = np.where(answered[:, None], mass / np.maximum(total, 1e-12), 0.0)
        fine = []
        for row, ok in zip(range(len(images)), answered, strict=True):
            if not ok:
                fine.append(None)
                continue
            k = int(proba[row].argmax())
            top = int(np.argmax(imagenet[row] * (matrix[:, k] > 0)))
            fine.append(f"{self.imagenet_names[top]} ({self.class_names[k]})")
        return Answers(proba=proba.astype(np.float32), fine=tuple(fine))
