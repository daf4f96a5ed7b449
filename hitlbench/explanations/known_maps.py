"""Saliency maps of known quality: an object mask degraded by a known amount, input-independent
priors, and the loss of detail a Grad-CAM layer's grid imposes (`at_resolution`).

Every map is float32 [N, H, W] and non-negative; every mask is bool [N, H, W]. The degradations
use scipy.ndimage (shift, binary dilation and erosion, Gaussian filter), each image on its own
(the structuring elements and filters never reach across the batch axis).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from ..classifiers.reference_map import central_square
from ..core.explain import upsample_maps

# 4-connected 3x3 cross on the image axes only: one iteration moves a border by one pixel
CROSS = np.zeros((3, 3, 3), bool)
CROSS[1] = ndimage.generate_binary_structure(2, 1)


@dataclass(frozen=True)
class KnownMap:
    """One map per image with its true quality: `maps` float32 [N, H, W] (non-negative),
    `iou` float64 [N] with the object mask (`true_iou`), named by `family` (a degradation, or
    "prior", "object", "decoy") and `level` (the degradation's amount in its own unit: pixels,
    or sigma in pixels for "blur"; 0 for maps that are not degraded)."""

    name: str
    family: str
    level: float
    maps: np.ndarray
    iou: np.ndarray


def _check_masks(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 3 or mask.dtype != bool:
        raise ValueError(f"masks must be bool [N, H, W], got {mask.dtype} {mask.shape}")
    return mask


def half_max_region(maps: np.ndarray) -> np.ndarray:
    """bool [N, H, W]: where each map is >= 0.5 of its own maximum; empty for a map whose
    maximum is <= 0. The region a soft map is judged by in `true_iou`."""
    maps = np.asarray(maps, np.float64)
    peak = maps.reshape(len(maps), -1).max(axis=1, initial=0.0)[:, None, None]
    return (maps >= 0.5 * peak) & (peak > 0)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float64 [N]: intersection over union of bool masks a, b [N, H, W], 0 where both are
    empty. Raises `ValueError` for shapes that differ."""
    if np.shape(a) != np.shape(b):
        raise ValueError(f"masks of different shapes: {np.shape(a)} and {np.shape(b)}")
    n = len(a)
    inter = (a & b).reshape(n, -1).sum(axis=1)
    union = (a | b).reshape(n, -1).sum(axis=1)
    return np.divide(inter, union, out=np.zeros(n), where=union > 0)


def true_iou(maps: np.ndarray, obj: np.ndarray) -> np.ndarray:
    """float64 [N]: IoU of each map's region >= 0.5 of its maximum (`half_max_region`) with
    the object mask; for a binary map, its IoU as it is."""
    return iou(half_max_region(maps), _check_masks(obj))


def shifted(mask: np.ndarray, k: int) -> np.ndarray:
    """bool [N, H, W]: each mask moved k pixels to the right (columns), what leaves the image
    is lost and zeros come in (`scipy.ndimage.shift`, order 0)."""
    mask = _check_masks(mask)
    moved = ndimage.shift(mask.astype(np.uint8), (0, 0, k), order=0, mode="constant", cval=0)
    return moved.astype(bool)


def dilated(mask: np.ndarray, k: int) -> np.ndarray:
    """bool [N, H, W]: each mask grown by k pixels (k binary dilations with a 4-connected
    cross); k = 0 gives a copy."""
    mask = _check_masks(mask)
    return ndimage.binary_dilation(mask, CROSS, iterations=int(k)) if k > 0 else mask.copy()


def eroded(mask: np.ndarray, k: int) -> np.ndarray:
    """bool [N, H, W]: each mask shrunk by k pixels (k binary erosions with a 4-connected cross,
    the image border counts as outside); a thin object can vanish. k = 0 gives a copy."""
    mask = _check_masks(mask)
    return ndimage.binary_erosion(mask, CROSS, iterations=int(k)) if k > 0 else mask.copy()


def blurred(mask: np.ndarray, sigma: float) -> np.ndarray:
    """float32 [N, H, W] in [0, 1]: each mask smoothed by a Gaussian of `sigma` pixels (the
    soft map is the blurred mask itself; scipy's default truncation at 4 sigma, reflected at
    the border); sigma = 0 gives the mask as floats."""
    mask = _check_masks(mask).astype(np.float32)
    return ndimage.gaussian_filter(mask, (0, sigma, sigma)) if sigma > 0 else mask


# family -> (degradation, levels > 0); level 0 of every family is the object mask itself
FAMILIES: dict[str, tuple[Callable[[np.ndarray, float], np.ndarray], tuple[float, ...]]] = {
    "shift": (shifted, (1, 2, 3, 4, 6, 8)),
    "dilate": (dilated, (1, 2, 3, 4, 6)),
    "erode": (eroded, (1, 2)),
    "blur": (blurred, (1, 2, 3, 4, 6)),
}


def degraded_maps(obj: np.ndarray, families: dict | None = None) -> list[KnownMap]:
    """The object mask [N, H, W] itself (family "object", IoU 1), then through every level of
    every degradation family (`FAMILIES` unless given: family -> (function(mask, level),
    levels)), each with its true IoU."""
    obj = _check_masks(obj)
    out = [KnownMap("object mask", "object", 0, obj.astype(np.float32), true_iou(obj, obj))]
    for family, (degrade, levels) in (families or FAMILIES).items():
        for level in levels:
            maps = np.asarray(degrade(obj, level), np.float32)
            out.append(KnownMap(f"{family} {level:g}", family, level, maps, true_iou(maps, obj)))
    return out


def constant_prior(n: int, shape: tuple[int, int]) -> np.ndarray:
    """float32 [n, H, W] of ones: the uniform map, which after max normalisation is also the
    whole-image map (every constant map normalises to 1 everywhere)."""
    return np.ones((n, *shape), np.float32)


def best_square_side(masks: np.ndarray) -> int:
    """The side (pixels) of the centred square with the highest mean IoU with `masks`
    [N, H, W] bool (the smallest side on a tie)."""
    masks = _check_masks(masks)
    n, h, w = masks.shape
    sides = range(1, max(h, w) + 1)
    scores = [iou(central_square(n, (h, w), s) > 0, masks).mean() for s in sides]
    return int(sides[int(np.argmax(scores))])


def mean_mask_prior(masks: np.ndarray, n: int) -> np.ndarray:
    """float32 [n, H, W]: the per-pixel mean of `masks` [M, H, W] bool (e.g. the pool's object
    masks; never the images being scored), the same map for every image."""
    mean = _check_masks(masks).mean(axis=0, dtype=np.float64).astype(np.float32)
    return np.broadcast_to(mean, (n, *mean.shape)).copy()


def noise_prior(n: int, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """float32 [n, H, W]: i.i.d. uniform values in [0, 1) per pixel, a different draw per
    image: a map that ignores the input without being constant."""
    return rng.random((n, *shape), dtype=np.float32)


def at_resolution(maps: np.ndarray, grid: tuple[int, int] | None) -> np.ndarray:
    """float32 [N, H, W]: maps [N, H, W] as a Grad-CAM layer of `grid` (h, w) would show them:
    averaged over the cells of the grid (adaptive average pooling, which handles sides that do
    not divide H, W), then upsampled bilinearly to H x W with `align_corners=False`, as
    `core.explain.upsample_maps` upsamples Grad-CAM's. `grid` None or (H, W) returns the
    maps unchanged (full resolution, as input-gradient maps are). Raises `ValueError` for a
    grid larger than the image or a cell side < 1."""
    maps = np.asarray(maps, np.float32)
    size = tuple(maps.shape[-2:])
    if grid is None or tuple(grid) == size:
        return maps.copy()
    if not (1 <= grid[0] <= size[0] and 1 <= grid[1] <= size[1]):
        raise ValueError(f"grid must lie between 1x1 and {size[0]}x{size[1]}, got {grid}")
    x = torch.from_numpy(maps)[:, None]
    coarse = F.adaptive_avg_pool2d(x, tuple(grid))
    return upsample_maps(coarse, size)[:, 0].numpy()
