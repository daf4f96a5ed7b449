"""Peak resident memory of this process, for the benchmarks that bound it (Linux's /proc)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def reset_peak_rss() -> None:
    """Reset the peak RSS (VmHWM) to the current RSS; skips the test where /proc lacks it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pytest.skip("peak RSS is measured through Linux's /proc/self")


def peak_rss_gb() -> float:
    """The process's peak resident memory (VmHWM) in GiB since the last reset."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    raise OSError("no VmHWM in /proc/self/status")


def standard_normal_rows(n: int, dim: int, seed: int, block: int = 100_000) -> np.ndarray:
    """float32 [n, dim] standard-normal rows from a seeded generator, `block` rows at a time
    (never a float64 copy of the whole)."""
    rng = np.random.default_rng(seed)
    x = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, block):
        x[start : start + block] = rng.standard_normal(
            (min(block, n - start), dim), dtype=np.float32
        )
    return x
