"""A class-agnostic detector of exactly one box per image: a ridge regression on frozen
ImageNet feature maps, cheap enough to retrain every round on a CPU."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import RidgeCV

from ..core.content_cache import once_per_content
from ..core.pretrained import create_timm, imagenet_input
from ..types import Want
from .base import Detector, detectors

FEATURE_BATCH = 64
ALPHAS = np.logspace(-3, 5, 17)  # the ridge penalties leave-one-out error chooses among
MIN_SIDE = 0.02  # of the image: a regressed box never collapses to a line


def centre_size(boxes: np.ndarray) -> np.ndarray:
    """xyxy [N, 4] -> (centre x, centre y, width, height) [N, 4], in the same units."""
    return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2,
                     boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1)  # fmt: skip


def corners(boxes: np.ndarray) -> np.ndarray:
    """(centre, size) fractions [N, 4] -> xyxy fractions: the centre inside the image, each
    side at least `MIN_SIDE`, the box clipped to the image (so it keeps some area)."""
    centre = np.clip(boxes[:, :2], 0.0, 1.0)
    half = np.maximum(boxes[:, 2:], MIN_SIDE) / 2
    return np.clip(np.concatenate([centre - half, centre + half], axis=1), 0.0, 1.0)


@detectors.register("box_regressor", "one_box")
class BoxRegressor(Detector):
    """One box per image regressed from the frozen feature map of the ImageNet-pretrained
    EfficientNet-Lite0, for data with exactly one object per image (Holmes et al. 2023's ASL
    letters): the CPU path for BB, where retraining `frcnn` every round is too slow. Retrained on
    the person's boxes every round (BB) or once on the first batch (BB-1), as `frcnn` is.

    Images (float32 [N, C, H, W] in [0, 1]) are resized to `resize` pixels; the map of backbone
    stage `stage` (3: stride 16, 112 channels) is average-pooled by `pool` and flattened, computed
    once per distinct image. scikit-learn's `RidgeCV` maps it to the box's centre and size
    (fractions of the image), its penalty chosen by leave-one-out error among `ALPHAS`; boxes are
    clipped to the image and at least `MIN_SIDE` of it on each side. Nothing is drawn at random.
    Before its first training it proposes NaN rows (the loop then uses the whole image).
    """

    needs_boxes = True
    # Before ImageNet normalisation and the per-image feature cache moved to `core`, and before
    # no images gave an empty array (an error then): records equal (benchmarks/same_behaviour.py,
    # spec timm_head_box_regressor_bb).
    same_behaviour_as = ("33be869c077dd938",)

    def __init__(
        self,
        update: str = "every",
        pretrained: bool = True,
        resize: int = 224,
        stage: int = 3,
        pool: int = 2,
    ):
        if update not in ("every", "first"):
            raise ValueError(f"update must be 'every' (BB) or 'first' (BB-1), got {update!r}")
        if resize < 32 or stage not in (1, 2, 3, 4) or pool < 1:
            raise ValueError("need resize >= 32, stage 1 to 4 and pool >= 1")
        self.update = update
        self.pretrained = pretrained
        self.resize = resize
        self.stage = stage
        self.pool = pool
        self.model: RidgeCV | None = None

    def bind(self, *, device, seed):
        self.device = torch.device(device)
        self.backbone = create_timm(
            "efficientnet_lite0",
            pretrained=self.pretrained,
            features_only=True,
            out_indices=(self.stage,),
        ).to(self.device)
        self.backbone.eval()
        self._features: dict[bytes, np.ndarray] = {}
        self.model = None

    def wants(self, round, items):
        return frozenset({Want.BOX}) if self.update == "every" or round == 0 else frozenset()

    def features(self, images: np.ndarray) -> np.ndarray:
        """The backbone's pooled, flattened map of each image, float32 [N, D], computed once
        per distinct image."""
        with torch.no_grad():
            return np.stack(once_per_content(self._features, images, self._pooled, FEATURE_BATCH))

    def _pooled(self, images: np.ndarray) -> np.ndarray:
        """The backbone's map of a batch of images, average-pooled and flattened, one row each."""
        x = imagenet_input(
            torch.as_tensor(np.ascontiguousarray(images), device=self.device), self.resize
        )
        maps = self.backbone(x)[0]
        pooled = F.avg_pool2d(maps, self.pool) if self.pool > 1 else maps
        return pooled.flatten(1).cpu().numpy()

    def learn(self, labeled, round):
        if self.update == "first" and round > 0:
            return
        positions = np.flatnonzero(~np.isnan(labeled.boxes).any(axis=1))
        if len(positions) < 2:  # leave-one-out needs two boxes
            return
        raw = labeled.raw(positions)
        extent = np.array([raw.shape[3], raw.shape[2]] * 2, np.float64)
        target = centre_size(labeled.boxes[positions] / extent)
        self.model = RidgeCV(alphas=ALPHAS).fit(self.features(raw), target)

    def propose(self, images, *, true_boxes=None):
        if self.model is None or len(images) == 0:
            return np.full((len(images), 4), np.nan, np.float32)
        boxes = corners(self.model.predict(self.features(images)))
        height, width = images.shape[2:]
        return (boxes * np.array([width, height, width, height])).astype(np.float32)
