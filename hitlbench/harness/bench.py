"""Run a suite's cells: skip finished ones, run the rest serially, in processes or on Ray."""

from __future__ import annotations

import concurrent.futures as futures
import json
import multiprocessing
import queue as queue_module
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.storage import write_json_atomic
from ..types import HitlbenchError
from .results import CODE_PATHS, SCHEMA, git_hash
from .runner import execute
from .spec import device_available, run_id
from .suites import Cell, Suite

EXECUTORS = ("serial", "process", "ray")


@dataclass(frozen=True)
class CellOutcome:
    """What happened to one cell: its record path and the error, if it failed."""

    run_id: str
    method: str
    seed: int
    error: str | None


def cell_path(out_dir: Path, cell: Cell) -> Path:
    return out_dir / f"{cell.run_id}.json"


def is_finished(path: Path) -> bool:
    """A record that exists, parses, and is not a failure (failed cells are retried)."""
    try:
        return "error" not in json.loads(path.read_text())
    except (OSError, ValueError):
        return False


def run_cell(
    spec: dict, suite_block: dict, out_dir: str, events: Any = None
) -> tuple[str | None, str | None]:
    """Worker entry point: run one cell and write its record, or an error record. Never raises.

    Returns (error message, traceback), both None on success.
    """
    rid = run_id(spec)
    out = Path(out_dir)

    def on_round(row: dict) -> None:
        if events is not None:
            events.put((rid, row["round"]))

    try:
        execute(spec, out=out.parent, group=out.name, suite=suite_block, on_round=on_round)
        return None, None
    except Exception as exc:  # a failing cell is recorded and the others go on
        message, trace = f"{type(exc).__name__}: {exc}", traceback.format_exc()
        record = {"schema": SCHEMA, "run_id": rid, "spec": spec, "suite": suite_block,
                  "error": message, "traceback": trace}  # fmt: skip
        write_json_atomic(out / f"{rid}.json", record)
        return message, trace


def _remove_stale_temp_files(out_dir: Path) -> None:
    for tmp in out_dir.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


def run_suite(
    suite: Suite,
    out_dir: Path,
    *,
    executor: str = "serial",
    jobs: int = 1,
    address: str | None = None,
    force: bool = False,
    progress: bool = True,
    allow_dirty: bool = False,
) -> list[CellOutcome]:
    """Run every cell whose record is missing (all with `force`); returns the outcomes run now.

    Refuses (`HitlbenchError`) to run from a git checkout whose package, pyproject.toml or suite
    files have uncommitted changes, whose records no commit could reproduce, unless
    `allow_dirty` (the records then say `-dirty`, and the leaderboard marks them).
    """
    if not allow_dirty and (git_hash() or "").endswith("-dirty"):
        raise HitlbenchError(
            f"the checkout has uncommitted changes in {', '.join(CODE_PATHS)}, so no commit "
            "would hold the code these records ran; commit first, or pass --allow-dirty (the "
            "leaderboard marks such records)"
        )
    if executor not in EXECUTORS:
        raise HitlbenchError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if jobs < 1:
        raise HitlbenchError(f"jobs must be >= 1, got {jobs}")
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_files(out_dir)
    cells = suite.cells()
    current = {cell_path(out_dir, c).name for c in cells}
    stale = sorted(p.name for p in out_dir.glob("*.json") if p.name not in current)
    if stale:
        print(
            f"suite {suite.name}: {len(stale)} record(s) in {out_dir} belong to no cell of the "
            f"suite as it is now (a changed spec or default); remove them before publishing: "
            f"{', '.join(stale[:5])}{' ...' if len(stale) > 5 else ''}",
            file=sys.stderr,
        )
    todo = [c for c in cells if force or not is_finished(cell_path(out_dir, c))]
    done = len(cells) - len(todo)
    runnable = [c for c in todo if device_available(c.spec["device"])]
    if len(runnable) < len(todo):
        print(
            f"suite {suite.name}: {len(todo) - len(runnable)} cell(s) need a GPU, which this "
            f"machine lacks; skipped (run the suite again where torch sees one)",
            file=sys.stderr,
        )
    todo = runnable
    print(
        f"suite {suite.name}: {len(cells)} cells, {done} already done, "
        f"{len(todo)} to run ({executor}, jobs={jobs}); records in {out_dir}",
        file=sys.stderr,
        flush=True,
    )
    if not todo:
        return []
    return run_cells(
        todo, suite, out_dir, executor=executor, jobs=jobs, address=address, progress=progress
    )


def run_cells(
    cells: list[Cell],
    suite: Suite,
    out_dir: Path,
    *,
    executor: str = "serial",
    jobs: int = 1,
    address: str | None = None,
    progress: bool = True,
) -> list[CellOutcome]:
    """Run `cells` of `suite` into `out_dir` whether or not they have records there, with a
    progress bar (cells done with their ETA, the round of the cell that reported last); a
    failing cell is recorded and the others go on. Returns the outcomes in the order the cells
    finished. `executor` is one of `EXECUTORS` and `jobs` at least 1 (`run_suite` checks both)."""
    tracker = _Progress(len(cells), enabled=progress)
    run = {"serial": _serial, "process": _processes, "ray": _ray}[executor]
    try:
        return run(cells, suite, out_dir, jobs=jobs, address=address, tracker=tracker)
    finally:
        tracker.close()


class _Progress:
    """Cells done / total with an ETA, and the round of the cell that reported last."""

    def __init__(self, total: int, enabled: bool):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="cell", disable=not enabled, file=sys.stderr)

    def round_done(self, rid: str, round_index: int) -> None:
        self.bar.set_postfix_str(f"cell {rid[:8]} round {round_index + 1}")

    def cell_done(self, outcome: CellOutcome) -> None:
        if outcome.error:
            self.bar.write(
                f"FAILED {outcome.method} seed {outcome.seed} ({outcome.run_id}): {outcome.error}"
            )
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def _outcome(cell: Cell, error: str | None) -> CellOutcome:
    return CellOutcome(cell.run_id, cell.method, cell.seed, error)


class _DirectEvents:
    def __init__(self, tracker: _Progress):
        self.tracker = tracker

    def put(self, event: tuple[str, int]) -> None:
        self.tracker.round_done(*event)


def _serial(cells, suite, out_dir, *, jobs, address, tracker) -> list[CellOutcome]:
    outcomes = []
    for cell in cells:
        error, _ = run_cell(
            cell.spec, cell.suite_block(suite), str(out_dir), _DirectEvents(tracker)
        )
        outcomes.append(_outcome(cell, error))
        tracker.cell_done(outcomes[-1])
    return outcomes


def _drain(events, tracker: _Progress) -> None:
    while True:
        try:
            tracker.round_done(*events.get_nowait())
        except queue_module.Empty:
            return


def _processes(cells, suite, out_dir, *, jobs, address, tracker) -> list[CellOutcome]:
    context = multiprocessing.get_context("spawn")  # torch and fork do not mix
    with (
        context.Manager() as manager,
        futures.ProcessPoolExecutor(jobs, mp_context=context) as pool,
    ):
        events = manager.Queue()
        pending = {
            pool.submit(run_cell, c.spec, c.suite_block(suite), str(out_dir), events): c
            for c in cells
        }
        return _collect(pending, tracker, lambda: _drain(events, tracker), _future_result)


def _future_result(future: futures.Future) -> str | None:
    try:
        return future.result()[0]
    except Exception as exc:  # the worker process itself died
        return f"{type(exc).__name__}: {exc}"


def _collect(
    pending: dict, tracker: _Progress, poll: Callable[[], None], result: Callable[[Any], str | None]
) -> list[CellOutcome]:
    outcomes = []
    waiting = set(pending)
    while waiting:
        done, waiting = futures.wait(waiting, timeout=0.5, return_when=futures.FIRST_COMPLETED)
        poll()
        for future in done:
            outcomes.append(_outcome(pending[future], result(future)))
            tracker.cell_done(outcomes[-1])
    return outcomes


def _ray(cells, suite, out_dir, *, jobs, address, tracker) -> list[CellOutcome]:
    try:
        import ray
    except ImportError as exc:
        raise HitlbenchError("the Ray executor needs Ray: pip install 'hitlbench[ray]'") from exc
    started_here = not ray.is_initialized()
    if started_here:
        cpus = jobs * max(c.spec["threads"] for c in cells)  # `jobs` cells at a time
        ray.init(address=address, num_cpus=None if address else cpus, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)  # fmt: skip
    try:
        remote = ray.remote(run_cell)
        refs = {}
        for cell in cells:
            options = remote.options(num_cpus=cell.spec["threads"], max_retries=0)
            refs[options.remote(cell.spec, cell.suite_block(suite), str(out_dir))] = cell
        outcomes = []
        waiting = list(refs)
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1, timeout=None)
            for ref in done:
                try:
                    error = ray.get(ref)[0]
                except Exception as exc:  # the task itself was lost
                    error = f"{type(exc).__name__}: {exc}"
                outcomes.append(_outcome(refs[ref], error))
                tracker.cell_done(outcomes[-1])
        return outcomes
    finally:
        if started_here:
            ray.shutdown()
