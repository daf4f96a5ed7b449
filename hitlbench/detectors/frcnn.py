"""A class-agnostic Faster R-CNN that finds "the object" so the classifier sees a crop."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import torch
from torch import nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.ops import FeaturePyramidNetwork, MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

from ..core.pretrained import create_timm
from ..core.torch_rng import TorchStream
from ..types import Want
from .base import Detector, detectors

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
PREDICT_BATCH = 64


class Lite0FPN(nn.Module):
    """EfficientNet-Lite0 stages at strides 4, 8, 16 under a feature pyramid (Lin et al. 2017)."""

    def __init__(self, pretrained: bool, channels: int):
        super().__init__()
        self.body = create_timm(
            "efficientnet_lite0", pretrained=pretrained, features_only=True, out_indices=(1, 2, 3)
        )
        self.fpn = FeaturePyramidNetwork(
            self.body.feature_info.channels(), channels, extra_blocks=LastLevelMaxPool()
        )
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        features = OrderedDict((str(i), f) for i, f in enumerate(self.body(x)))
        return self.fpn(features)


@detectors.register("frcnn", "faster_rcnn")
class FasterRCNNDetector(Detector):
    """Class-agnostic Faster R-CNN (Ren et al. 2015) keeping its best box per image, retrained on the
    person's boxes every round (BB) or once on the first batch (BB-1), as in Holmes et al. 2023.

    The backbone is the offline ImageNet-pretrained EfficientNet-Lite0 under an FPN; images are
    resized to `resize` pixels (not torchvision's 800) and anchors start at 16 px, which suits
    objects of 20-40 px on small canvases; one object per image needs few sampled proposals and a
    small box head (`head_dim`). No box above `score_threshold`: a NaN row, and the loop falls
    back to the whole image. The first update trains on every box from the initial weights for
    `epochs`. Later updates (BB) continue from the last one for `refit_epochs`, each epoch over the
    boxes new since then plus a seeded draw of earlier ones, `refit_boxes` in all (rehearsal, so a
    round costs the same early and late; 0: every box so far). `warm_start: false` retrains from
    the initial weights on every box each round, the paper's reading and many times slower. Its
    initial weights and the proposals it samples in training come from its own torch stream
    (`torch_rng.TorchStream`), whatever the classifier or the sampler draw.
    """

    needs_boxes = True
    version = "2"  # 1: training drew from torch's global stream, shifted by the classifier's fits

    def __init__(
        self,
        update: str = "every",
        pretrained: bool = True,
        resize: int = 64,
        fpn_channels: int = 64,
        head_dim: int = 256,
        epochs: int = 6,
        refit_epochs: int = 2,
        refit_boxes: int = 100,
        warm_start: bool = True,
        batch_size: int = 8,
        lr: float = 0.01,
        score_threshold: float = 0.05,
    ):
        if update not in ("every", "first"):
            raise ValueError(f"update must be 'every' (BB) or 'first' (BB-1), got {update!r}")
        if resize < 32 or min(epochs, refit_epochs, batch_size, head_dim) < 1 or lr <= 0:
            raise ValueError(
                "need resize >= 32, lr > 0, and epochs, refit_epochs, batch_size, head_dim >= 1"
            )
        if refit_boxes < 0:
            raise ValueError(f"refit_boxes must be >= 0 (0: every box), got {refit_boxes}")
        self.update = update
        self.pretrained = pretrained
        self.resize = resize
        self.fpn_channels = fpn_channels
        self.head_dim = head_dim
        self.epochs = epochs
        self.refit_epochs = refit_epochs
        self.refit_boxes = refit_boxes
        self.warm_start = warm_start
        self.batch_size = batch_size
        self.lr = lr
        self.score_threshold = score_threshold
        self.model: FasterRCNN | None = None
        self.trained = False

    def bind(self, *, device, seed):
        self.device = torch.device(device)
        self.seed = seed
        self.stream = TorchStream(seed)  # initial weights, then every training step's draws
        with self.stream.active():
            self.model = self._build()
        self._initial = copy.deepcopy(self.model.state_dict())
        self._fitted = np.zeros(0, np.int64)  # pool indices of the boxes trained on so far
        self.trained = False

    def _build(self) -> FasterRCNN:
        levels = 4  # three backbone stages + the max-pool level
        return FasterRCNN(
            Lite0FPN(self.pretrained, self.fpn_channels),
            num_classes=None,  # the predictor below: background and "the object"
            min_size=self.resize,
            max_size=self.resize,
            image_mean=IMAGENET_MEAN,
            image_std=IMAGENET_STD,
            rpn_anchor_generator=AnchorGenerator(
                sizes=tuple((16 * 2**i,) for i in range(levels)),
                aspect_ratios=((0.5, 1.0, 2.0),) * levels,
            ),
            box_roi_pool=MultiScaleRoIAlign(["0", "1", "2"], output_size=7, sampling_ratio=2),
            box_head=TwoMLPHead(self.fpn_channels * 7 * 7, self.head_dim),
            box_predictor=FastRCNNPredictor(self.head_dim, 2),
            rpn_pre_nms_top_n_train=600,
            rpn_post_nms_top_n_train=300,
            rpn_pre_nms_top_n_test=200,
            rpn_post_nms_top_n_test=50,
            rpn_batch_size_per_image=64,
            box_batch_size_per_image=64,
            box_detections_per_img=1,
            box_score_thresh=self.score_threshold,
        ).to(self.device)

    def wants(self, round, items):
        return frozenset({Want.BOX}) if self.update == "every" or round == 0 else frozenset()

    def _inputs(self, images: np.ndarray) -> list[torch.Tensor]:
        x = torch.as_tensor(images, device=self.device)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return list(x)

    def learn(self, labeled, round):
        if self.update == "first" and round > 0:
            return
        with self.stream.active():  # the proposals sampled for training: this detector's own
            self._learn(labeled, round)

    def _learn(self, labeled, round) -> None:
        positions = np.flatnonzero(~np.isnan(labeled.boxes).any(axis=1))
        if len(positions) == 0:
            return
        refit = self.trained and self.warm_start
        if not refit:
            self.model.load_state_dict(self._initial)
        is_new = ~np.isin(labeled.indices[positions], self._fitted)
        generator = torch.Generator().manual_seed(self.seed + round)
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.SGD(params, lr=self.lr, momentum=0.9, weight_decay=1e-4)
        self.model.train()
        for _ in range(self.refit_epochs if refit else self.epochs):
            epoch = self._rehearsal(positions, is_new, generator) if refit else positions
            order = epoch[torch.randperm(len(epoch), generator=generator).numpy()]
            for start in range(0, len(order), self.batch_size):
                self._step(labeled, order[start : start + self.batch_size], optimizer)
        self._fitted = np.union1d(self._fitted, labeled.indices[positions])
        self.trained = True

    def _rehearsal(self, positions, is_new, generator) -> np.ndarray:
        """The new boxes and a draw of earlier ones, `refit_boxes` in all (0: every box)."""
        old = positions[~is_new]
        n_old = len(old) if self.refit_boxes == 0 else max(0, self.refit_boxes - is_new.sum())
        if n_old < len(old):
            old = old[torch.randperm(len(old), generator=generator)[:n_old].numpy()]
        return np.concatenate([positions[is_new], old])

    def _step(self, labeled, batch: np.ndarray, optimizer) -> None:
        targets = [
            {
                "boxes": torch.as_tensor(labeled.boxes[i : i + 1], device=self.device),
                "labels": torch.ones(1, dtype=torch.int64, device=self.device),
            }
            for i in batch
        ]
        losses = self.model(self._inputs(labeled.raw(batch)), targets)
        loss = sum(losses.values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def propose(self, images, *, true_boxes=None):
        boxes = np.full((len(images), 4), np.nan, np.float32)
        if not self.trained:
            return boxes
        self.model.eval()
        with torch.inference_mode():
            for start in range(0, len(images), PREDICT_BATCH):
                outputs = self.model(self._inputs(images[start : start + PREDICT_BATCH]))
                for i, out in enumerate(outputs, start):
                    if len(out["boxes"]):  # sorted by score: the first is the most confident
                        boxes[i] = out["boxes"][0].float().cpu().numpy()
        return boxes
