"""Each component's own torch random stream, never torch's global one.

torch draws dropout masks, shuffles and the proposals Faster R-CNN samples for training from its
global generators. A component that used them directly would shift with whatever else drew from
them before it (the classifier's training, a sampler's embedder), so one seed would give
different detectors under different classifiers. Here each component swaps its own state in for
its work and the previous global state back afterwards (`torch.random.fork_rng`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


def _cuda_devices() -> list[int]:
    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """torch's generators seeded with `seed` inside the block, as they were outside it."""
    with torch.random.fork_rng(devices=_cuda_devices()):
        torch.manual_seed(seed)
        yield


class TorchStream:
    """A random stream that continues from one use to the next, as a component's own."""

    def __init__(self, seed: int):
        self.seed = seed
        self._cpu: torch.Tensor | None = None
        self._cuda: list[torch.Tensor] = []

    @contextmanager
    def active(self) -> Iterator[None]:
        """Inside the block torch draws from this stream (seeded with `seed` on first use)."""
        devices = _cuda_devices()
        with torch.random.fork_rng(devices=devices):
            if self._cpu is None:
                torch.manual_seed(self.seed)
            else:
                torch.set_rng_state(self._cpu)
                for device, state in zip(devices, self._cuda, strict=False):
                    torch.cuda.set_rng_state(state, device)
            try:
                yield
            finally:
                self._cpu = torch.get_rng_state()
                self._cuda = [torch.cuda.get_rng_state(d) for d in devices]
