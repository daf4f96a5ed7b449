"""Text-to-image expansion: the first batch from the concept's phrases (Stretcu et al. 2023,
Agile Modeling, §3.2; 100 neighbours per phrase and a batch of 100 in §4.2).

Each query (a phrase of the concept, a negative phrase, a seed image) retrieves its nearest
items in a cached embedding space; the batch is a random sample of the union of those
neighbours. A phrase is placed in that space by the embedder's text side: CLIP's text tower for
`open_clip`; for the offline `timm` ImageNet network, its own classifier head on the cached
features (they are exactly that head's input), an item scoring the summed probability of the
ImageNet classes under the phrase's WordNet synsets (`hitlbench.zero_shot.class_map`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from ..core.component import nested_component
from ..core.pretrained import create_timm
from ..embeddings import dataset_embeddings, embedders
from ..embeddings.open_clip_embedder import OpenCLIPEmbedder
from ..embeddings.timm_embedder import TimmEmbedder
from ..types import HitlbenchError
from ..zero_shot.class_map import imagenet_matrix, synsets_of
from .base import Sampler, lexsort_top_k, samplers

CHUNK = 8192  # embedding rows scored at a time


def _chunked(features: np.ndarray, score: Callable[[torch.Tensor], torch.Tensor]) -> np.ndarray:
    """float32 [N, Q]: `score` (float32 [B, D] -> [B, Q]) on `features` ([N, D], any float
    dtype), CHUNK rows at a time, on the CPU."""
    parts = []
    with torch.inference_mode():
        for start in range(0, len(features), CHUNK):
            rows = torch.from_numpy(np.asarray(features[start : start + CHUNK], np.float32))
            parts.append(score(rows).float().numpy())
    return np.concatenate(parts)


def imagenet_columns(phrases: Sequence[str]) -> np.ndarray:
    """float32 [1000, Q], 0 or 1: column q marks the ImageNet classes under phrase q's WordNet
    synsets (`synsets_of`, `imagenet_matrix`), each phrase on its own so that overlapping
    phrases ("shoe", "sandal") both keep the classes they share; all zero where none falls."""
    return np.concatenate([imagenet_matrix({p: synsets_of([p])}) for p in phrases], axis=1)


def imagenet_scores(features: np.ndarray, head: torch.nn.Module, columns: np.ndarray) -> np.ndarray:
    """float32 [N, Q]: each item's ImageNet probability mass under each column of `columns`
    ([1000, Q]), the probabilities being softmax(`head`(`features`)) for `features` [N, D] the
    pooled pre-logits features `head` (D -> 1000 logits) was trained on."""
    mass = torch.from_numpy(np.asarray(columns, np.float32))
    return _chunked(features, lambda rows: torch.softmax(head(rows), dim=1) @ mass)


def cosine_scores(features: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """float32 [N, Q]: the cosine similarity of each row of `features` [N, D] with each row of
    `queries` [Q, D]."""
    unit = F.normalize(torch.from_numpy(np.asarray(queries, np.float32)), dim=1)
    return _chunked(features, lambda rows: F.normalize(rows, dim=1) @ unit.T)


def clip_text(embedder: OpenCLIPEmbedder, phrases: Sequence[str]) -> np.ndarray:
    """float32 [Q, D]: the L2-normalised text-tower embeddings of `phrases`, each encoded as
    given (no prompt template), by the bound `embedder`'s CLIP model."""
    import open_clip

    tokens = open_clip.get_tokenizer(embedder.model)(list(phrases))
    with torch.inference_mode():
        text = embedder.net.encode_text(tokens.to(next(embedder.net.parameters()).device))
    return F.normalize(text.float(), dim=-1).cpu().numpy()


def _quoted(phrases: Sequence[str]) -> str:
    return ", ".join(repr(p) for p in phrases)


@samplers.register("expansion", "text_expansion")
class Expansion(Sampler):
    """A random sample of the nearest neighbours of the concept's phrases (Stretcu et al. 2023).

    Agile Modeling's first batch (§3.2): the paper co-embeds the images and the person's phrases, retrieves the 100 images nearest
    each phrase (`neighbours`) and rates a random 100 of all those neighbours; the negative
    phrases retrieve too, to find "negative examples that could be easily confused by raters"
    (§3.1; `negative_phrases`), and the concept's name joins its phrases (Appendix A). Here the
    space is the dataset's cached embeddings (`embedder`, default the offline EfficientNet-Lite0
    at 128 px; `hitlbench.embeddings`), and a phrase is scored against every item by the
    embedder's text side:

    - `open_clip`: the cosine of the phrase's text-tower embedding (the phrase as given) with
      the item's image embedding;
    - `timm` with pretrained ImageNet weights (offline: WordNet and EfficientNet-Lite0): the
      summed probability, under the network's own ImageNet head applied to the cached
      features, of the ImageNet classes under the phrase's WordNet synsets
      (`hitlbench.zero_shot.class_map`; "shoe" -> loafer, running shoe, sandal). A phrase
      under which no ImageNet class falls ("sneaker", "jacket") retrieves nothing and is
      named in the line `prepare` returns.

    `seed_items` (dataset indices of a few example images) retrieve their nearest items by the
    cosine of embeddings, with any embedder, and let it run on a task without a concept.

    `select(pool, k)` returns k distinct pool positions (int64 [k]): among the items still in
    the pool, the `neighbours` highest-scoring for each query (ties to the lower pool
    position), their union, k of it drawn at random with the loop's generator; when the union
    holds fewer than k, all of it plus random other pool items. A later call (as the only
    sampler of a run) takes the next-nearest still in the pool. As a model-based sampler's
    first batch: `--sampler margin --set sampler.cold_start=expansion` (default parameters).
    It needs a concept task (`--set dataset.concept=footwear`) unless given `seed_items`.

    `prepare` binds the embedder on the CPU (random weights, where asked for, from seed 0),
    reads or computes the embeddings, and scores every item: float32 [N, Q] for N items and Q
    queries, kept in memory. It raises `HitlbenchError` for a task without a concept and no
    `seed_items`, seed items outside the dataset, a concept whose phrases need a text side the
    embedder lacks (timm without pretrained weights or without a 1000-class head; another
    embedder), and a concept none of whose phrases has an ImageNet class, naming each phrase,
    unless seed items retrieve instead; `select` before `prepare` raises it too.
    """

    nested: ClassVar[dict[str, tuple[str, str]]] = {"embedder": ("embedder", "timm")}

    def __init__(
        self,
        embedder: str | dict[str, Any] | None = None,
        neighbours: int = 100,
        seed_items: list[int] | None = None,
        negative_phrases: bool = True,
    ):
        if neighbours < 1:
            raise ValueError(f"neighbours must be >= 1, got {neighbours}")
        if seed_items is not None and (not seed_items or min(seed_items) < 0):
            raise ValueError(f"seed_items must be dataset indices >= 0, got {seed_items}")
        self.embedder = embedder
        self.neighbours = neighbours
        self.seed_items = seed_items
        self.negative_phrases = negative_phrases
        self.inner = nested_component(embedders, embedder, "timm")
        self.query_scores: np.ndarray | None = None  # float32 [N, Q] once prepared

    def _phrases(self, concept: Any) -> tuple[list[str], list[str]]:
        """(positive phrases: the concept's and its name, once each; negative phrases)."""
        positive: list[str] = []
        for phrase in [*concept.phrases, concept.name.replace("_", " ")]:
            if phrase.strip().lower() not in {p.lower() for p in positive}:
                positive.append(phrase.strip())
        return positive, list(concept.negative_phrases) if self.negative_phrases else []

    def _imagenet_head(self) -> torch.nn.Module:
        """The timm embedder's network's ImageNet classifier, refused where it has none."""
        arch = self.inner.arch
        if not self.inner.pretrained:
            raise HitlbenchError(
                f"sampler 'expansion': scoring phrases with the timm embedder needs its ImageNet "
                f"head, but {arch!r} is set to random weights; set pretrained: true, use the "
                "open_clip embedder, or give seed_items on a task without a concept"
            )
        head = create_timm(arch, pretrained=True).get_classifier()
        if getattr(head, "out_features", None) != 1000 or head.in_features != self.inner.dim:
            raise HitlbenchError(
                f"sampler 'expansion': {arch!r} has no 1000-class ImageNet head on its "
                f"{self.inner.dim}-d pooled features; use efficientnet_lite0 or open_clip"
            )
        return head.eval()

    def _text_side(self, positive: list[str], negative: list[str]) -> tuple[Callable, str]:
        """(features [N, D] -> float32 [N, Q] scores of the Q phrases that retrieve, a line on
        what was scored how); a phrase without an ImageNet class does not retrieve."""
        phrases = positive + negative
        counts = f"{len(positive)} phrases and {len(negative)} negative phrases"
        if isinstance(self.inner, OpenCLIPEmbedder):
            text = clip_text(self.inner, phrases)
            return (lambda x: cosine_scores(x, text)), f"{counts} by CLIP's text tower"
        if not isinstance(self.inner, TimmEmbedder):
            raise HitlbenchError(
                f"sampler 'expansion': the embedder {self.inner.registered_name!r} has no text "
                "side for the concept's phrases; use timm (pretrained) or open_clip"
            )
        columns = imagenet_columns(phrases)
        found = columns.any(axis=0)
        if not found[: len(positive)].any() and not self.seed_items:
            detail = "; ".join(
                f"{p!r} ({', '.join(s.name() for s in synsets_of([p])) or 'no WordNet noun'})"
                for p in positive
            )
            raise HitlbenchError(
                f"sampler 'expansion': no ImageNet class falls under any of the concept's "
                f"phrases: {detail}; give the concept phrases ImageNet covers (a WordNet synset "
                "name such as shoe.n.01 works too), use the open_clip embedder, or give "
                "seed_items"
            )
        head = self._imagenet_head()
        positives, negatives = int(found[: len(positive)].sum()), int(found[len(positive) :].sum())
        note = (
            f"{positives} of {len(positive)} phrases and {negatives} of {len(negative)} negative "
            f"phrases by ImageNet/WordNet ({self.inner.arch}'s head)"
        )
        missing = [p for p, ok in zip(phrases, found, strict=True) if not ok]
        if missing:
            note += f", none under {_quoted(missing)}"
        return (lambda x: imagenet_scores(x, head, columns[:, found])), note

    def prepare(self, data, *, progress):
        concept = data.concept
        if concept is None and not self.seed_items:
            raise HitlbenchError(
                "sampler 'expansion' needs a concept task for its phrases (--set "
                "dataset.concept=NAME) or seed_items (dataset indices of a few example images); "
                f"this task's classes are {', '.join(data.class_names)}"
            )
        outside = [i for i in self.seed_items or [] if i >= len(data)]
        if outside:
            raise HitlbenchError(
                f"sampler 'expansion': seed_items {outside} are not dataset indices "
                f"(0..{len(data) - 1})"
            )
        self.inner.bind(device="cpu", seed=0)
        described, score_text = [], None
        if concept is not None:  # refused here, before any embedding pass, where it cannot run
            positive, negative = self._phrases(concept)
            score_text, note = self._text_side(positive, negative)
            described.append(note)
        if self.seed_items:
            described.append(f"{len(self.seed_items)} seed items by cosine")
        features, hit = dataset_embeddings(data, self.inner, progress=progress)
        parts = [score_text(features)] if score_text is not None else []
        if self.seed_items:
            seeds = np.asarray(features[np.asarray(self.seed_items, np.int64)], np.float32)
            parts.append(cosine_scores(features, seeds))
        self.query_scores = np.concatenate(parts, axis=1)
        cached = "cache hit" if hit else "computed and cached"
        return f"sampler expansion: {'; '.join(described)}; embeddings: {cached}"

    def select(self, pool, k, *, model, rng):
        if self.query_scores is None:
            raise HitlbenchError("sampler 'expansion': prepare(data) must run before select")
        scores = self.query_scores[np.asarray(pool.indices, np.int64)]  # [P, Q]
        # each query's first `neighbours` of a stable sort, without sorting the pool
        union = np.unique(
            np.concatenate([lexsort_top_k((-column,), self.neighbours) for column in scores.T])
        )
        if len(union) >= k:
            return rng.choice(union, size=k, replace=False)
        rest = np.setdiff1d(np.arange(len(pool)), union)
        return np.concatenate([union, rng.choice(rest, size=k - len(union), replace=False)])
