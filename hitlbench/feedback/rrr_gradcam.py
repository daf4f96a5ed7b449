"""Right for the right reasons on Grad-CAM, from spurious-region or missing-region masks."""

from __future__ import annotations

import numpy as np

from ..explain import normalize
from ..types import Want
from .base import Feedback, feedback

REGIONS = ("spurious", "missing")
MISSING_FORMS = ("complement", "inside")
HASH_MULTIPLIER = np.uint64(2654435761)  # Knuth's multiplicative hash: a spread-out item subset


@feedback.register("rrr_gradcam", "rrr")
class RRRGradCAM(Feedback):
    """CE + cam_weight·Σ(M ⊙ norm(GradCAM))² + weight_decay·Σθ² (Hagos et al. 2024, Eq. 1-3).

    `region: spurious`: the person marks the region the model wrongly relies on (the decoy), and
    M is that mask. `region: missing`: the person marks the object the model should rely on; the
    paper does not say how that mask enters Eq. 2, so `missing_form` chooses: `complement`
    penalises the map outside the object (a superset of the spurious region), `inside` rewards
    the map's share inside the object (HINT-like: the loss is 1 minus that share). `norm` is the
    per-image normalisation the paper leaves undefined: `max`, `sum` or `softmax`. The Grad-CAM
    is of the true class; only images with a mask contribute. `mask_fraction` < 1 asks for
    masks on that share of the labeled items only (the same items whatever the order), to weigh
    explanation feedback against its annotation budget.
    """

    needs_cam = True

    def __init__(
        self,
        region: str = "spurious",
        missing_form: str = "complement",
        norm: str = "sum",
        cam_weight: float = 10.0,
        weight_decay: float = 0.0,
        mask_fraction: float = 1.0,
    ):
        if region not in REGIONS:
            raise ValueError(f"region must be one of {', '.join(REGIONS)}, got {region!r}")
        if missing_form not in MISSING_FORMS:
            raise ValueError(
                f"missing_form must be one of {', '.join(MISSING_FORMS)}, got {missing_form!r}"
            )
        if norm not in ("max", "sum", "softmax"):
            raise ValueError(f"norm must be max, sum or softmax, got {norm!r}")
        if cam_weight < 0 or weight_decay < 0:
            raise ValueError("cam_weight and weight_decay must be >= 0")
        if not 0.0 < mask_fraction <= 1.0:
            raise ValueError(f"mask_fraction must be in (0, 1], got {mask_fraction}")
        self.region = region
        self.missing_form = missing_form
        self.norm = norm
        self.cam_weight = cam_weight
        self.weight_decay = weight_decay
        self.mask_fraction = mask_fraction

    @property
    def mask_name(self) -> str:
        return "spurious" if self.region == "spurious" else "object"

    def requires(self):
        return frozenset({Want.MASK_SPURIOUS if self.region == "spurious" else Want.MASK_OBJECT})

    def wants(self, round, items):
        return self.requires()

    def mask_items(self, round, items):
        if self.mask_fraction >= 1.0:
            return np.ones(len(items), bool)
        hashed = (np.asarray(items, np.uint64) * HASH_MULTIPLIER) % np.uint64(2**32)
        return hashed < np.uint64(self.mask_fraction * 2**32)

    def loss(self, model, x, y, logits, extras, *, maps=None):
        if maps is None:
            raise ValueError("rrr_gradcam needs the Grad-CAM maps of the batch")
        mask = extras[self.mask_name].float()
        has = extras[f"has_{self.mask_name}"].float()
        if self.region == "missing" and self.missing_form == "inside":
            per_image = 1.0 - (normalize(maps, "sum") * mask).flatten(1).sum(1)
        else:
            region = mask if self.region == "spurious" else 1.0 - mask
            per_image = (region * normalize(maps, self.norm)).square().flatten(1).sum(1)
        term = self.cam_weight * (per_image * has).sum() / has.sum().clamp(min=1.0)
        if self.weight_decay:
            term = term + self.weight_decay * sum(p.square().sum() for p in model.parameters())
        return term
