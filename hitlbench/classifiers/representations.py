"""What a torch classifier offers samplers beyond its probabilities: the representation its last
layer reads (`features`, for Core-Set and BADGE) and stochastic forward passes with dropout on
(`sample_proba`, Monte Carlo dropout for BALD; Gal et al. 2017)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch
from torch import nn

from ..core.torch_rng import seeded

FEATURES = "features"
SAMPLE_PROBA = "sample_proba"


def last_linear(net: nn.Module) -> nn.Linear | None:
    """The network's last `nn.Linear` in module order (its class layer), or None."""
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    return linears[-1] if linears else None


def dropouts(net: nn.Module) -> list[nn.Module]:
    """The dropout modules with a rate above 0."""
    return [m for m in net.modules() if isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0]


def capabilities(net: nn.Module | None) -> frozenset[str]:
    """`FEATURES` where the network ends in a linear layer, `SAMPLE_PROBA` where it has dropout."""
    if net is None:
        return frozenset()
    offered = {FEATURES} if last_linear(net) is not None else set()
    return frozenset(offered | ({SAMPLE_PROBA} if dropouts(net) else set()))


def penultimate(
    net: nn.Module, forward: Callable[[torch.Tensor], torch.Tensor], batches: Iterable[torch.Tensor]
) -> np.ndarray:
    """float32 [N, D]: the input of the last linear layer for each row of `batches` (`forward`
    maps a batch to logits through `net`), in eval mode."""
    head, seen = last_linear(net), []
    hook = head.register_forward_hook(lambda _m, args, _out: seen.append(args[0].detach()))
    net.eval()
    try:
        with torch.no_grad():
            for batch in batches:
                forward(batch)
    finally:
        hook.remove()
    if not seen:
        return np.zeros((0, head.in_features), np.float32)
    return torch.cat(seen).flatten(1).float().cpu().numpy()


def mc_dropout_proba(
    net: nn.Module,
    forward: Callable[[torch.Tensor], torch.Tensor],
    batches: list[torch.Tensor],
    n: int,
    seed: int,
    n_classes: int,
) -> np.ndarray:
    """float32 [n, N, n_classes]: softmax of `n` forward passes with dropout on and everything
    else in eval mode (batch norm uses its running statistics); the masks come from `seed`.
    No batches: an empty [n, 0, n_classes]."""
    if not batches:
        return np.zeros((n, 0, n_classes), np.float32)
    net.eval()
    for module in dropouts(net):
        module.train()
    try:
        with seeded(seed), torch.no_grad():
            passes = [
                torch.cat([torch.softmax(forward(b), dim=1) for b in batches]) for _ in range(n)
            ]
    finally:
        net.eval()
    return torch.stack(passes).float().cpu().numpy()
