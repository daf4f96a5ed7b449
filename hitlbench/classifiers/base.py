"""Classifiers propose labels for crops and are retrained on everything labeled so far."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..core.component import Component
from ..core.explain import CamSpec
from ..core.registry import Registry
from ..types import NO_ANSWER, FitReport, HitlbenchError, LabeledView, TaskInfo
from .contract import adapt_to_contract, refuse_old_explain

if TYPE_CHECKING:
    from ..data.base import ImageData

if TYPE_CHECKING:
    from ..feedback.base import Feedback


class Classifier(Component, ABC):
    """Maps crops [N, C, H, W] (float32 in [0, 1]) to class probabilities [N, n_classes]."""

    cam_layer: ClassVar[str | None] = None  # module path for Grad-CAM, if supported
    # The parameters that decide whether training converges; a run that diverges names them.
    tuning: ClassVar[tuple[str, ...]] = ()
    # True: it answers from features of whole images (cached embeddings), so a detector that
    # crops would be ignored (such a combination is refused), and a sampler scoring the pool
    # passes `images=None` rather than cropping every item.
    whole_images_only: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Set `contract`: 1 for a class whose predict_proba takes no `items`, wrapped so that
        callers may pass it (`classifiers.contract`)."""
        super().__init_subclass__(**kwargs)
        cls.contract = adapt_to_contract(cls)

    @classmethod
    def check_contract(cls) -> None:
        """Refuse (`TypeError`) an `explain` written to contract 1; the registry calls this
        when it registers or loads the class."""
        refuse_old_explain(cls)

    def check_classes(  # noqa: B027 - optional hook
        self, class_names: tuple[str, ...], *, concept: Any = None
    ) -> None:
        """Refuse (`HitlbenchError`) class names it cannot work with (with the task's `Concept`
        on a concept task); called before any image is decoded where the dataset declares its
        classes (a zero-shot labeler's class map)."""

    @abstractmethod
    def bind(self, task: TaskInfo, *, device: str, seed: int) -> None:
        """Called once before the loop: build the model; `seed` fixes its initial weights."""

    @abstractmethod
    def fit(self, train: LabeledView, *, feedback: Feedback, rng: np.random.Generator) -> FitReport:
        """Train on all labeled items (from the initial weights unless warm-starting)."""

    @abstractmethod
    def predict_proba(self, images: np.ndarray, *, items: np.ndarray) -> np.ndarray:
        """float32 [N, n_classes] for `images` (float32 [N, C, H, W] in [0, 1]; None for a
        `whole_images_only` classifier) whose dataset indices are `items` (int64 [N]): rows summing to 1, or all zero for an item it cannot
        answer (a zero-shot labeler's unparseable reply); never NaN."""

    @property
    @abstractmethod
    def ready(self) -> bool:
        """Whether the classifier can propose labels now (after a fit, or zero-shot from the start)."""

    def predict(self, images: np.ndarray, *, items: np.ndarray) -> np.ndarray:
        """int64 [N]: the most probable class, or `NO_ANSWER` (-1) where the row is all zero."""
        return answered_argmax(self.predict_proba(images, items=items))

    def capabilities(self) -> frozenset[str]:
        """What it offers samplers beyond probabilities, once bound: "features" (`features`)
        and "sample_proba" (`sample_proba`); a sampler that needs one refuses a classifier
        without it before the run starts (`Sampler.check_classifier`)."""
        return frozenset()

    def features(self, images: np.ndarray, *, items: np.ndarray) -> np.ndarray:
        """float32 [N, D]: the representation its last layer reads, for `images` (as in
        `predict_proba`) with dataset indices `items`; only where `capabilities()` has
        "features" (HitlbenchError otherwise)."""
        raise HitlbenchError(f"classifier {self.registered_name!r} offers no features")

    def sample_proba(
        self, images: np.ndarray, n: int, *, items: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """float32 [n, N, n_classes]: `n` stochastic forward passes (Monte Carlo dropout; Gal
        et al. 2017), their masks drawn from `rng`; only where `capabilities()` has
        "sample_proba" (HitlbenchError otherwise)."""
        raise HitlbenchError(f"classifier {self.registered_name!r} offers no sample_proba")

    def prepare(self, data: ImageData, *, progress: bool) -> str | None:
        """Called once before the loop with the whole collection, for a classifier that
        precomputes per-item features (`embedding_mlp`: the embedding cache) or keeps per-item
        truth it reads only for the items it is trained on (`reference_map`'s mean object
        mask); returns a line for the user (e.g. "embeddings: cache hit") or None."""
        return None

    def reveal(self, labels: np.ndarray) -> None:  # noqa: B027 - optional hook
        """The true labels by dataset index (int64), given before the loop; only a simulated
        labeler (the `zero_shot` classifier's `simulated` backend) looks at them."""

    def explain(
        self,
        images: np.ndarray,
        *,
        target: np.ndarray | None = None,
        cam: CamSpec | None = None,
        masks: Mapping[str, np.ndarray] | None = None,
    ) -> np.ndarray | None:
        """Saliency maps float32 [N, H, W] of `images` (float32 [N, C, H, W] in [0, 1]), not
        normalised, or None without a `cam_layer`: the map `cam` names (`explain.saliency`;
        default `CamSpec()`, Grad-CAM at `cam_layer`) of the class `target` (int64 [N]), or of
        the predicted class when `target` is None. `masks` (the true masks by name, bool
        [N, H, W]) are read only by a reference explainer that draws a fixed map
        (`reference_map`)."""
        return None

    def check_cam(self, cam: CamSpec) -> None:  # noqa: B027 - optional hook
        """Refuse (`HitlbenchError`, naming the valid choices) a map `explain` cannot draw, such
        as a Grad-CAM layer the network lacks; called once after `bind`, before training."""


def answered_argmax(proba: np.ndarray) -> np.ndarray:
    """int64 [N]: each row's most probable class, `NO_ANSWER` for an all-zero row."""
    proba = np.asarray(proba)
    return np.where(proba.any(axis=1), proba.argmax(axis=1), NO_ANSWER).astype(np.int64)


classifiers: Registry[Classifier] = Registry(
    "classifier", Classifier, group="hitlbench.classifiers"
)
