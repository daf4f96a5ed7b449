"""A network's class probabilities over cached embeddings, one chunk of rows at a time.

Embeddings are stored as float16 memmaps (`hitlbench.embeddings.cache`), and 10 million of them
(10 GB as float16 at 512 dimensions, 20 GB as float32) are too many to gather at once. Each chunk's rows
are read (a slice of the memmap where the items run contiguously, a gather otherwise), upcast
into one float32 buffer that every chunk reuses, and passed through the network: float16 matrix
products fall back to slow scalar code on CPUs without native half-precision arithmetic, and a
fresh tensor per chunk costs page faults on every chunk.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn

# Rows per chunk, by measurement (`benchmarks/test_perf_agile_round.py`, a 3 x 128 MLP over
# 10M x 512 on 2 cores): 2,048 to 8,192 rows keep a chunk and its activations in the CPU's
# caches (8 MiB as float32 at 512 dimensions) and run the round in about 12 s; 65,536 and more
# fall out of them and take about 19 s.
CHUNK_ROWS = 4_096


def _tensor(rows: np.ndarray) -> torch.Tensor:
    """`rows` as a tensor sharing their memory, to be read only (a read-only memmap is
    accepted)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The given NumPy array is not writable", UserWarning)
        return torch.from_numpy(rows)


def _is_run(chunk: np.ndarray) -> bool:
    """Whether `chunk` (non-empty int64 indices) is start, start + 1, ..., start + len - 1."""
    return int(chunk[-1]) - int(chunk[0]) == len(chunk) - 1 and bool((np.diff(chunk) == 1).all())


def _check_range(items: np.ndarray, n: int) -> None:
    """IndexError unless every index of `items` (non-empty) lies in [-n, n), as numpy's."""
    low, high = int(items.min()), int(items.max())
    if low < -n or high >= n:
        bad = low if low < -n else high
        raise IndexError(f"item {bad} is out of bounds for features of {n} rows")


def stream_forward(
    net: nn.Module,
    features: np.ndarray,
    items: np.ndarray,
    *,
    out_dim: int,
    chunk_rows: int = CHUNK_ROWS,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Softmax probabilities of `net` on the rows `items` of `features`, `chunk_rows` at a time.

    `features` is a float array [N, D] (typically a read-only float16 `np.memmap`); `items` are
    row indices [M] (any integer dtype, any order, repeats allowed); `net` maps a float32
    [rows, D] tensor on `device` to [rows, out_dim] logits and is run as it is (put it in eval
    mode first) under `torch.inference_mode`. Returns float32 [M, out_dim]: row i is the softmax
    of `net(features[items[i]])` upcast to float32, the same as one forward over all rows up to
    float rounding. Memory beyond the output: one float32 chunk (`chunk_rows` x D), one chunk in
    `features`' dtype when the items do not run contiguously, and the network's activations.

    Raises ValueError for `chunk_rows` < 1, `features` that is not 2-D, or logits that are not
    [rows, out_dim]; IndexError for an item outside [-N, N).
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    if np.ndim(features) != 2:
        raise ValueError(f"features must be 2-D [N, D], got shape {np.shape(features)}")
    items = np.asarray(items, np.int64)
    if len(items):
        _check_range(items, len(features))
    out = np.empty((len(items), out_dim), np.float32)
    rows = min(chunk_rows, len(items))
    upcast = np.empty((rows, features.shape[1]), np.float32)
    gathered = upcast if features.dtype == np.float32 else np.empty(upcast.shape, features.dtype)
    upcast_t, out_t = torch.from_numpy(upcast), torch.from_numpy(out)
    # runs of items are sliced from a tensor view of all rows (torch views C-contiguous arrays)
    whole = _tensor(features) if features.flags.c_contiguous else None
    with torch.inference_mode():
        for start in range(0, len(items), chunk_rows):
            chunk = items[start : start + chunk_rows]
            n = len(chunk)
            if whole is not None and chunk[0] >= 0 and _is_run(chunk):
                upcast_t[:n].copy_(whole[chunk[0] : chunk[0] + n])
            else:  # "wrap": negative items count from the end; the range is checked above
                np.take(features, chunk, axis=0, out=gathered[:n], mode="wrap")
                if gathered is not upcast:
                    upcast_t[:n].copy_(torch.from_numpy(gathered[:n]))
            logits = net(upcast_t[:n].to(device))
            if logits.shape != (n, out_dim):
                raise ValueError(
                    f"net gave logits of shape {tuple(logits.shape)}, not ({n}, {out_dim})"
                )
            out_t[start : start + n].copy_(torch.softmax(logits, dim=1))
    return out
