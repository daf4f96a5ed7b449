"""Replicating a suite's published cells on this machine (`hitlbench replicate`): re-run them
into a scratch folder, compare each value with the same seed's published one
(`harness.replicate`), and list the verdicts that would change with the re-run records in place
of the published ones (`verdict_changes`). A replication's summary is a JSON file; published
under `leaderboards/replications/<suite>.json`, the suite's leaderboard cites it.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import __version__
from ..core.storage import loads_finite, write_json_atomic
from ..harness.bench import CellOutcome
from ..harness.questions import Questions
from ..harness.records import LeaderboardError, load_records, setting_text
from ..harness.replicate import (
    CellReplication,
    ValueComparison,
    check_scratch,
    compare_cells,
    draw_cells,
    fresh_seed,
    published_cells,
    rerun,
    runnable_here,
)
from ..harness.results import cpu_model, git_hash
from ..harness.suites import Cell, Suite
from ..types import HitlbenchError
from .comparisons import DASH
from .leaderboard import build, suite_options
from .markdown_tables import github_table
from .verdict_changes import VerdictDiff, board_verdicts, verdict_diff


@dataclass(frozen=True)
class Replication:
    """What a replication found: the suite, the machine and code it ran on (processor model,
    UTC date, git hash, hitlbench version), the seed of the draw (None when every cell was
    re-run), each re-run cell's comparison, the cells that failed, the verdicts that would
    change, and where its records and summary are."""

    suite: str
    cpu: str | None
    date: str
    git: str | None
    hitlbench: str
    seed: int | None
    cells: list[CellReplication]
    failed: list[CellOutcome]
    verdicts: VerdictDiff
    records_dir: Path
    summary_path: Path


def replaced(
    published: Sequence[Mapping[str, Any]], reruns: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The published records with each re-run record in place of the one of its run id."""
    by_id = {r["run_id"]: r for r in reruns}
    return [by_id.get(r["run_id"], r) for r in published]


def verdicts_of(records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]) -> dict[str, str]:
    """The verdicts (`verdict_changes.board_verdicts`) of the leaderboard of `records` built with
    `options` (`leaderboard.build`'s, e.g. `suite_options(suite)`). Raises `LeaderboardError`
    where the records make no leaderboard."""
    questions = options.get("questions") or Questions()
    return board_verdicts(build(records, **options), questions, options["baseline"])


def _chosen(
    suite: Suite, published: Sequence[Mapping[str, Any]], n: int | None, seed: int | None
) -> list[Cell]:
    """The published cells this machine can run: all of them when `n` is None, else `n` drawn
    with `seed` (`draw_cells`)."""
    cells = published_cells(suite, published)
    here = runnable_here(cells)
    if len(here) < len(cells):
        print(
            f"replicate {suite.name}: {len(cells) - len(here)} published cell(s) need a GPU, "
            "which this machine lacks; left out",
            file=sys.stderr,
        )
    return here if n is None else draw_cells(here, n, seed)


def _header(suite: str, cells: Sequence[Cell], seed: int | None, records_dir: Path) -> str:
    """What is about to run, where, and the seed that repeats the draw."""
    drawn = (
        "every published cell"
        if seed is None
        else f"drawn with random.Random({seed}); --seed {seed} repeats the draw"
    )
    return (
        f"replicate {suite}: {len(cells)} cells ({drawn}) on {cpu_model() or 'unknown'}; "
        f"records in {records_dir}"
    )


def replicate(
    suite: Suite,
    records_dir: Path,
    *,
    n: int | None = None,
    seed: int | None = None,
    out_dir: Path | None = None,
    progress: bool = True,
) -> Replication:
    """Re-run `n` of the suite's published cells (those with a record in `records_dir`) drawn
    with `random.Random(seed)` (a `fresh_seed()` when None, printed so that the draw can be
    repeated), or all of them when `n` is None, into `out_dir/<suite>/` (a new
    temporary folder when None), compare them with the published records, recompute the
    verdicts, and write the summary (`summary`) to `out_dir/<suite>.replication.json`.

    Raises `HitlbenchError` for an `out_dir` inside the published `leaderboards/`, a suite with
    no published records, `n` outside 1 .. the published cells this machine can run, and
    records that make no leaderboard (checked before any cell runs)."""
    seed = None if n is None else (fresh_seed() if seed is None else seed)
    if out_dir is not None:
        check_scratch(out_dir)
    published = load_records(records_dir)
    cells = _chosen(suite, published, n, seed)
    options = suite_options(suite)
    before = verdicts_of(published, options)  # refuses records that make no board before a run
    out_dir = out_dir or Path(tempfile.mkdtemp(prefix=f"hitlbench-replicate-{suite.name}-"))
    print(_header(suite.name, cells, seed, out_dir / suite.name), flush=True)
    reruns, failed = rerun(cells, suite, out_dir / suite.name, progress=progress)
    result = Replication(
        suite=suite.name,
        cpu=cpu_model(),
        date=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        git=git_hash(),
        hitlbench=__version__,
        seed=seed,
        cells=compare_cells(published, reruns, suite.metrics),
        failed=failed,
        verdicts=verdict_diff(before, verdicts_of(replaced(published, reruns), options)),
        records_dir=out_dir / suite.name,
        summary_path=out_dir / f"{suite.name}.replication.json",
    )
    write_json_atomic(result.summary_path, summary(result))
    return result


def _cell_summary(cell: CellReplication) -> dict[str, Any]:
    values = {
        v.metric: {
            "published": v.published,
            "rerun": v.rerun,
            "seed_sd": v.seed_sd,
            "equal": v.equal,
            "flagged": v.flagged,
        }
        for v in cell.values
    }
    return {
        "run_id": cell.run_id,
        "method": cell.method,
        "seed": cell.seed,
        "setting": cell.setting,
        "published_cpu": cell.published_cpu,
        "values": values,
    }


def summary(result: Replication) -> dict[str, Any]:
    """The replication as JSON: processor model, UTC date, git hash, the cells re-run (their
    count and each one's values), the cells that failed, the verdicts compared and those that
    would change with their list."""
    return {
        "suite": result.suite,
        "cpu": result.cpu,
        "date": result.date,
        "git": result.git,
        "hitlbench": result.hitlbench,
        "seed": result.seed,
        "cells_rerun": len(result.cells),
        "cells": [_cell_summary(c) for c in result.cells],
        "failed": [
            {"run_id": o.run_id, "method": o.method, "seed": o.seed, "error": o.error}
            for o in result.failed
        ],
        "verdicts_compared": result.verdicts.compared,
        "verdicts_changed": len(result.verdicts.changes),
        "changes": [
            {"verdict": c.verdict, "published": c.before, "replicated": c.after}
            for c in result.verdicts.changes
        ],
    }


def _number(value: float | None) -> str:
    return DASH if value is None else f"{value:.6g}"


def _difference(v: ValueComparison) -> str:
    if v.equal:
        return "0"
    return DASH if v.difference is None else f"{v.difference:+.4g}"


def _in_sd(v: ValueComparison) -> str:
    if v.seed_sd is None or v.seed_sd == 0:
        return DASH
    return "0" if v.equal else (DASH if v.in_sd is None else f"{v.in_sd:+.2f}")


def cell_lines(cell: CellReplication) -> list[str]:
    """A re-run cell as a heading and a table: per metric the published and re-run values, the
    difference, and the difference in seed-to-seed standard deviations (– where that is 0 or
    undefined); counts that differ flagged."""
    rows = [
        [v.metric, _number(v.published), _number(v.rerun), _difference(v), _in_sd(v),
         "COUNT DIFFERS" if v.flagged else ""]
        for v in cell.values
    ]  # fmt: skip
    where = setting_text(cell.setting)
    heading = (
        f"{cell.method} seed {cell.seed}{f' ({where})' if where else ''}, run {cell.run_id[:12]}, "
        f"published on {cell.published_cpu or 'unknown'}:"
    )
    headers = ["metric", "published", "re-run", "Δ", "Δ / seed sd", "flag"]
    return [heading, github_table(headers, rows), ""]


def report_lines(result: Replication) -> list[str]:
    """The replication as text: each re-run cell's table, the values that are equal and the
    counts that differ, the cells that failed, and every verdict that would change (or "no
    verdict would change"), then where the summary is."""
    lines = [line for cell in result.cells for line in cell_lines(cell)]
    values = [v for cell in result.cells for v in cell.values]
    flagged = sum(v.flagged for v in values)
    lines.append(
        f"{len(result.cells)} cells re-run on {result.cpu or 'unknown'}: "
        f"{sum(v.equal for v in values)} of {len(values)} values equal to the published ones; "
        f"counts that differ: {flagged or 'none'}"
    )
    lines += [f"FAILED: {o.method} seed {o.seed} ({o.run_id}): {o.error}" for o in result.failed]
    diff = result.verdicts
    lines.append(
        f"verdicts with the {len(result.cells)} re-run records in place of the published ones: "
        f"{diff.compared} compared"
    )
    if diff.changes:
        lines.append(f"{len(diff.changes)} would change:")
        lines += [f"- {c.verdict}: {c.before} -> {c.after}" for c in diff.changes]
    else:
        lines.append("no verdict would change")
    return [*lines, f"summary: {result.summary_path}"]


def check_committed(git: str | None) -> None:
    """Refuse (`HitlbenchError`) to publish a replication whose code (`results.git_hash`) had
    uncommitted changes: no commit would hold the code that re-ran the cells."""
    if (git or "").endswith("-dirty"):
        raise HitlbenchError(
            "not published: the checkout has uncommitted changes, so no commit holds the code "
            "that re-runs the cells; commit first"
        )


def publish(result: Replication, folder: Path) -> Path:
    """Write the replication's summary to `folder/<suite>.json`, where the suite's leaderboard
    finds it (`published_summary`); raises `HitlbenchError` when cells failed or the code had
    uncommitted changes (`check_committed`)."""
    if result.failed:
        raise HitlbenchError(f"not published: {len(result.failed)} cell(s) failed to re-run")
    check_committed(result.git)
    return write_json_atomic(folder / f"{result.suite}.json", summary(result))


def published_summary(folder: Path, suite: str) -> dict[str, Any] | None:
    """The published replication of `suite` (`folder/<suite>.json`), None where there is none.

    Raises `LeaderboardError` naming the file when it cannot be read or is not a replication's
    summary."""
    path = Path(folder) / f"{suite}.json"
    if not path.exists():
        return None
    try:
        found = loads_finite(path.read_text())
    except (OSError, ValueError) as exc:
        raise LeaderboardError(f"cannot read the replication {path}: {exc}") from exc
    needed = {"cpu", "date", "cells_rerun", "verdicts_changed"}
    if not isinstance(found, dict) or not needed <= set(found):
        raise LeaderboardError(f"{path} is not a replication's summary (needs {sorted(needed)})")
    return found
