"""Seconds per action: a documented, configurable table that turns effort counts into time.

Defaults and where they come from (override any of them with `--set effort.<action>=<seconds>`):

| action | s | source |
|---|---|---|
| label_scratch | 10.0 | Bearman et al. 2016 ("What's the point"): an image-level label costs about 1 s per class considered; 10 classes as in Fashion-MNIST. |
| label_correct | 10.0 | No direct source: a wrong proposal is rejected and the right class chosen as from scratch. |
| label_accept | 1.7 | Stretcu et al. 2023 (Agile Modeling): median 1.7 s for an expert to confirm or reject one image. |
| rating | 1.7 | Stretcu et al. 2023, the same binary rating. |
| box_draw | 7.0 | Papadopoulos et al. 2017 (extreme clicking): 7.0 s per box (34.5 s with Su et al.'s 2012 drawing and verification protocol). |
| box_correct | 3.5 | No direct source: adjusting a proposed box, taken as half a drawn one. |
| region_mask | 10.0 | No direct source: a coarse scribble over a region; full polygons cost 79 s per object (Lin et al. 2014, COCO). |
| label_unsure | 1.7 | No source; assumption: a look at the image and one click, as accepting a label (Stretcu et al. 2023's 1.7 s). |
| box_verify | 1.8 | Assumption: one yes/no look at a proposed box; Papadopoulos et al. 2016 ("We don't need no bounding-boxes") made box verification their cheap yes/no question, against 7 s to draw a box. Unchecked against their measured time, so it is treated as unsourced. |
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field

from ..types import Action, Effort, HitlbenchError
from .params import check_value

Seconds = Annotated[float, Field(ge=0)]

DEFAULT_SECONDS: dict[str, float] = {
    Action.LABEL_SCRATCH.value: 10.0,
    Action.LABEL_CORRECT.value: 10.0,
    Action.LABEL_ACCEPT.value: 1.7,
    Action.RATING.value: 1.7,
    Action.BOX_DRAW.value: 7.0,
    Action.BOX_CORRECT.value: 3.5,
    Action.REGION_MASK.value: 10.0,
    Action.LABEL_UNSURE.value: 1.7,
    Action.BOX_VERIFY.value: 1.8,
}
# The entries the table above gives with "No direct source": effort verdicts carry the unit cost
# of each at which they would flip (`hitlbench.publish.comparisons`), and `hitlbench plot` sweeps them.
UNSOURCED = (
    Action.LABEL_CORRECT.value,
    Action.BOX_CORRECT.value,
    Action.REGION_MASK.value,
    Action.LABEL_UNSURE.value,
    Action.BOX_VERIFY.value,
)
# Actions added to the table after records were published, with the seconds that reproduce the
# old totals (a new action's count is zero in every old run): left out of a run's identity while
# the table holds that value (docs/concepts.md, "Run identity"). `box_verify` is counted only where
# a detector proposes boxes to a person; the published runs that had such proposals (holmes2023)
# were re-run after it was added.
ADDED_ACTIONS: dict[str, float] = {Action.LABEL_UNSURE.value: 1.7, Action.BOX_VERIFY.value: 1.8}


def seconds_table(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The default table with `overrides` applied; unknown actions, and times that are not a
    finite number of seconds >= 0 (a bool included), are refused."""
    table = dict(DEFAULT_SECONDS)
    for action, seconds in (overrides or {}).items():
        if action not in table:
            raise HitlbenchError(
                f"effort.{action}: unknown action; the actions are {', '.join(table)}"
            )
        check_value(f"effort.{action}", seconds, Seconds, "a finite number of seconds >= 0")
        table[action] = float(seconds)
    return table


# the actions of one label answer, with or without a proposal
LABEL_ACTIONS = (Action.LABEL_SCRATCH.value, Action.LABEL_CORRECT.value, Action.LABEL_ACCEPT.value)


def as_ratings(counts: Mapping[str, int]) -> dict[str, int]:
    """`counts` with every label action booked as a `rating`: on a two-class concept task each
    answer is one yes/no rating, whether or not a proposal was shown (Stretcu et al. 2023)."""
    ratings = sum(counts.get(a, 0) for a in LABEL_ACTIONS) + counts.get(Action.RATING.value, 0)
    out = {a: n for a, n in counts.items() if a not in LABEL_ACTIONS and a != Action.RATING.value}
    return Effort({**out, Action.RATING.value: ratings}).as_dict()


def to_seconds(counts: Mapping[str, int], table: Mapping[str, float]) -> float:
    """Total seconds for effort `counts` under `table`."""
    return float(sum(table[action] * n for action, n in counts.items()))
