"""Feedback: what the person tells the model beyond labels, and the loss that uses it."""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import torch

from ..core.component import Component
from ..core.explain import CamSpec
from ..core.registry import Registry
from ..types import Want


class Feedback(Component, ABC):
    """Asks the oracle for extra annotations and turns them into a training loss term."""

    needs_cam: ClassVar[bool] = False  # True: the classifier must name a Grad-CAM layer
    # With `needs_cam`: which map the classifier computes for `loss` (`explain.gradcam`) ...
    cam: CamSpec = CamSpec()
    # ... of which class ("true" or "predicted") ...
    cam_target: str = "true"
    # ... upsampled to the crop (True) or at the layer's own resolution (False).
    cam_upsampled: bool = True

    def requires(self) -> frozenset[Want]:
        """Every annotation this feedback may ask the person for in a run (checked against what
        the dataset and the oracle offer before any data is loaded)."""
        return frozenset()

    def wants(self, round: int, items: np.ndarray) -> frozenset[Want]:
        """Extra annotations needed for this batch (labels are always given); within `requires()`."""
        return frozenset()

    def mask_items(self, round: int, items: np.ndarray) -> np.ndarray:
        """[len(items)] bool: which of the batch's items the person marks, when masks are wanted."""
        return np.ones(len(items), bool)

    def loss(
        self,
        model: torch.nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        logits: torch.Tensor,
        extras: Mapping[str, torch.Tensor],
        *,
        maps: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        """A term added to the cross-entropy for a minibatch, or None for none.

        `extras`: the person's masks by name ([B, H, W] bool) and `has_<name>` ([B] bool: which
        images have one); `maps`: the differentiable Grad-CAM of `cam_target`'s class, given when
        `needs_cam`: [B, H, W], or [B, h, w] at the layer's resolution unless `cam_upsampled`.
        """
        return None


feedback: Registry[Feedback] = Registry("feedback", Feedback, group="hitlbench.feedback")
