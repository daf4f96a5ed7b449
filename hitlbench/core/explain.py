"""Grad-CAM and input gradients, the one home of saliency maps for feedback losses and metrics
(DESIGN §1).

The input-gradient map is Ross et al. 2017, "Right for the Right Reasons: Training
Differentiable Models by Constraining their Explanations" (RRR): the gradient of the log
probability with respect to the input, the map RRR's penalty is built on. Grad-CAM is
Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based
Localization"; the feedback loss built on it is RRR-GC (Hagos et al. 2024,
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
METHODS = ("gradcam", "input_gradient")
EPS = 1e-8


@dataclass(frozen=True)
class CamSpec:
    """Which saliency map: `method` "gradcam" (Selvaraju et al. 2017) at `layer` (a dotted
    submodule path; None: the classifier's own `cam_layer`), or "input_gradient" (Ross et al.
    2017, `input_gradient`; no layer). For Grad-CAM, `relu` (clip negative evidence, Selvaraju
    et al.'s map) or the signed map, and channel `weights` "gradcam" (spatial mean of dY/dA) or
    "guided" (the mean of the positive gradients at positive activations); `norm`, the
    per-image normalisation (`normalize`). Raises `ValueError` for an unknown method, weight or
    normalisation, and for an input-gradient map given a layer, `relu=False` or other weights
    (they are Grad-CAM's; the input-gradient map is non-negative already)."""

    relu: bool = True
    weights: str = "gradcam"
    norm: str = "max"
    method: str = "gradcam"
    layer: str | None = None

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, got {self.weights!r}")
        if self.norm not in NORMALIZATIONS:
            raise ValueError(f"norm must be one of {', '.join(NORMALIZATIONS)}, got {self.norm!r}")
        if self.layer is not None and (not isinstance(self.layer, str) or not self.layer):
            raise ValueError(f"layer must be a dotted module path or None, got {self.layer!r}")
        if self.method == "input_gradient" and (
            self.layer is not None or not self.relu or self.weights != "gradcam"
        ):
            raise ValueError(
                "layer, relu and weights are Grad-CAM's: input_gradient takes layer None, "
                f"relu true and weights gradcam, got layer {self.layer!r}, relu {self.relu!r}, "
                f"weights {self.weights!r}"
            )


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
                maps = upsample_maps(maps, tuple(x.shape[-2:]))
    finally:
        handle.remove()
    return maps[:, 0], logits


def upsample_maps(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """float [N, 1, H, W]: maps [N, 1, h, w] upsampled bilinearly to `size` (H, W) with
    `align_corners=False`, as captum's `LayerAttribution.interpolate` does; the one way
    hitlbench brings a layer's map to the input's size."""
    return F.interpolate(maps, size=size, mode="bilinear", align_corners=False)


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


def input_gradient(
    model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | None
) -> torch.Tensor:
    """Input-gradient maps, float32 [N,H,W] >= 0, of `model` for classes `target` (Ross et al.
    2017, RRR: the gradient of the log probability, the map their penalty constrains).

    map = sum over channels of |d log softmax(model(x))_target / dx|, in log-probability per
    unit of `x` (the network's input, as the model sees it), at x's own H x W. `target` (int
    [N]) names each image's class; None takes the predicted one (the argmax of the logits). The
    gradient comes from `torch.autograd.grad` of the sum of the images' log probabilities, so
    no parameter's `.grad` is touched and samples must be independent in the forward pass (eval
    mode for batch norm); it works under `torch.no_grad` and with frozen weights. Raises
    `ValueError` for a target of the wrong length or an x that is not [N,C,H,W].
    """
    if x.dim() != 4:
        raise ValueError(f"x must be [N,C,H,W], got {tuple(x.shape)}")
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        log_proba = torch.log_softmax(model(x), dim=1)
        if target is None:
            target = log_proba.detach().argmax(dim=1)
        target = torch.as_tensor(target, device=x.device).long().reshape(-1)
        if target.shape[0] != log_proba.shape[0]:
            raise ValueError(f"need one target per image, got {target.shape[0]}")
        (grads,) = torch.autograd.grad(log_proba.gather(1, target[:, None]).sum(), x)
    return grads.abs().sum(dim=1).float()


def saliency(
    model: torch.nn.Module,
    x: torch.Tensor,
    target: torch.Tensor | None,
    cam: CamSpec,
    *,
    cam_layer: str,
) -> torch.Tensor:
    """The map `cam` names, [N,H,W] at x's resolution, detached from the graph: Grad-CAM
    (`gradcam`, Selvaraju et al. 2017) at `cam.layer`, or at `cam_layer` (the classifier's
    own) when that is None, with `cam`'s `relu` and `weights`; or the input gradient
    (`input_gradient`, Ross et al. 2017). Not normalised (`cam.norm` is the scorer's). Raises
    what `gradcam` and `input_gradient` raise (a layer `model` lacks: `AttributeError`)."""
    if cam.method == "input_gradient":
        return input_gradient(model, x, target).detach()
    layer = cam.layer or cam_layer
    return gradcam(model, layer, x, target, relu=cam.relu, weights=cam.weights).detach()


def map_layers(model: torch.nn.Module, x: torch.Tensor) -> list[str]:
    """The dotted paths of `model`'s submodules whose output is one [N,K,h,w] tensor on input
    `x` (one image is enough), in the order they run: the layers Grad-CAM can explain."""
    found: list[str] = []
    hooks = [
        module.register_forward_hook(
            lambda _m, _i, out, name=name: (
                found.append(name) if isinstance(out, torch.Tensor) and out.dim() == 4 else None
            )
        )
        for name, module in model.named_modules()
        if name
    ]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return list(dict.fromkeys(found))


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
