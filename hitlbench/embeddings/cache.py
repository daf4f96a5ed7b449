"""Embeddings on disk: one .npy per key, filled batch by batch and opened as a read-only memmap.

Each entry is `<cache_root()>/embeddings/<hash>.npy` with a sidecar `<hash>.json` naming what it
holds (key, rows, dimension, dtype, size in bytes, the xxh3-128 digest of the array's bytes,
`complete: true`). The array is written to a temporary file in the same folder, flushed and
renamed into place; the sidecar is written last, so an entry without one is unfinished. Whatever
does not agree with its sidecar is rebuilt; an entry whose bytes changed after they were written
(rows overwritten, zeroed, NaN) is rebuilt with a `CacheWarning` naming it. The digest is checked
on every hit, before the array is returned: one pass over the entry, at xxh3's speed (several
GB/s) about the cost of reading it once (`benchmarks/test_perf_cache_check.py`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xxhash
from tqdm.auto import tqdm

from ..core.cache import CacheWarning, cache_root
from ..core.storage import canonical_json, write_text_atomic

FORMAT = 1  # bump when the layout of an entry changes
STALE_TEMP_S = 24 * 3600  # a temporary file untouched this long was left by a killed write
CHECKSUM = "xxh3_128"  # the sidecar field holding the hex digest of the array's bytes


def entry_paths(key: Mapping[str, Any], n: int, dim: int, dtype: str) -> tuple[Path, Path]:
    """The (.npy, .json sidecar) paths of the entry for `key` with `n` x `dim` `dtype` rows."""
    identity = {"format": FORMAT, "key": key, "n": n, "dim": dim, "dtype": dtype}
    digest = hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:24]
    folder = cache_root() / "embeddings"
    return folder / f"{digest}.npy", folder / f"{digest}.json"


def cached_embeddings(
    key: Mapping[str, Any],
    n: int,
    compute: Callable[[np.ndarray], np.ndarray],
    *,
    dim: int,
    dtype: str = "float16",
    batch: int = 256,
    progress: bool = True,
) -> tuple[np.ndarray, bool]:
    """`n` embeddings of length `dim`, from the cache when `key` was computed before.

    `key` (JSON-serialisable) must hold everything the embeddings depend on: the embedder's
    identity and weights, the data's checksum, versions. `compute(indices)`, given int64 [B]
    row indices (`batch` at a time, in order), returns float32 [B, dim] for those rows; its
    results are stored as `dtype` ("float16" halves the disk and memory, at about 3 significant
    digits).

    Returns (the embeddings: a read-only `np.memmap` of `dtype` [n, dim]; whether they came from
    the cache). An entry whose sidecar is missing, unreadable or names another key, shape or
    dtype, or whose .npy is truncated, is recomputed, never returned; so is one whose bytes no
    longer have the digest they were written with (rows overwritten, zeroed, NaN), with a
    `CacheWarning` naming it, so no NaN the entry picked up reaches a classifier. Where the cache
    folder cannot be written the embeddings are computed and returned as a read-only in-memory
    array. Two processes filling the same entry write the same bytes; the last rename wins.

    Raises ValueError for `n` < 0, `dim` or `batch` < 1, a `dtype` that is not a float type, and
    a `compute` result of another shape or with NaN or infinite values (after the cast: float16
    overflows above 65504); TypeError for a `key` that is not JSON-serialisable.
    """
    if n < 0 or dim < 1 or batch < 1:
        raise ValueError(f"need n >= 0, dim >= 1 and batch >= 1, got {n}, {dim}, {batch}")
    stored = np.dtype(dtype)
    if stored.kind != "f":
        raise ValueError(f"dtype must be a float type such as 'float16', got {dtype!r}")
    key = json.loads(canonical_json(key))  # as the sidecar will read back
    npy, sidecar = entry_paths(key, n, dim, stored.name)
    expected = {"format": FORMAT, "key": key, "n": n, "dim": dim, "dtype": stored.name}
    found = _load(npy, sidecar, expected)
    if found is not None:
        return found, True
    created = _create_temp(npy, stored, (n, dim))
    if created is None:  # a cache that cannot be written only costs the recomputation
        array = np.empty((n, dim), stored)
        _fill(array, compute, batch, progress)
        array.flags.writeable = False
        return array, False
    tmp, array = created
    try:
        digest = _fill(array, compute, batch, progress)
        array.flush()
        del array
        size = os.path.getsize(tmp)
        os.replace(tmp, npy)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # last: without it the entry is unfinished, rebuilt
        write_text_atomic(
            sidecar, json.dumps({**expected, "bytes": size, CHECKSUM: digest, "complete": True})
        )
    _remove_stale_temps(npy)
    return np.load(npy, mmap_mode="r"), False


def _create_temp(
    npy: Path, dtype: np.dtype, shape: tuple[int, int]
) -> tuple[str, np.memmap] | None:
    """A temporary .npy next to `npy`, its blocks reserved (so a full disk fails here, not as a
    crash while the memmap is written), opened as a writable memmap; None when that fails."""
    try:
        npy.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=npy.parent, prefix=f".{npy.stem}.", suffix=".npy.tmp")
        os.close(fd)
    except OSError:
        return None
    try:
        array = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
        if hasattr(os, "posix_fallocate"):
            with open(tmp, "r+b") as fh:
                os.posix_fallocate(fh.fileno(), 0, os.path.getsize(tmp))
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        return None
    return tmp, array


def checksum(array: np.ndarray) -> str:
    """The xxh3-128 hex digest of a C-contiguous array's bytes in memory order (for a memmap,
    one pass over its file). Raises BufferError (numpy: ValueError) for a non-contiguous one."""
    return xxhash.xxh3_128(array).hexdigest()


def _load(npy: Path, sidecar: Path, expected: Mapping[str, Any]) -> np.memmap | None:
    """The entry, opened read-only, when it is whole, matches `expected` and its bytes still
    have the digest they were written with; else None, with a `CacheWarning` where they do not."""
    opened = _open(npy, sidecar, expected)
    if opened is None:
        return None
    array, digest = opened
    if checksum(array) != digest:
        warnings.warn(
            f"embedding cache entry {npy} ({array.shape[0]} x {array.shape[1]} {array.dtype}) "
            f"changed after it was written: its bytes no longer match their {CHECKSUM} digest "
            "(rows overwritten, zeroed or NaN); rebuilding it",
            CacheWarning,
            stacklevel=3,
        )
        return None
    return array


def _open(npy: Path, sidecar: Path, expected: Mapping[str, Any]) -> tuple[np.memmap, str] | None:
    """(The entry opened read-only, the digest its sidecar records) when the sidecar says the
    entry is whole and matches `expected` and the .npy agrees; else None. Reads no rows."""
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("complete") is not True:
            return None
        if not isinstance(meta.get(CHECKSUM), str):  # written before digests were kept
            return None
        if any(canonical_json(meta.get(k)) != canonical_json(v) for k, v in expected.items()):
            return None
        if meta.get("bytes") != npy.stat().st_size:
            return None
        array = np.load(npy, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError):  # missing, unreadable, truncated, not JSON or .npy
        return None
    shape = (expected["n"], expected["dim"])
    if (
        not isinstance(array, np.memmap)
        or array.shape != shape
        or array.dtype != np.dtype(expected["dtype"])
        or not array.flags.c_contiguous
    ):
        return None
    return array, meta[CHECKSUM]


def _fill(
    out: np.ndarray, compute: Callable[[np.ndarray], np.ndarray], batch: int, progress: bool
) -> str:
    """Rows of `out` from `compute`, `batch` at a time, with a progress bar in images; returns
    the `checksum` of what was written, computed batch by batch (no second pass)."""
    n, dim = out.shape
    digest = xxhash.xxh3_128()
    with tqdm(total=n, unit="img", desc="embedding", disable=not progress) as bar:
        for start in range(0, n, batch):
            indices = np.arange(start, min(start + batch, n), dtype=np.int64)
            rows = np.asarray(compute(indices))
            if rows.shape != (len(indices), dim):
                raise ValueError(
                    f"compute returned {rows.shape} for rows {start}..{indices[-1]}, "
                    f"expected {(len(indices), dim)}"
                )
            with np.errstate(over="ignore"):  # reported below
                cast = rows.astype(out.dtype)
            if not np.isfinite(cast).all():
                raise ValueError(
                    f"embeddings of rows {start}..{indices[-1]} hold NaN or infinite values "
                    f"as {out.dtype} (largest magnitude {np.nanmax(np.abs(rows)):.3g})"
                )
            out[start : start + len(indices)] = cast
            digest.update(np.ascontiguousarray(cast))
            bar.update(len(indices))
    return digest.hexdigest()


def _remove_stale_temps(npy: Path) -> None:
    """Delete temporary files of this entry left by writes killed over a day ago."""
    cutoff = time.time() - STALE_TEMP_S
    for path in npy.parent.glob(f".{npy.stem}.*.npy.tmp"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass


def state_digest(module: Any) -> str:
    """16 hex digits identifying a torch module's weights, cheaply: the sha256 of the names,
    shapes and bytes of its state dict's first and last floating-point tensors."""
    floats = [(k, v) for k, v in module.state_dict().items() if v.is_floating_point()]
    digest = hashlib.sha256()
    for name, tensor in floats[:1] + floats[-1:]:
        digest.update(f"{name} {tensor.dtype} {tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]
