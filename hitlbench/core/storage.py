"""Canonical JSON and atomic writes: how every file hitlbench writes reaches the disk."""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from ..types import HitlbenchError


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def spec_hash(spec: Any) -> str:
    """16 hex digits of the sha256 of the canonical JSON of `spec` (see `spec.run_id`)."""
    return hashlib.sha256(canonical_json(spec).encode()).hexdigest()[:16]


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write via a temp file in the same folder and rename, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _non_finite(obj: Any, where: str = "") -> str | None:
    """Where in `obj` the first NaN or infinity is ("rounds[2].metrics.accuracy"), or None."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return where or "the top level"
    items = (
        obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    )
    for key, value in items:
        found = _non_finite(
            value, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}".lstrip(".")
        )
        if found:
            return found
    return None


def write_json_atomic(path: str | os.PathLike, payload: Any) -> Path:
    """Strict JSON (no NaN or Infinity, which JSON does not have), written atomically.

    Raises `HitlbenchError` naming the first non-finite number; nothing is written then.
    """
    try:
        text = json.dumps(payload, indent=1, allow_nan=False)
    except ValueError:
        raise HitlbenchError(
            f"{path}: not written: {_non_finite(payload)} is not a finite number, which JSON "
            "cannot hold"
        ) from None
    return write_text_atomic(path, text + "\n")
