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


def non_finite(obj: Any, where: str = "") -> str | None:
    """Where in `obj` the first NaN or infinity is ("rounds[2].metrics.accuracy"), or None."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return where or "the top level"
    items = (
        obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    )
    for key, value in items:
        found = non_finite(
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
            f"{path}: not written: {non_finite(payload)} is not a finite number, which JSON "
            "cannot hold"
        ) from None
    return write_text_atomic(path, text + "\n")


class NonFiniteError(ValueError):
    """JSON text holding NaN or an infinity, which hitlbench never writes (`write_json_atomic`)."""


def loads_finite(text: str) -> Any:
    """JSON text as Python objects, refusing what Python's `json` reads but JSON does not have:
    NaN, Infinity, -Infinity and numbers too large for a float (1e999).

    Raises `NonFiniteError` (a ValueError) naming the first such number's place, e.g.
    "summary.final_accuracy is NaN, not a finite number"; `json.JSONDecodeError` (a ValueError)
    for text that is not JSON."""
    found: list[str] = []

    def number(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            found.append(literal)
        return value

    obj = json.loads(text, parse_float=number, parse_constant=number)
    if found:  # only then walk the whole tree, to name the field
        raise NonFiniteError(f"{non_finite(obj)} is {found[0]}, not a finite number")
    return obj


def cannot_write(what: str, path: str | os.PathLike, exc: OSError) -> HitlbenchError:
    """One line for an output that could not be written: `what` ("the leaderboard"), the path
    asked for, and what the system said about which file. A temporary sibling of `path` (a dot
    name starting ".<name>.", as `write_text_atomic` and the site build make) is reported as
    the folder it was to be made in, since that folder is what cannot be written."""
    path = Path(path)
    where = exc.filename2 or exc.filename
    if where is not None:
        where = Path(os.fsdecode(where))
        beside = Path(os.path.abspath(where)).parent == Path(os.path.abspath(path)).parent
        if beside and where.name.startswith(f".{path.name}."):
            where = where.parent
    reason = exc.strerror or str(exc)
    if where is None or where == path:
        return HitlbenchError(f"cannot write {what} to {path}: {reason}")
    return HitlbenchError(f"cannot write {what} to {path}: {where}: {reason}")
