"""CLIP zero-shot labels from open_clip: images against prompts built from the class names.

CLIP (Radford et al. 2021, "Learning Transferable Visual Models From Natural Language
Supervision", ICML) embeds images and texts in one space; an image is labelled with the class
whose prompts ("a photo of a {class}.") lie nearest. The models and weights are open_clip's
(Ilharco et al. 2021, "OpenCLIP", doi:10.5281/zenodo.5143773): OpenAI's own and the LAION,
DataComp, ... reproductions, each named by an architecture and a pretrained tag
(`open_clip.list_pretrained()`).

Nothing is downloaded unless HITLBENCH_ALLOW_DOWNLOADS=1: a tag's weights load from the
Hugging Face cache (or open_clip's `~/.cache/clip` for tags without a Hub copy), and a
`checkpoint:` file from anywhere on disk.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..core.pretrained import downloads_allowed, hub_offline_unless_allowed
from ..core.torch_rng import seeded
from ..types import HitlbenchError, TaskInfo
from .base import Answers, Labeler, labelers

DEFAULT_TEMPLATES = [
    "a photo of a {}.",
    "a blurry photo of a {}.",
    "a black and white photo of a {}.",
    "a low resolution photo of a {}.",
    "a close-up photo of a {}.",
]
"""A small ensemble from CLIP's 80 ImageNet templates (Radford et al. 2021, section 3.1.4)."""

_DOWNLOAD_HINT = (
    "set `checkpoint:` to a local file of the weights, or set HITLBENCH_ALLOW_DOWNLOADS=1 "
    "where the Hugging Face Hub is reachable to fetch them once"
)


def _open_clip() -> Any:
    try:
        import open_clip
    except ImportError as exc:
        raise HitlbenchError(
            "labeler 'open_clip' needs the open_clip package: pip install open_clip_torch"
        ) from exc
    return open_clip


def _first_line(exc: Exception, limit: int) -> str:
    lines = str(exc).splitlines()
    return f"{type(exc).__name__}: {lines[0][:limit] if lines else ''}"


def _tag_weights(model: str, tag: str, cfg: dict[str, Any]) -> str:
    """The local file of pretrained tag `tag`'s weights (open_clip's `download_pretrained`
    rules), downloading it only when HITLBENCH_ALLOW_DOWNLOADS=1; HitlbenchError when it is not
    on disk. With downloads off, the Hub is asked in offline mode (cache only) and a tag with
    only a URL is looked up in open_clip's URL cache, never fetched."""
    from open_clip.pretrained import download_pretrained, has_hf_hub

    if "file" in cfg:
        return cfg["file"]
    via_hub = bool(cfg.get("hf_hub")) and has_hf_hub()
    if via_hub or downloads_allowed():
        try:
            with hub_offline_unless_allowed():
                path = download_pretrained(cfg)
        except Exception as exc:  # offline cache misses and network errors come in many types
            raise HitlbenchError(
                f"open_clip weights for {model!r} pretrained {tag!r} are not on disk "
                f"({_first_line(exc, 200)}); {_DOWNLOAD_HINT}"
            ) from exc
        if path:
            return path
    url = cfg.get("url", "")
    cached = os.path.join(os.path.expanduser("~/.cache/clip"), os.path.basename(url))
    if url and os.path.isfile(cached):
        return cached
    raise HitlbenchError(
        f"open_clip weights for {model!r} pretrained {tag!r} are not on disk (looked for "
        f"{cached if url else 'a Hub copy'}); {_DOWNLOAD_HINT}"
    )


def prepare_images(
    images: torch.Tensor,
    size: tuple[int, int],
    mean: Sequence[float],
    std: Sequence[float],
    interpolation: str = "bicubic",
    resize_mode: str = "shortest",
    fill_color: int = 0,
) -> torch.Tensor:
    """Images as a CLIP image tower takes them, open_clip's evaluation transform done in torch.

    `images`: float32 [N, C, H, W] in [0, 1], C = 1 (grey, repeated to RGB) or 3, any H, W.
    `size`: the model's input (height, width) in pixels. `resize_mode` is open_clip's:
    `shortest` scales the shorter side to fit and crops the centre, `squash` scales each side
    to fit (aspect not kept), `longest` scales the longer side to fit and pads the rest with
    `fill_color` (0-255). Resizing is antialiased `interpolation` (bicubic or bilinear), clamped
    to [0, 1], then each channel is normalised with `mean` and `std`.
    Returns float32 [N, 3, size[0], size[1]]. Raises ValueError for another channel count or
    mode.
    """
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must be [N, 1 or 3, H, W], got {tuple(images.shape)}")
    if interpolation not in ("bicubic", "bilinear"):
        interpolation = "bicubic"  # open_clip evaluates 'random' (a training mode) as bicubic
    if resize_mode not in ("shortest", "squash", "longest"):
        raise ValueError(f"unknown resize_mode {resize_mode!r}")
    x = images.float()
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    height, width = x.shape[-2:]
    target_h, target_w = size
    if resize_mode == "squash":
        new_h, new_w = target_h, target_w
    else:
        ratio_h, ratio_w = height / target_h, width / target_w
        ratio = min(ratio_h, ratio_w) if resize_mode == "shortest" else max(ratio_h, ratio_w)
        new_h, new_w = max(1, round(height / ratio)), max(1, round(width / ratio))
    if (new_h, new_w) != (height, width):
        x = F.interpolate(x, size=(new_h, new_w), mode=interpolation, antialias=True)
        x = x.clamp(0.0, 1.0)
    # pad where smaller, then crop the centre where larger (open_clip's center_crop_or_pad)
    pad_h, pad_w = max(0, target_h - new_h), max(0, target_w - new_w)
    if pad_h or pad_w:
        pad = [pad_w // 2, (pad_w + 1) // 2, pad_h // 2, (pad_h + 1) // 2]
        x = F.pad(x, pad, value=fill_color / 255.0)
    top = int(round((x.shape[-2] - target_h) / 2.0))
    left = int(round((x.shape[-1] - target_w) / 2.0))
    x = x[..., top : top + target_h, left : left + target_w]
    mean_t = torch.as_tensor(mean, dtype=x.dtype, device=x.device).reshape(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=x.dtype, device=x.device).reshape(1, -1, 1, 1)
    return (x - mean_t) / std_t


@labelers.register("open_clip", "clip")
class OpenCLIP(Labeler):
    """CLIP zero-shot classification with open_clip (Radford et al. 2021; Ilharco et al. 2021).

    Each class is the mean of its prompts' L2-normalised text embeddings, L2-normalised again:
    every template in `templates` ("{}" marks the class) filled with each phrase `prompts` gives
    for the class, else with the class name (underscores read as spaces). An image's answer is
    the softmax over classes of logit_scale x cosine(image embedding, class embedding), with
    the model's own learned logit_scale (100 for OpenAI's weights). `fine` is None for every
    item.

    `model` is an open_clip architecture (`open_clip.list_models()`, or one added with
    `open_clip.add_model_config`); `pretrained` a tag of it (`open_clip.list_pretrained()`),
    or None for random weights drawn from `bind`'s seed. `checkpoint`, a local file (.pt, .pth,
    .bin or .safetensors state dict), takes precedence over the tag's weights; the tag, where
    open_clip knows it for `model`, still sets the preprocessing and QuickGELU. Weights are
    read from disk only, unless HITLBENCH_ALLOW_DOWNLOADS=1 (`bind` raises HitlbenchError,
    saying how to get them, when they are not there).

    Images are resized in torch as open_clip evaluates them (see `prepare_images`) to the
    model's input size, or to `input_px` square (a ViT's position embedding is interpolated to
    it), and encoded `batch_size` at a time in eval mode, fp32, with no gradients.
    """

    def __init__(
        self,
        model: str = "ViT-B-32",
        pretrained: str | None = "openai",
        checkpoint: str | None = None,
        templates: list[str] = DEFAULT_TEMPLATES,
        prompts: dict[str, list[str]] | None = None,
        batch_size: int = 64,
        input_px: int | None = None,
    ):
        if not model:
            raise ValueError("model must name an open_clip architecture")
        if pretrained is not None and not pretrained:
            raise ValueError("pretrained must be a tag or None, not ''")
        if checkpoint is not None and not checkpoint:
            raise ValueError("checkpoint must be a path or None, not ''")
        if not templates:
            raise ValueError("templates must hold at least one template")
        if any("{}" not in t for t in templates):
            raise ValueError(f"every template needs '{{}}' for the class, got {templates}")
        for name, phrases in (prompts or {}).items():
            if not phrases or any(not p.strip() for p in phrases):
                raise ValueError(f"prompts for {name!r} must be non-empty phrases, got {phrases}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if input_px is not None and input_px < 1:
            raise ValueError(f"input_px must be >= 1 or None, got {input_px}")
        self.model = model
        self.pretrained = pretrained
        self.checkpoint = checkpoint
        self.templates = templates
        self.prompts = prompts
        self.batch_size = batch_size
        self.input_px = input_px
        self.net: torch.nn.Module | None = None
        self.device = torch.device("cpu")
        self.class_embeddings: torch.Tensor | None = None  # float32 [C, D], unit rows
        self.preprocess_cfg: dict[str, Any] = {}

    def check_classes(self, class_names: Sequence[str], *, concept: Any = None) -> None:
        """Any class name can be labelled; `prompts` may only name the task's classes."""
        unknown = sorted(set(self.prompts or {}) - set(class_names))
        if unknown:
            raise HitlbenchError(
                f"labeler 'open_clip': prompts name classes the task does not have: {unknown}; "
                f"its classes: {list(class_names)}"
            )

    def phrases(self, class_name: str) -> list[str]:
        """The texts whose embeddings are averaged into `class_name`'s: templates x phrases."""
        names = (self.prompts or {}).get(class_name) or [class_name.replace("_", " ")]
        return [t.replace("{}", name.strip()) for name in names for t in self.templates]

    def bind(self, task: TaskInfo, *, device: str, seed: int) -> None:
        """Load the model on `device` and embed the class prompts.

        Raises HitlbenchError for an unknown architecture or tag, a missing `checkpoint` file,
        weights that are not on disk (with downloads off) or do not fit the architecture, and
        `prompts` naming classes the task lacks. Random weights (`pretrained: None`, no
        checkpoint) are drawn from `seed` without touching torch's global generators.
        """
        open_clip = _open_clip()
        self.check_classes(task.class_names)
        if self.model not in open_clip.list_models():
            raise HitlbenchError(
                f"open_clip has no architecture {self.model!r} (hf-hub: and local-dir: names are "
                "not supported; use `checkpoint:`); see open_clip.list_models()"
            )
        tag_cfg = open_clip.get_pretrained_cfg(self.model, self.pretrained or "")
        if self.pretrained and not tag_cfg and self.checkpoint is None:
            known = open_clip.list_pretrained_tags_by_model(self.model)
            raise HitlbenchError(
                f"open_clip has no pretrained tag {self.pretrained!r} for {self.model!r}; "
                f"known: {known or 'none'} (or set pretrained: null, or checkpoint: a file)"
            )
        if self.checkpoint is not None:
            weights = os.path.abspath(os.path.expanduser(self.checkpoint))
            if not os.path.isfile(weights):
                raise HitlbenchError(f"open_clip checkpoint {self.checkpoint!r} is not a file")
        elif tag_cfg:
            weights = _tag_weights(self.model, self.pretrained, tag_cfg)
        else:
            weights = None
        preprocess = {k: v for k, v in tag_cfg.items() if k != "size"}
        what = f"open_clip {self.model!r} with weights {weights or 'random'}"
        try:
            with hub_offline_unless_allowed(), seeded(seed):
                net = open_clip.create_model(
                    self.model,
                    pretrained=weights,
                    device="cpu",
                    force_quick_gelu=bool(tag_cfg.get("quick_gelu", False)),
                    force_image_size=self.input_px,
                    force_preprocess_cfg=preprocess,
                    pretrained_image=False,
                    pretrained_text=False,
                )
                tokenizer = open_clip.get_tokenizer(self.model)
        except HitlbenchError:
            raise
        except Exception as exc:  # corrupt files, mismatched tensors, missing configs
            raise HitlbenchError(f"{what}: {_first_line(exc, 300)}") from exc
        self.device = torch.device(device)
        self.net = net.to(self.device).eval()
        self.preprocess_cfg = dict(open_clip.get_model_preprocess_cfg(net))
        self.class_embeddings = self._embed_classes(task.class_names, tokenizer)

    @torch.no_grad()
    def _embed_classes(self, class_names: Sequence[str], tokenizer: Any) -> torch.Tensor:
        per_class = [self.phrases(name) for name in class_names]
        texts = [text for phrases in per_class for text in phrases]
        parts = []
        for start in range(0, len(texts), self.batch_size):
            tokens = tokenizer(texts[start : start + self.batch_size]).to(self.device)
            parts.append(F.normalize(self.net.encode_text(tokens).float(), dim=-1))
        embedded = torch.cat(parts).split([len(phrases) for phrases in per_class])
        return F.normalize(torch.stack([e.mean(dim=0) for e in embedded]), dim=-1)

    def input_size(self) -> tuple[int, int]:
        """The (height, width) in pixels images are resized to."""
        size = self.preprocess_cfg["size"]
        return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))

    @torch.no_grad()
    def answer(self, images: np.ndarray, items: np.ndarray) -> Answers:
        """Class probabilities for `images` (float32 [N, C, H, W] in [0, 1], C = 1 or 3, any
        H, W; `items` int64 [N] is not used): float32 [N, n_classes] rows summing to 1, and
        `fine` None for every item. Raises RuntimeError before `bind`, HitlbenchError for images
        of another shape."""
        if self.net is None or self.class_embeddings is None:
            raise RuntimeError("bind() must be called before answer()")
        if images.ndim != 4 or images.shape[1] not in (1, 3) or len(items) != len(images):
            raise HitlbenchError(
                f"labeler 'open_clip' needs float [N, 1 or 3, H, W] images and N items, got "
                f"{images.shape} and {len(items)} items"
            )
        cfg = self.preprocess_cfg
        scale = self.net.logit_scale.exp().float()
        out = []
        for start in range(0, len(images), self.batch_size):
            chunk = np.ascontiguousarray(images[start : start + self.batch_size], dtype=np.float32)
            x = prepare_images(
                torch.from_numpy(chunk).to(self.device),
                self.input_size(),
                cfg["mean"],
                cfg["std"],
                interpolation=cfg.get("interpolation", "bicubic"),
                resize_mode=cfg.get("resize_mode", "shortest"),
                fill_color=cfg.get("fill_color", 0),
            )
            features = F.normalize(self.net.encode_image(x).float(), dim=-1)
            logits = scale * features @ self.class_embeddings.T
            out.append(torch.softmax(logits, dim=-1).cpu().numpy().astype(np.float32))
        n_classes = len(self.class_embeddings)
        proba = np.concatenate(out) if out else np.zeros((0, n_classes), np.float32)
        return Answers(proba=proba, fine=(None,) * len(proba))
