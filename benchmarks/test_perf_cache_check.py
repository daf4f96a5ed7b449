"""The embedding cache's integrity check on a hit, against one plain full read of the entry.

Run (well under a minute on 2 cores; not part of the unit tests; needs Debian's
dataset-fashion-mnist):

    .venv/bin/python -m pytest benchmarks/test_perf_cache_check.py --benchmark-only -s

Set CACHE_CHECK_ROWS to time an entry of that many rows only (a quick check that the file runs,
e.g. `CACHE_CHECK_ROWS=5000`); the target is then printed but not asserted, since on a small
entry the fixed costs of a hit (sidecar, file mapping) weigh more than on the real one.

The entry is Fashion-MNIST's as `embedding_mlp` stores it by default: 70,000 x 1,280 float16
(EfficientNet-Lite0's pooled features; 179 MB), keyed by the data's identity. Its rows here are
a seeded random projection of the pixels rather than the network's features, written once to
pytest's temporary folder by `cached_embeddings` itself: the check reads bytes, so its cost
depends on the entry's size and not on the values, and the projection takes seconds where the
network takes about 10 minutes. With the file in the page cache (one untimed pass first), and
alternating timings (medians of `REPEATS`) so that load from other work falls on both alike:

- plain read: `np.load` of the whole .npy into memory, nothing checked;
- check: `checksum` of the entry's bytes on a fresh read-only map (the check alone);
- hit: `cached_embeddings` on the entry (sidecar read, file mapped, every byte's xxh3-128
  digest compared with the sidecar's), on a fresh map each time, as a new process sees it.

Target, measured in one run on the whole entry: hit (the check and all else a hit does)
<= 1.2x plain read.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from hitlbench.data.fmnist import FashionMNIST
from hitlbench.embeddings.cache import cached_embeddings, checksum, entry_paths
from hitlbench.embeddings.dataset_embeddings import data_identity
from hitlbench.types import HitlbenchError

DIM = 1280  # EfficientNet-Lite0's pooled features, the default embedder's
REPEATS = 7
LIMIT_RATIO = 1.2


def rows() -> int | None:
    """CACHE_CHECK_ROWS (the first rows only), else None: the whole collection."""
    given = os.environ.get("CACHE_CHECK_ROWS")
    return int(given) if given else None


@pytest.fixture(scope="module")
def entry(tmp_path_factory) -> Iterator[tuple[dict, int, Path, bool]]:
    """(key, rows, .npy path, whether it is the whole collection) of the Fashion-MNIST entry,
    written to a scratch cache folder."""
    try:
        data = FashionMNIST().load()
    except HitlbenchError as exc:
        pytest.skip(str(exc))
    n = min(rows() or len(data.images), len(data.images))
    projection = np.random.default_rng(0).standard_normal((28 * 28, DIM), np.float32) / 28.0
    key = {"embedder": "benchmark: seeded random projection", "data": data_identity(data)}

    def compute(indices: np.ndarray) -> np.ndarray:
        pixels = data.images[indices].reshape(len(indices), -1).astype(np.float32) / 255.0
        return pixels @ projection

    folder = tmp_path_factory.mktemp("cache_check")
    before = os.environ.get("HITLBENCH_CACHE")
    os.environ["HITLBENCH_CACHE"] = str(folder)
    try:
        cached_embeddings(key, n, compute, dim=DIM, batch=4096, progress=False)
        yield key, n, entry_paths(key, n, DIM, "float16")[0], n == len(data.images)
    finally:
        if before is None:
            os.environ.pop("HITLBENCH_CACHE", None)
        else:
            os.environ["HITLBENCH_CACHE"] = before
        for path in folder.rglob("*"):
            if path.is_file():
                path.unlink()


def seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def test_checking_a_hit_costs_at_most_one_read_and_a_fifth(benchmark, entry):
    key, n, npy, whole = entry

    def refuse(indices: np.ndarray) -> np.ndarray:
        raise AssertionError("the entry must be a cache hit")

    def plain_read() -> None:
        np.load(npy)

    def check() -> None:
        checksum(np.load(npy, mmap_mode="r"))

    def hit() -> None:
        array, found = cached_embeddings(key, n, refuse, dim=DIM, progress=False)
        assert found and array.shape == (n, DIM)

    def timed() -> tuple[float, float, float]:
        """Medians of alternating hits, checks and plain reads."""
        triples = [(seconds(hit), seconds(check), seconds(plain_read)) for _ in range(REPEATS)]
        hits, checks, reads = zip(*triples, strict=True)
        return float(np.median(hits)), float(np.median(checks)), float(np.median(reads))

    plain_read()  # into the page cache
    hit_s, check_s, read_s = benchmark.pedantic(timed, rounds=1, iterations=1)
    ratio, check_ratio = hit_s / read_s, check_s / read_s
    megabytes = npy.stat().st_size / 1e6
    print(
        f"\non {n:,} x {DIM} float16 ({megabytes:.0f} MB): cache hit with its check "
        f"{hit_s * 1e3:.1f} ms, the check alone {check_s * 1e3:.1f} ms, plain full read "
        f"{read_s * 1e3:.1f} ms; ratios {ratio:.2f} (hit) and {check_ratio:.2f} (check); limit "
        f"{LIMIT_RATIO} on the hit{'' if whole else ', not asserted on part of the entry'}"
    )
    benchmark.extra_info.update(
        rows=n, hit_s=hit_s, check_s=check_s, plain_read_s=read_s, ratio=ratio
    )
    if whole:
        assert ratio <= LIMIT_RATIO
