"""Shared training for torch image classifiers: seeded init, internal split, early stopping."""

from __future__ import annotations

import copy
from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..core.explain import CamSpec, gradcam_with_logits, map_layers, saliency
from ..core.torch_rng import seeded
from ..types import DivergedError, FitReport, HitlbenchError, TaskInfo
from .base import Classifier
from .representations import capabilities, mc_dropout_proba, penultimate

PREDICT_BATCH = 512


@dataclass(frozen=True)
class Recipe:
    """How a torch classifier is trained (Holmes et al. 2023's loop: Adam, early stopping).

    Monitoring starts at epoch `min_epochs` (Keras's `start_from_epoch`): training stops after
    `patience` epochs without a better internal-split score and keeps the best epoch's weights.
    `monitor="accuracy"` is Holmes et al.'s rule (ties go to the lower loss); "loss", the
    internal-split loss, is steadier on the tiny splits of early rounds, where accuracy moves in
    steps of 1/n_val and a lucky first epoch can win. `lr_decay` is Keras's time-based decay:
    lr / (1 + lr_decay * step).
    """

    lr: float = 1e-3
    weight_decay: float = 0.0
    lr_decay: float = 0.0
    batch_size: int = 32
    max_epochs: int = 50
    min_epochs: int = 10
    patience: int = 5
    monitor: str = "loss"
    val_fraction: float = 0.15
    warm_start: bool = False

    def __post_init__(self):
        if self.lr <= 0 or self.weight_decay < 0 or self.lr_decay < 0:
            raise ValueError("need lr > 0, weight_decay >= 0 and lr_decay >= 0")
        if self.batch_size < 1 or self.max_epochs < 1 or self.patience < 1:
            raise ValueError("batch_size, max_epochs and patience must be >= 1")
        if not 0 <= self.min_epochs <= self.max_epochs:
            raise ValueError(f"min_epochs must be in [0, max_epochs], got {self.min_epochs}")
        if self.monitor not in ("loss", "accuracy"):
            raise ValueError(f"monitor must be 'loss' or 'accuracy', got {self.monitor!r}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")


class TorchImageClassifier(Classifier):
    """Seeded initial weights, retrained each round on an internal split with early stopping.

    `fit` raises `DivergedError` as soon as a minibatch's loss is not finite.
    """

    tuning = ("lr", "lr_decay", "weight_decay", "batch_size")

    def __init__(self, recipe: Recipe):
        self.recipe = recipe
        self.net: torch.nn.Module | None = None
        self._fitted = False

    @abstractmethod
    def build(self, task: TaskInfo) -> torch.nn.Module:
        """The network for this task (random initial weights drawn from torch's global seed)."""

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """Map crops in [0, 1] to the network's input range."""
        return x * 2.0 - 1.0

    def encode(self, images: np.ndarray) -> torch.Tensor:
        """What training minibatches are drawn from: the images themselves by default; a
        subclass that trains only a head returns the frozen features instead."""
        return self._tensor(images)

    def forward(self, xb: torch.Tensor) -> torch.Tensor:
        """Logits of a minibatch drawn from `encode`'s output."""
        return self.net(self.preprocess(xb))

    def trainable(self) -> Iterator[torch.nn.Parameter]:
        """The parameters the optimizer updates."""
        return self.net.parameters()

    def make_optimizer(self, params) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=self.recipe.lr, weight_decay=self.recipe.weight_decay)

    def bind(self, task, *, device, seed):
        self.task = task
        self.device = torch.device(device)
        with seeded(seed):  # the initial weights, from the classifier's own seed
            self.net = self.build(task).to(self.device)
        self._initial_state = copy.deepcopy(self.net.state_dict())
        self._fitted = False

    @property
    def ready(self):
        return self._fitted

    def _split(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        order = rng.permutation(n)
        n_val = int(round(self.recipe.val_fraction * n)) if n >= 2 else 0
        if self.recipe.val_fraction > 0 and n >= 2:
            n_val = max(1, n_val)
        return order[n_val:], order[:n_val]

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(array), device=self.device)

    def fit(self, train, *, feedback, rng):
        if self.net is None:
            raise RuntimeError("bind() must be called before fit()")
        if not (self.recipe.warm_start and self._fitted):
            self.net.load_state_dict(self._initial_state)
        with seeded(int(rng.integers(2**31))):  # shuffles and dropout: this fit's own stream
            return self._fit(train, feedback, rng)

    def _fit(self, train, feedback, rng: np.random.Generator) -> FitReport:
        tr, va = self._split(len(train), rng)
        x_tr, y_tr = self.encode(train.images[tr]), self._tensor(train.labels[tr]).long()
        extras = {name: self._tensor(mask[tr]) for name, mask in train.masks.items()} | {
            f"has_{name}": self._tensor(flag[tr]) for name, flag in train.has_mask.items()
        }
        x_va, y_va = self.encode(train.val_images[va]), train.labels[va]  # once, not per epoch
        optimizer = self.make_optimizer(self.trainable())
        decay = self.recipe.lr_decay
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 1.0 / (1.0 + decay * step)
        )
        best = (-float("inf"), -float("inf"))
        best_state, best_acc, best_epoch, stale, epoch = None, None, 0, 0, 0
        for epoch in range(1, self.recipe.max_epochs + 1):
            self._train_epoch(x_tr, y_tr, extras, optimizer, schedule, feedback, epoch)
            if len(va) == 0 or epoch < self.recipe.min_epochs:
                best_epoch = epoch
                continue
            proba = self._proba_of_encoded(x_va)
            loss = -float(np.log(np.clip(proba[np.arange(len(va)), y_va], 1e-12, 1)).mean())
            acc = float((proba.argmax(1) == y_va).mean())
            score = (acc, -loss) if self.recipe.monitor == "accuracy" else (-loss, acc)
            if score > best:
                best, best_acc, best_epoch, stale = score, acc, epoch, 0
                best_state = copy.deepcopy(self.net.state_dict())
            else:
                stale += 1
                if stale >= self.recipe.patience:
                    break
        if best_state is not None:
            self.net.load_state_dict(best_state)
        self._fitted = True
        return FitReport(
            epochs=epoch,
            best_epoch=best_epoch,
            val_accuracy=best_acc,
            n_train=len(tr),
            n_val=len(va),
        )

    def _train_epoch(self, x, y, extras, optimizer, schedule, feedback, epoch: int) -> None:
        self.net.train()
        order = torch.randperm(len(x), device="cpu").to(self.device)
        for start in range(0, len(x), self.recipe.batch_size):
            idx = order[start : start + self.recipe.batch_size]
            xb, maps = x[idx], None
            if feedback.needs_cam:  # one forward pass gives the logits and a differentiable map
                xb = self.preprocess(xb)
                maps, logits = gradcam_with_logits(
                    self.net,
                    self.cam_layer,
                    xb,
                    y[idx] if feedback.cam_target == "true" else None,
                    create_graph=True,
                    relu=feedback.cam.relu,
                    weights=feedback.cam.weights,
                    upsample=feedback.cam_upsampled,
                )
            else:
                logits = self.forward(xb)
            loss = F.cross_entropy(logits, y[idx])
            batch_extras = {k: v[idx] for k, v in extras.items()}
            extra = feedback.loss(self.net, xb, y[idx], logits, batch_extras, maps=maps)
            if extra is not None:
                loss = loss + extra
            if not torch.isfinite(loss):
                raise DivergedError(f"its training loss is {loss.item()} in epoch {epoch}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()

    def explain(self, images, *, target=None, cam=None, masks=None):
        if self.cam_layer is None:
            return None
        cam = cam or CamSpec()
        self.net.eval()
        out = []
        for start in range(0, len(images), PREDICT_BATCH):
            xb = self.preprocess(self._tensor(images[start : start + PREDICT_BATCH]))
            part = None if target is None else target[start : start + PREDICT_BATCH]
            maps = saliency(self.net, xb, part, cam, cam_layer=self.cam_layer)
            out.append(maps.cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, *images.shape[2:]), np.float32)

    def check_cam(self, cam):
        if self.cam_layer is None or cam.method != "gradcam" or cam.layer is None:
            return
        probe = self.preprocess(torch.zeros((1, *self.task.input_shape), device=self.device))
        self.net.eval()
        layers = map_layers(self.net, probe)
        if cam.layer not in layers:
            raise HitlbenchError(
                f"evaluation_cam.layer {cam.layer!r}: classifier {self.registered_name!r} has no "
                f"such layer with an [N,K,h,w] output; use null (its own {self.cam_layer!r}) or "
                f"one of: {', '.join(layers)}"
            )

    def predict_proba(self, images, *, items):
        self.net.eval()
        with torch.no_grad():  # not inference_mode: encode may cache features used in training
            return self._proba_of_encoded(self.encode(images))

    def capabilities(self):
        return capabilities(self.net)

    def features(self, images, *, items):
        return penultimate(self.net, self.forward, self._encoded_batches(images))

    def sample_proba(self, images, n, *, items, rng):
        seed = int(rng.integers(2**31))
        batches = self._encoded_batches(images)
        return mc_dropout_proba(self.net, self.forward, batches, n, seed, self.task.n_classes)

    def _encoded_batches(self, images: np.ndarray) -> list[torch.Tensor]:
        with torch.no_grad():
            encoded = self.encode(images)
        return [encoded[s : s + PREDICT_BATCH] for s in range(0, len(encoded), PREDICT_BATCH)]

    def _proba_of_encoded(self, encoded: torch.Tensor) -> np.ndarray:
        """Class probabilities, float32 [N, n_classes], of what `encode` returned (so the
        early-stopping split is encoded once per fit, not once per epoch)."""
        self.net.eval()
        with torch.no_grad():
            out = [
                torch.softmax(self.forward(encoded[start : start + PREDICT_BATCH]), dim=1)
                for start in range(0, len(encoded), PREDICT_BATCH)
            ]
        if not out:
            return np.zeros((0, self.task.n_classes), dtype=np.float32)
        return torch.cat(out).float().cpu().numpy()
