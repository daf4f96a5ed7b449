"""Run records: identity from the canonical spec, environment, atomic JSON files (DESIGN §5)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .types import HitlbenchError

SCHEMA = 1


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def spec_hash(spec: Any) -> str:
    """16 hex digits of the sha256 of the canonical JSON of `spec` (see `spec.run_id`)."""
    return hashlib.sha256(canonical_json(spec).encode()).hexdigest()[:16]


def record_path(out: str | os.PathLike, group: str, rid: str) -> Path:
    """`<out>/<suite or "runs">/<run_id>.json`."""
    return Path(out) / group / f"{rid}.json"


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


def read_record(path: str | os.PathLike) -> dict:
    with open(path) as fh:
        return json.load(fh)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10
    )


CODE_PATHS = ("hitlbench", "pyproject.toml", "benchmarks/*.yaml")  # what decides a record


def git_hash() -> str | None:
    """The commit of the hitlbench checkout, suffixed -dirty when the code that decides results
    (the package, pyproject.toml and the suite files) has uncommitted changes; records and
    leaderboards that a run itself writes do not count. None outside a git checkout (an
    installed package)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        head = _git(root, "rev-parse", "HEAD")
        changed = _git(root, "diff", "--quiet", "HEAD", "--", *CODE_PATHS)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0 or not head.stdout.strip():
        return None
    return head.stdout.strip() + ("-dirty" if changed.returncode == 1 else "")


def cpu_model() -> str | None:
    """The processor's model name (Linux's /proc/cpuinfo), else what `platform` knows: CPU
    results repeat exactly only on the same kind of processor."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def environment(device: str) -> dict[str, Any]:
    import numpy
    import torch

    from . import __version__

    return {
        "hitlbench": __version__,
        "git": git_hash(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "device": device,
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
