"""CLIP image embeddings from open_clip (Radford et al. 2021; Ilharco et al. 2021), offline.

The model is loaded exactly as the open_clip zero-shot labeler loads it
(`hitlbench.zero_shot.open_clip_labeler.OpenCLIP.bind`: tag weights from the Hugging Face or
open_clip cache, a local checkpoint, or random weights from the seed; nothing downloaded unless
HITLBENCH_ALLOW_DOWNLOADS=1), and images are prepared by the same `prepare_images`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..types import TaskInfo
from ..zero_shot.open_clip_labeler import OpenCLIP, prepare_images
from .base import Embedder, embedders
from .cache import state_digest

_ONE_CLASS = TaskInfo(1, ("object",), (3, 1, 1))  # the labeler's bind embeds its prompts too


@embedders.register("open_clip", "clip_image")
class OpenCLIPEmbedder(Embedder):
    """The L2-normalised output of a CLIP model's image tower (`encode_image`).

    `model` is an open_clip architecture (`open_clip.list_models()`, or one added with
    `open_clip.add_model_config`); `pretrained` a tag of it (`open_clip.list_pretrained()`),
    or None for random weights drawn from `bind`'s seed; `checkpoint` a local weights file
    that takes precedence over the tag's. Images (grey repeated to RGB) are resized as open_clip
    evaluates them to the model's input size, or to `input_px` square, and encoded `batch_size`
    at a time in eval mode, fp32, with no gradients. D is the model's embedding width (512 for
    ViT-B-32).
    """

    def __init__(
        self,
        model: str = "ViT-B-32",
        pretrained: str | None = "openai",
        checkpoint: str | None = None,
        input_px: int | None = None,
        batch_size: int = 64,
    ):
        # the labeler checks the values (ValueError) and, in `bind`, loads the model
        self._loader = OpenCLIP(
            model=model,
            pretrained=pretrained,
            checkpoint=checkpoint,
            templates=["{}"],
            batch_size=batch_size,
            input_px=input_px,
        )
        self.model = model
        self.pretrained = pretrained
        self.checkpoint = checkpoint
        self.input_px = input_px
        self.batch_size = batch_size

    def bind(self, *, device: str, seed: int) -> None:
        """Load the model on `device` (random weights from `seed`, leaving torch's global random
        state alone).

        Raises HitlbenchError (from the labeler's loader) for an unknown architecture or tag, a
        missing `checkpoint` file, weights that are not on disk with downloads off, or weights
        that do not fit the architecture.
        """
        import open_clip

        self._loader.bind(_ONE_CLASS, device=device, seed=seed)
        self.net = self._loader.net
        self._dim = int(self._embed_batch(np.zeros((1, 3, 8, 8), np.float32)).shape[1])
        cfg = self._loader.preprocess_cfg
        self._weights = {
            "open_clip": open_clip.__version__,
            "digest": state_digest(self.net.visual),
            "preprocess": {k: cfg[k] for k in sorted(cfg)},
        }
        if self.pretrained is None and self.checkpoint is None:
            self._weights["seed"] = seed

    @torch.no_grad()
    def _embed_batch(self, images: np.ndarray) -> np.ndarray:
        cfg = self._loader.preprocess_cfg
        chunk = np.ascontiguousarray(images, dtype=np.float32)
        x = prepare_images(
            torch.from_numpy(chunk).to(self._loader.device),
            self._loader.input_size(),
            cfg["mean"],
            cfg["std"],
            interpolation=cfg.get("interpolation", "bicubic"),
            resize_mode=cfg.get("resize_mode", "shortest"),
            fill_color=cfg.get("fill_color", 0),
        )
        return F.normalize(self.net.encode_image(x).float(), dim=-1).cpu().numpy()
