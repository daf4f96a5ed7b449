"""Run records on disk: where they go, how they are read, and the environment they carry
(DESIGN §5); canonical JSON and atomic writes are `hitlbench.core.storage`'s."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..core.storage import canonical_json as canonical_json  # re-exported: records' old path
from ..core.storage import loads_finite
from ..core.storage import spec_hash as spec_hash
from ..core.storage import write_json_atomic as write_json_atomic
from ..core.storage import write_text_atomic as write_text_atomic

SCHEMA = 1


def record_path(out: str | os.PathLike, group: str, rid: str) -> Path:
    """`<out>/<suite or "runs">/<run_id>.json`."""
    return Path(out) / group / f"{rid}.json"


def read_record(path: str | os.PathLike) -> dict:
    """The JSON of a record file; OSError when unreadable, ValueError when it is not JSON or
    holds NaN or an infinity (`storage.NonFiniteError`, naming the field)."""
    return loads_finite(Path(path).read_text())


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
    root = Path(__file__).resolve().parents[2]
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

    from .. import __version__

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
