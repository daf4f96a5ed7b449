"""Re-running published cells on this machine: which cells, where (never into the published
records), and each re-run value against the same seed's published one, in units of that
method's seed-to-seed standard deviation in that setting.

A record repeats bit for bit only on the processor model that made it (the same spec and seed
give the same run id, counts and floats there); on another model the floating-point training
results move, and through early stopping the epochs and everything downstream of them.
"""

from __future__ import annotations

import random
import secrets
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..types import HitlbenchError
from .bench import CellOutcome, cell_path, run_cells
from .records import MISSING, method_of, number, setting_key, setting_of, summary_value
from .results import read_record
from .spec import device_available
from .suites import SUITE_DIR, Cell, Suite

# Metrics that count the person's actions, or seconds computed from those counts: a re-run that
# took the same decisions has the same values on any machine, so a difference is flagged.
COUNTS = ("total_corrections", "missed_corrections", "label_errors", "effort_s_total")
LEADERBOARDS = "leaderboards"  # the published records, boards and replications


def published_cells(suite: Suite, published: Sequence[Mapping[str, Any]]) -> list[Cell]:
    """The suite's cells, in its order, that have a record among `published` (by run id).

    Raises `HitlbenchError` when none has."""
    run_ids = {r.get("run_id") for r in published}
    cells = [c for c in suite.cells() if c.run_id in run_ids]
    if not cells:
        raise HitlbenchError(f"suite {suite.name!r} has no published records to replicate")
    return cells


def runnable_here(cells: Sequence[Cell]) -> list[Cell]:
    """The cells this machine can run (those that ask for a GPU only where torch sees one)."""
    return [c for c in cells if device_available(c.spec["device"])]


def fresh_seed() -> int:
    """A seed for the draw of cells, from the system's entropy: short enough to type again."""
    return secrets.randbelow(1_000_000)


def draw_cells(cells: Sequence[Cell], n: int, seed: int) -> list[Cell]:
    """`n` of `cells` drawn with `random.Random(seed)`, in the order of `cells`.

    Raises `HitlbenchError` unless 1 <= n <= len(cells)."""
    if not 1 <= n <= len(cells):
        raise HitlbenchError(
            f"cannot draw {n} cells: between 1 and {len(cells)} (the published cells that can "
            "run on this machine)"
        )
    picked = set(random.Random(seed).sample(range(len(cells)), n))
    return [c for i, c in enumerate(cells) if i in picked]


def published_folders() -> list[Path]:
    """The `leaderboards/` folders a replication never writes into: the repository's and the
    one under the working directory (where the commands read published records from)."""
    found = [SUITE_DIR.parent / LEADERBOARDS, Path(LEADERBOARDS)]
    return list(dict.fromkeys(p.resolve() for p in found))


def check_scratch(out_dir: Path) -> None:
    """Refuse (`HitlbenchError`) an output folder inside a `published_folders()` folder."""
    resolved = Path(out_dir).resolve()
    for folder in published_folders():
        if resolved.is_relative_to(folder):
            raise HitlbenchError(
                f"{out_dir} is inside {folder}, which holds the published records and boards; "
                "a replication writes to a scratch folder: give --out a folder outside it"
            )


def rerun(
    cells: Sequence[Cell], suite: Suite, out_dir: Path, *, progress: bool = True
) -> tuple[list[dict], list[CellOutcome]]:
    """Run `cells` of `suite` into `out_dir` (records named by run id, as `bench` writes them)
    with bench's progress bar; returns the records of the cells that ran and the outcomes of
    those that failed, each in the order of `cells`."""
    outcomes = {o.run_id: o for o in run_cells(list(cells), suite, out_dir, progress=progress)}
    failed = [outcomes[c.run_id] for c in cells if outcomes[c.run_id].error]
    records = [read_record(cell_path(out_dir, c)) for c in cells if not outcomes[c.run_id].error]
    return records, failed


def _value(record: Mapping[str, Any], metric: str) -> float | None:
    """`metric` of a record as a float; None where it has none (absent, or a target the run
    never reached)."""
    value = summary_value(record, metric)
    return None if value is MISSING or value is None else number(value, metric)


def seed_sd(
    records: Sequence[Mapping[str, Any]], method: str, setting: str, metric: str
) -> float | None:
    """The standard deviation (n - 1) over seeds of `metric` among `method`'s records in
    `setting` (a `setting_key`); None with fewer than two values."""
    values = [
        v
        for r in records
        if method_of(r) == method and setting_key(r) == setting
        for v in [_value(r, metric)]
        if v is not None
    ]
    return statistics.stdev(values) if len(values) >= 2 else None


@dataclass(frozen=True)
class ValueComparison:
    """One metric of a re-run cell: the published value, the re-run's (None where a record has
    none) and the published seed-to-seed standard deviation of that method in that setting
    (None with fewer than two seeds), all in the metric's units."""

    metric: str
    published: float | None
    rerun: float | None
    seed_sd: float | None

    @property
    def equal(self) -> bool:
        """Bit for bit the same (both None counts as equal)."""
        return self.published == self.rerun

    @property
    def difference(self) -> float | None:
        """Re-run minus published; None where either has no value."""
        if self.published is None or self.rerun is None:
            return None
        return self.rerun - self.published

    @property
    def in_sd(self) -> float | None:
        """The difference in seed-to-seed standard deviations; None where the standard
        deviation is 0 or undefined, or there is no difference to scale."""
        if self.difference is None or not self.seed_sd:
            return None
        return self.difference / self.seed_sd

    @property
    def flagged(self) -> bool:
        """A count (`COUNTS`) that differs: counts are expected equal on any machine."""
        return self.metric in COUNTS and not self.equal


@dataclass(frozen=True)
class CellReplication:
    """A re-run cell: its run id, method, seed and setting, the processor model its published
    record ran on, and each metric's `ValueComparison`."""

    run_id: str
    method: str
    seed: int
    setting: dict[str, Any]
    published_cpu: str | None
    values: list[ValueComparison]


def compare_cell(
    published: Mapping[str, Any],
    rerun_record: Mapping[str, Any],
    peers: Sequence[Mapping[str, Any]],
    metrics: Sequence[str],
) -> CellReplication:
    """The re-run record of a cell against its `published` record on each of `metrics`, the
    standard deviations from `peers` (the published records of the suite)."""
    method, setting = method_of(published), setting_key(published)
    values = [
        ValueComparison(
            m, _value(published, m), _value(rerun_record, m), seed_sd(peers, method, setting, m)
        )
        for m in metrics
    ]
    return CellReplication(
        run_id=str(published["run_id"]),
        method=method,
        seed=int(published["spec"]["seed"]),
        setting=setting_of(published),
        published_cpu=published.get("env", {}).get("cpu"),
        values=values,
    )


def compare_cells(
    published: Sequence[Mapping[str, Any]],
    reruns: Sequence[Mapping[str, Any]],
    metrics: Sequence[str],
) -> list[CellReplication]:
    """Each re-run record against the published record of the same run id (`compare_cell`).

    Raises `HitlbenchError` for a re-run record whose run id has no published record."""
    by_id = {r["run_id"]: r for r in published}
    missing = [r["run_id"] for r in reruns if r["run_id"] not in by_id]
    if missing:
        raise HitlbenchError(f"no published record of run {', '.join(missing)}")
    return [compare_cell(by_id[r["run_id"]], r, published, metrics) for r in reruns]
