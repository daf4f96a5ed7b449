"""Pooled pre-logits features of a timm network (ImageNet weights, offline for EfficientNet-Lite)."""

from __future__ import annotations

import numpy as np
import torch

from ..core.pretrained import create_timm, network_input, require_input_size
from ..core.torch_rng import seeded
from ..types import HitlbenchError
from .base import Embedder, embedders
from .cache import state_digest


@embedders.register("timm", "timm_features")
class TimmEmbedder(Embedder):
    """A timm network's globally pooled features before its classifier (`num_classes=0`).

    `arch` is any timm architecture; with `pretrained` its ImageNet weights load offline for
    efficientnet_lite0 (1,280-d features; lite1 and lite2 with the `lite` extra) and from the
    Hugging Face cache for others (see `hitlbench.core.pretrained.create_timm`); without, random
    weights are drawn from `bind`'s seed. Grey images are repeated to RGB, inverted (1 - x)
    when `invert`, resized to `input_px` x `input_px` (bilinear, antialiased only when
    shrinking; the aspect ratio is not kept), normalised with the model's mean and std
    (`timm.data.resolve_data_config`) and run `batch_size` at a time in eval mode, fp32.
    """

    def __init__(
        self,
        arch: str = "efficientnet_lite0",
        input_px: int = 128,
        pretrained: bool = True,
        invert: bool = False,
        batch_size: int = 128,
    ):
        if not arch:
            raise ValueError("arch must name a timm architecture")
        if input_px < 16:
            raise ValueError(f"input_px must be >= 16, got {input_px}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.arch = arch
        self.input_px = input_px
        self.pretrained = pretrained
        self.invert = invert
        self.batch_size = batch_size
        self.device = torch.device("cpu")
        self.mean = torch.zeros(3)  # the model's per-channel normalisation
        self.std = torch.ones(3)

    def bind(self, *, device: str, seed: int) -> None:
        """Build the network on `device`: ImageNet weights from disk, or random ones from `seed`
        (torch's global random state is left as it was).

        Raises HitlbenchError for an unknown architecture, pretrained weights that are not on
        disk, or a network that cannot take `input_px` inputs.
        """
        import timm
        from timm.data import resolve_data_config

        with seeded(seed):  # random init (also before pretrained weights load) from `seed` only
            net = create_timm(self.arch, pretrained=self.pretrained, num_classes=0)
        require_input_size(net, self.arch, self.input_px, "the embedder's input_px")
        config = resolve_data_config({}, model=net)
        self.device = torch.device(device)
        self.net = net.eval().to(self.device)
        self.mean = torch.tensor(config["mean"], dtype=torch.float32, device=self.device)
        self.std = torch.tensor(config["std"], dtype=torch.float32, device=self.device)
        try:
            probe = self._embed_batch(np.zeros((1, 3, self.input_px, self.input_px), np.float32))
        except RuntimeError as exc:
            self.net = None
            raise HitlbenchError(
                f"embedder 'timm': {self.arch!r} cannot take {self.input_px} px inputs: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            ) from exc
        self._dim = int(probe.shape[1])
        self._weights = {"timm": timm.__version__, "digest": state_digest(net)}
        if not self.pretrained:
            self._weights["seed"] = seed

    def _embed_batch(self, images: np.ndarray) -> np.ndarray:
        shrink = max(images.shape[-2:]) > self.input_px  # anti-aliasing matters only then
        x = network_input(
            images, size=self.input_px, mean=self.mean, std=self.std, invert=self.invert,
            antialias=shrink, device=self.device,
        )  # fmt: skip
        with torch.inference_mode():
            return self.net(x).float().cpu().numpy()
