"""A small Keras-style CNN, the architecture family of explanatory interactive learning papers."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .base import classifiers
from .torch_image import Recipe, TorchImageClassifier


class KerasCNNNet(nn.Module):
    """Valid 3x3 convolutions with 32, 64 and 64 channels, 2x2 max-pooling after the first two,
    a dense layer of 64 and the class layer (3 convolutions + 2 fully connected layers)."""

    def __init__(self, in_channels: int, size: tuple[int, int], n_classes: int):
        super().__init__()
        self.features = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(in_channels, 32, 3),
                act1=nn.ReLU(),
                pool1=nn.MaxPool2d(2),
                conv2=nn.Conv2d(32, 64, 3),
                act2=nn.ReLU(),
                pool2=nn.MaxPool2d(2),
                conv3=nn.Conv2d(64, 64, 3),
                act3=nn.ReLU(),
            )
        )
        h, w = feature_size(size[0]), feature_size(size[1])
        self.head = nn.Sequential(
            OrderedDict(
                flatten=nn.Flatten(),
                fc1=nn.Linear(64 * h * w, 64),
                act=nn.ReLU(),
                fc2=nn.Linear(64, n_classes),
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def feature_size(side: int) -> int:
    """The side of the last convolution's output for an input side (28 -> 3)."""
    return ((side - 2) // 2 - 2) // 2 - 2


@classifiers.register("keras_cnn")
class KerasCNN(TorchImageClassifier):
    """The small CNN of Keras's image-classification examples, trained from scratch with Adam at
    a decaying learning rate and L2 regularisation, stopped early on a split of the training
    data: the regime of Hagos et al. 2024 (§3.3: 3 convolutional + 2 fully connected layers,
    Adam with "a decaying learning rate starting with 1e-3", L2 regularisation).

    The learning rate decays as lr / (1 + lr_decay * step) (Keras's time-based decay);
    `weight_decay` is Adam's L2 term (gradient + weight_decay·θ, i.e. the loss plus
    weight_decay/2·Σθ², Eq. 3's λ). Early stopping: `val_fraction` of the labeled items (with
    whatever they carry, a decoy included) are held out; after `patience` epochs without a
    lower loss on them training stops and keeps the best epoch. Grad-CAM at the last
    convolution (`features.act3`: 3x3 for a 28x28 crop). Needs crops of at least 18x18 pixels;
    raises `ValueError` otherwise.
    """

    cam_layer = "features.act3"

    def __init__(
        self,
        lr: float = 1e-3,
        lr_decay: float = 1e-4,
        weight_decay: float = 1e-2,
        batch_size: int = 64,
        max_epochs: int = 10,
        min_epochs: int = 1,
        patience: int = 2,
        monitor: str = "loss",
        val_fraction: float = 0.1,
        warm_start: bool = False,
    ):
        super().__init__(
            Recipe(
                lr=lr,
                lr_decay=lr_decay,
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
        self.lr, self.lr_decay, self.weight_decay = lr, lr_decay, weight_decay
        self.batch_size, self.max_epochs, self.min_epochs = batch_size, max_epochs, min_epochs
        self.patience, self.monitor = patience, monitor
        self.val_fraction, self.warm_start = val_fraction, warm_start

    def build(self, task):
        c, h, w = task.input_shape
        if feature_size(h) < 1 or feature_size(w) < 1:
            raise ValueError(f"keras_cnn needs crops of at least 18x18 pixels, got {h}x{w}")
        return KerasCNNNet(c, (h, w), task.n_classes)
