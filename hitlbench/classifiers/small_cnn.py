"""A small CNN trained from scratch."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .base import classifiers
from .torch_image import Recipe, TorchImageClassifier


class SmallCNNNet(nn.Module):
    """3 convolutions + 2 fully connected layers."""

    def __init__(
        self, in_channels: int, size: tuple[int, int], n_classes: int, width: int, hidden: int
    ):
        super().__init__()
        c1, c2, c3 = width, 2 * width, 2 * width
        self.features = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(in_channels, c1, 3, padding=1),
                act1=nn.ReLU(),
                pool1=nn.MaxPool2d(2),
                conv2=nn.Conv2d(c1, c2, 3, padding=1),
                act2=nn.ReLU(),
                pool2=nn.MaxPool2d(2),
                conv3=nn.Conv2d(c2, c3, 3, padding=1),
                act3=nn.ReLU(),
            )
        )
        h, w = size[0] // 4, size[1] // 4
        self.head = nn.Sequential(
            OrderedDict(
                flatten=nn.Flatten(),
                fc1=nn.Linear(c3 * h * w, hidden),
                act=nn.ReLU(),
                drop=nn.Dropout(0.25),
                fc2=nn.Linear(hidden, n_classes),
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@classifiers.register("small_cnn", "cnn")
class SmallCNN(TorchImageClassifier):
    """3 conv + 2 fully connected layers trained from scratch with Adam (Hagos et al. 2024)."""

    cam_layer = "features.act3"

    def __init__(
        self,
        width: int = 16,
        hidden: int = 128,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        batch_size: int = 8,
        max_epochs: int = 50,
        min_epochs: int = 10,
        patience: int = 5,
        monitor: str = "loss",
        val_fraction: float = 0.15,
        warm_start: bool = False,
    ):
        super().__init__(
            Recipe(
                lr=lr,
                weight_decay=weight_decay,
                batch_size=batch_size,
                max_epochs=max_epochs,
                min_epochs=min_epochs,
                patience=patience,
                monitor=monitor,
                val_fraction=val_fraction,
                warm_start=warm_start,
            )
        )
        if width < 1 or hidden < 1:
            raise ValueError("width and hidden must be >= 1")
        self.width, self.hidden = width, hidden
        self.lr, self.weight_decay, self.batch_size = lr, weight_decay, batch_size
        self.max_epochs, self.min_epochs, self.patience = max_epochs, min_epochs, patience
        self.monitor, self.val_fraction, self.warm_start = monitor, val_fraction, warm_start

    def build(self, task):
        c, h, w = task.input_shape
        if h < 4 or w < 4:
            raise ValueError(f"small_cnn needs crops of at least 4x4 pixels, got {h}x{w}")
        return SmallCNNNet(c, (h, w), task.n_classes, self.width, self.hidden)
