"""Grad-CAM, the one home of saliency maps for feedback losses and metrics (DESIGN §1).

Grad-CAM is Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization"; the feedback loss built on it is RRR-GC (Hagos et al. 2024,
Eq. 2-3: sum_n (M_n * norm(GradCAM_theta(X_n)))^2 added to the classification loss). The
variants here are those of the reference code of the XIL typology (Friedrich et al. 2023, RRR-G:
the signed map of the predicted class, min-max normalised, against the mask downsampled to the
map) and of Hagos et al.'s later code (guided channel weights, ReLU, division by the max).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

NORMALIZATIONS = ("max", "sum", "softmax", "minmax")
WEIGHTS = ("gradcam", "guided")
EPS = 1e-8


@dataclass(frozen=True)
class CamSpec:
    """Which Grad-CAM map: `relu` (clip negative evidence, Selvaraju et al.'s map) or the signed
    map; channel `weights` "gradcam" (spatial mean of dY/dA) or "guided" (the mean of the
    positive gradients at positive activations); `norm`, the per-image normalisation
    (`normalize`). Raises `ValueError` for an unknown weight or normalisation."""

    relu: bool = True
    weights: str = "gradcam"
    norm: str = "max"

    def __post_init__(self):
        if self.weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, got {self.weights!r}")
        if self.norm not in NORMALIZATIONS:
            raise ValueError(f"norm must be one of {', '.join(NORMALIZATIONS)}, got {self.norm!r}")


def gradcam_with_logits(
    model: torch.nn.Module,
    layer: str,
    x: torch.Tensor,
    target: torch.Tensor | None,
    *,
    create_graph: bool = False,
    relu: bool = True,
    weights: str = "gradcam",
    upsample: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Grad-CAM maps [N,H,W] (or [N,h,w]) and the logits [N,C] of one forward pass (Selvaraju 2017).

    `layer` is a dotted submodule path (`model.get_submodule`); its output A [N,K,h,w] is caught
    by a forward hook, which is always removed. `target` (int [N]) names each image's class;
    None takes the predicted one (the argmax of the logits). Channel weights: `weights="gradcam"`
    alpha_k = spatial mean of dY_target/dA_k; `"guided"` the spatial mean of dY/dA_k where both
    the gradient and A_k are positive (0 elsewhere). map = [ReLU](sum_k alpha_k A_k), upsampled
    bilinearly to x's H x W with `align_corners=False` (what captum's
    `LayerAttribution.interpolate` does) unless `upsample=False`. The gradients come from
    `torch.autograd.grad`, so no parameter's `.grad` is touched. The map always depends on the
    parameters through A; with `create_graph=True` it also does through alpha (second order), as
    a training loss such as RRR-GC (Hagos et al. 2024, Eq. 2) needs; with `create_graph=False`
    alpha is a constant. The logits stay attached to the graph, so a training loop can add its
    classification loss without a second forward pass. Samples must be independent in the
    forward pass (eval mode for batch norm), since dY/dA is taken of the sum of the target
    logits. Raises `ValueError` for a layer that does not give one [N,K,h,w] tensor per pass or
    a target of the wrong length, `TypeError` for a layer whose output is not a tensor.
    """
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    module = model.get_submodule(layer)
    caught: list[torch.Tensor] = []

    def hook(_module, _inputs, output):
        if not isinstance(output, torch.Tensor):
            raise TypeError(f"layer {layer!r} must output a tensor, got {type(output).__name__}")
        if not output.requires_grad:  # frozen model: still need dY/dA
            output = output.detach().requires_grad_()
        caught.append(output)
        return output

    handle = module.register_forward_hook(hook)
    try:
        with torch.enable_grad():
            logits = model(x)
            if len(caught) != 1:
                raise ValueError(f"layer {layer!r} ran {len(caught)} times in one forward pass")
            acts = caught[0]
            if acts.dim() != 4:
                raise ValueError(f"layer {layer!r} must output [N,K,h,w], got {tuple(acts.shape)}")
            if target is None:
                target = logits.detach().argmax(dim=1)
            target = torch.as_tensor(target, device=x.device).long().reshape(-1)
            if target.shape[0] != logits.shape[0]:
                raise ValueError(f"need one target per image, got {target.shape[0]}")
            score = logits.gather(1, target[:, None]).sum()
            (grads,) = torch.autograd.grad(
                score, acts, create_graph=create_graph, retain_graph=True
            )
            if weights == "guided":
                grads = F.relu(grads) * (acts > 0)
            alpha = grads.mean(dim=(2, 3), keepdim=True)
            maps = (alpha * acts).sum(dim=1, keepdim=True)
            if relu:
                maps = F.relu(maps)
            if upsample:
                maps = F.interpolate(
                    maps, size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False
                )
    finally:
        handle.remove()
    return maps[:, 0], logits


def gradcam(
    model: torch.nn.Module,
    layer: str,
    x: torch.Tensor,
    target: torch.Tensor | None,
    *,
    create_graph: bool = False,
    relu: bool = True,
    weights: str = "gradcam",
    upsample: bool = True,
) -> torch.Tensor:
    """Grad-CAM maps [N,H,W] of `model` at `layer` for classes `target` (Selvaraju et al. 2017).

    See `gradcam_with_logits`; with `create_graph=True` the maps are differentiable w.r.t. the
    parameters (also through the channel weights), as RRR-GC needs (Hagos et al. 2024, Eq. 2).
    """
    maps, _ = gradcam_with_logits(
        model,
        layer,
        x,
        target,
        create_graph=create_graph,
        relu=relu,
        weights=weights,
        upsample=upsample,
    )
    return maps


def normalize(maps: torch.Tensor, how: str) -> torch.Tensor:
    """Per-image normalisation of maps [N,...]: the `norm` of RRR-GC (Hagos et al. 2024, Eq. 2).

    - "max": divide by the image's maximum + eps (a non-negative map lands in [0, 1]).
    - "sum": divide by the image's sum + eps (a non-negative map sums to 1).
    - "softmax": softmax over the image's flattened pixels (positive, sums to 1).
    - "minmax": (map - min) / (max - min + eps), for signed maps too (lands in [0, 1]).
    An all-zero map stays finite (zeros for "max"/"sum"/"minmax", uniform for "softmax").
    Raises `ValueError` for another `how`.
    """
    if how not in NORMALIZATIONS:
        raise ValueError(f"how must be one of {NORMALIZATIONS}, got {how!r}")
    flat = maps.reshape(maps.shape[0], -1)
    if how == "max":
        out = flat / (flat.amax(dim=1, keepdim=True) + EPS)
    elif how == "sum":
        out = flat / (flat.sum(dim=1, keepdim=True) + EPS)
    elif how == "minmax":
        low = flat.amin(dim=1, keepdim=True)
        out = (flat - low) / (flat.amax(dim=1, keepdim=True) - low + EPS)
    else:
        out = torch.softmax(flat, dim=1)
    return out.reshape(maps.shape)


def mask_like(mask: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """float masks [N,H,W] at the maps' resolution [N,h,w]: each map cell gets the share of its
    area the mask covers (area interpolation); unchanged when the sizes already agree."""
    mask = mask.float()
    if tuple(mask.shape[-2:]) == tuple(maps.shape[-2:]):
        return mask
    return F.interpolate(mask[:, None], size=tuple(maps.shape[-2:]), mode="area")[:, 0]
