"""Seconds per action: a documented, configurable table that turns effort counts into time.

Every default names the text it comes from (`SOURCES`, read for this table), or says it is an
assumption; an assumption's break-even is shown wherever an effort verdict depends on it
(`UNSOURCED`: `hitlbench.publish.comparisons`, and `hitlbench plot` sweeps it). Override any
of them with `--set effort.<action>=<seconds>`; docs/concepts.md shows the table.
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
# Where each default comes from: a text read for this table, or "Assumption: ..." (`UNSOURCED`).
SOURCES: dict[str, str] = {
    Action.LABEL_SCRATCH.value: (
        "Assumption: about 1 s per class considered, 10 classes as in Fashion-MNIST (Bearman "
        "et al. 2016 are quoted for 1 s per class; no text of theirs was found to confirm it)."
    ),
    Action.LABEL_CORRECT.value: (
        "Assumption: a wrong proposal is rejected and the right class chosen as from scratch."
    ),
    Action.LABEL_ACCEPT.value: (
        'Stretcu et al. 2023 (Agile Modeling), section 3: "The median time for our domain '
        'experts to rate a single image was 1.7 ± 0.5 seconds" (a positive/negative rating).'
    ),
    Action.RATING.value: "Stretcu et al. 2023, section 3: the same 1.7 ± 0.5 s median rating.",
    Action.BOX_DRAW.value: (
        'Papadopoulos et al. 2017 (extreme clicking), abstract: "annotation time is only 7s '
        "per box\", against 35 s for one high-quality ILSVRC box (Su et al. 2012's protocol)."
    ),
    Action.BOX_CORRECT.value: "Assumption: adjusting a proposed box, taken as half a drawn one.",
    Action.REGION_MASK.value: (
        "Assumption: a coarse scribble over a region; a full polygon costs 79 s per object "
        "(Lin et al. 2014, COCO)."
    ),
    Action.LABEL_UNSURE.value: (
        "Assumption: a look at the image and one click, as accepting a label."
    ),
    Action.BOX_VERIFY.value: (
        "Konyushkova et al. 2018 (Learning intelligent dialogs for bounding box annotation), "
        "their released simulation (google/intelligent_annotation_dialogs): time_verify = 1.8 "
        "s for a yes/no box verification, against 7 s or 25 s to draw a box."
    ),
}
UNSOURCED = tuple(a for a, source in SOURCES.items() if source.startswith("Assumption"))
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
