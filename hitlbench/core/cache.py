"""An on-disk cache for artefacts that several cells share, keyed by what determines them."""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .storage import canonical_json


class CacheWarning(UserWarning):
    """A cache entry that was there but cannot be trusted (changed or damaged); it is rebuilt."""


def cache_root() -> Path:
    """`$HITLBENCH_CACHE`, else `$XDG_CACHE_HOME/hitlbench/artifacts` (default ~/.cache)."""
    if os.environ.get("HITLBENCH_CACHE"):
        return Path(os.environ["HITLBENCH_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hitlbench" / "artifacts"


def cached_arrays(
    kind: str, key: Mapping[str, Any], compute: Callable[[], Mapping[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Arrays from the cache when `key` was computed before, else `compute()` them and store them.

    `key` must hold everything the arrays depend on (input checksums, parameters, versions).
    A file that cannot be read, or whose bytes changed after they were written (the zip
    format's CRC-32 of each array no longer matches), is recomputed with a `CacheWarning`
    naming it; writes are atomic, so parallel cells never see half a file, and two cells racing
    to fill the same entry write the same bytes.
    """
    digest = hashlib.sha256(canonical_json({"kind": kind, **key}).encode()).hexdigest()[:24]
    path = cache_root() / kind / f"{digest}.npz"
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except FileNotFoundError:
        pass
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        warnings.warn(
            f"cache entry {path} cannot be read or changed after it was written ({exc}); "
            "rebuilding it",
            CacheWarning,
            stacklevel=2,
        )
    arrays = {name: np.asarray(a) for name, a in compute().items()}
    _store(path, arrays)
    return arrays


def _store(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write atomically; a cache that cannot be written only costs time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
