"""Right for the right reasons on Grad-CAM, from spurious-region or missing-region masks."""

from __future__ import annotations

import numpy as np

from ..core.explain import CamSpec, mask_like, normalize
from ..types import Want
from .base import Feedback, feedback

REGIONS = ("spurious", "missing")
MISSING_FORMS = ("complement", "inside", "cover")
MASK_AT = ("input", "cam")
TARGETS = ("true", "predicted")
HASH_MULTIPLIER = np.uint64(2654435761)  # Knuth's multiplicative hash: a spread-out item subset


@feedback.register("rrr_gradcam", "rrr")
class RRRGradCAM(Feedback):
    """CE + cam_weight·Σ(M ⊙ norm(GradCAM))² (Hagos et al. 2024, Eq. 1-3; the L2 term of Eq. 3 is
    the classifier's `weight_decay`, the same with or without feedback).

    `region: spurious`: the person marks the region the model wrongly relies on (the decoy), and
    M is that mask. `region: missing`: the person marks the object the model should rely on; the
    paper does not say how that mask enters Eq. 2, so `missing_form` chooses:
    - `complement` penalises the map outside the object (Eq. 2 with M = 1 - object, which holds
      the decoy and so carries more than a spurious-region mask);
    - `inside` rewards the map's share inside the object (HINT-like: 1 minus the share of the
      sum-normalised map inside the object);
    - `cover` penalises the object's pixels the map misses: the mean over the object of
      (1 - norm(map))², with `norm` max or minmax. It says nothing about any pixel outside the
      object, so it carries no more about the decoy than the object mask itself.
    The map: `relu`, `weights` (gradcam or guided) and `norm` (max, sum, softmax, minmax) as in
    `explain.CamSpec`; `target` the true or the predicted class; `mask_at: input` upsamples the
    map to the image, `cam` downsamples the mask to the map (area shares), as the XIL typology's
    RRR-G does. The defaults are RRR-G's at weight 0.1 with `cover`, chosen by
    `benchmarks/xil_sweep.yaml` (`leaderboards/xil_sweep.md`). Only images with a mask contribute. `mask_fraction` < 1 asks for masks on that
    share of the labeled items only (the same items whatever the order), to weigh explanation
    feedback against its annotation budget. Raises `ValueError` for a value outside these sets.
    """

    # 2: Grad-CAM variants (relu, weights, minmax, mask_at, target), `cover`; the L2 term moved
    # to the classifier's weight_decay. 3: defaults from the paper-regime sweep (the XIL
    # typology's RRR-G: signed, min-max, at the map, predicted class, weight 0.1; `cover`)
    version = "3"
    needs_cam = True

    def __init__(
        self,
        region: str = "spurious",
        missing_form: str = "cover",
        norm: str = "minmax",
        cam_weight: float = 0.1,
        relu: bool = False,
        weights: str = "gradcam",
        mask_at: str = "cam",
        target: str = "predicted",
        mask_fraction: float = 1.0,
    ):
        if region not in REGIONS:
            raise ValueError(f"region must be one of {', '.join(REGIONS)}, got {region!r}")
        if missing_form not in MISSING_FORMS:
            raise ValueError(
                f"missing_form must be one of {', '.join(MISSING_FORMS)}, got {missing_form!r}"
            )
        if mask_at not in MASK_AT:
            raise ValueError(f"mask_at must be one of {', '.join(MASK_AT)}, got {mask_at!r}")
        if target not in TARGETS:
            raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {target!r}")
        if region == "missing" and missing_form == "cover" and norm not in ("max", "minmax"):
            raise ValueError(f"missing_form cover needs norm max or minmax, got {norm!r}")
        if cam_weight < 0:
            raise ValueError(f"cam_weight must be >= 0, got {cam_weight}")
        if not 0.0 < mask_fraction <= 1.0:
            raise ValueError(f"mask_fraction must be in (0, 1], got {mask_fraction}")
        self.cam = CamSpec(relu=relu, weights=weights, norm=norm)
        self.region, self.missing_form = region, missing_form
        self.norm, self.relu, self.weights = norm, relu, weights
        self.mask_at, self.target = mask_at, target
        self.cam_weight = cam_weight
        self.mask_fraction = mask_fraction

    @property
    def cam_upsampled(self) -> bool:
        return self.mask_at == "input"

    @property
    def cam_target(self) -> str:
        return self.target

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
        mask = mask_like(extras[self.mask_name], maps)
        has = extras[f"has_{self.mask_name}"].float()
        form = self.missing_form if self.region == "missing" else "spurious"
        if form == "inside":
            per_image = 1.0 - (normalize(maps, "sum") * mask).flatten(1).sum(1)
        elif form == "cover":
            missed = (1.0 - normalize(maps, self.norm)).square() * mask
            per_image = missed.flatten(1).sum(1) / mask.flatten(1).sum(1).clamp(min=1e-6)
        else:
            region = mask if form == "spurious" else 1.0 - mask
            per_image = (region * normalize(maps, self.norm)).square().flatten(1).sum(1)
        return self.cam_weight * (per_image * has).sum() / has.sum().clamp(min=1.0)
