"""The human-in-the-loop protocol of DESIGN §1, round after round: select, propose, review,
(labeled += review), update, fit, evaluate, then the round's row.

The steps live in `steps.RoundSteps`, what they hand on in `step_results`, what the rounds
carry in `state.LoopState`, and the row in `round_row`; a new step is one method there and one
line in `run_round`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..data.base import SplitData
from .error_analysis import ErrorCounts
from .parts import Components, LoopRngs, LoopSettings
from .round_row import round_row
from .state import LoopState
from .step_results import RoundResult
from .steps import RoundSteps


@contextmanager
def _timed(times: dict[str, float], phase: str) -> Iterator[None]:
    """Adds the seconds the block took to `times[phase]` (records keep them under `time_s`)."""
    start = time.perf_counter()
    yield
    times[phase] = round(time.perf_counter() - start, 4)


def run_round(steps: RoundSteps, state: LoopState, index: int, rngs: LoopRngs) -> RoundResult:
    """One round, step by step; `state` takes the person's review before the updates."""
    times: dict[str, float] = {}
    with _timed(times, "select"):
        selection = steps.select(state, index, rngs)
    with _timed(times, "propose"):
        proposed = steps.propose(selection, index)
    if proposed.proposal is not None:  # a labeler's latency per item (timings stay in time_s)
        times["propose_per_item"] = round(times["propose"] / len(selection.items), 6)
    with _timed(times, "review"):
        reviewed = steps.review(selection, proposed, index, rngs.oracle)
    state.take(selection, reviewed, steps.parts.oracle, index)
    with _timed(times, "update"):
        steps.update(state, index)
    with _timed(times, "fit"):
        report = steps.fit(state, index, rngs.fit)
    with _timed(times, "evaluate"):
        evaluation = steps.evaluate(index)
    state.errors.set_holdout(steps.data.labels[steps.split.holdout], evaluation.predicted)
    return RoundResult(index, selection, proposed, reviewed, report, evaluation, times)


def run_loop(
    split: SplitData,
    parts: Components,
    settings: LoopSettings,
    rngs: LoopRngs,
    on_round: Callable[[dict], None] | None = None,
) -> tuple[list[dict], ErrorCounts]:
    """Run rounds until the pool or the round budget is exhausted: one row per round, and the
    counts of the run's error analysis."""
    steps = RoundSteps(split, parts, settings)
    data = split.data
    state = LoopState.start(split.pool, steps.task.n_classes, data.images.shape[2:])
    pool_labels = data.labels[split.pool]  # the class shares an order's labels are held against
    rows: list[dict] = []
    while len(state.pool) and (settings.rounds is None or len(rows) < settings.rounds):
        result = run_round(steps, state, len(rows), rngs)
        rows.append(round_row(result, state, data, pool_labels))
        if on_round is not None:
            on_round(rows[-1])
    return rows, state.errors
