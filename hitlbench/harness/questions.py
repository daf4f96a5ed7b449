"""What a suite asks, stated before it runs: the equivalence margin of each metric it draws
verdicts on, with its reason; the paper's claims, each a contrast with the effect the paper
reports; the positive control that shows the suite could see a difference at all; and what
kind of evidence it is (the paper's own data, an analogue, a check of the pipeline, ...).

Validation is pydantic's; a malformed entry is refused in one line naming the suite and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..types import HitlbenchError

# What a suite's evidence is; the site's index says it beside every suite.
Kind = Literal["paper's data", "analogue", "stress test", "sweep", "pipeline check"]
KINDS = get_args(Kind)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Margin(_Strict):
    """A metric's TOST margin in the metric's own units (None: no equivalence question on it),
    and why that size: the paper's effect, a unit cost, a resolution."""

    value: float | None = Field(ge=0, allow_inf_nan=False)
    reason: str = Field(min_length=1)


class _InSettings(_Strict):
    """An entry that holds in the settings (grid points) with these grid values; in every
    setting when `setting` is empty."""

    setting: dict[str, Any] = Field(default_factory=dict)

    def applies(self, setting: Mapping[str, Any]) -> bool:
        """Whether the entry holds in a setting (a grid point)."""
        return all(setting.get(k) == v for k, v in self.setting.items())


class Claim(_InSettings):
    """One of the paper's findings as a contrast: `method` - `reference` on `metric`, with the
    effect the paper reports in the metric's units (signed; 0 for a finding that the two are
    alike, which the metric's margin then bounds) and where that number comes from."""

    method: str
    reference: str
    metric: str
    effect: float = Field(allow_inf_nan=False)
    paper: str = Field(min_length=1)  # the finding, in the paper's terms
    reason: str = Field(min_length=1)  # how `effect` follows from the paper's numbers
    main: bool = False  # the paper's main contrast: what "sensitive to the paper's effect" asks


class Control(_InSettings):
    """A method known to differ from `reference` on `metric`: if the suite cannot tell them
    apart, it could not have seen the paper's effect either. It holds only in the settings where
    the difference is known (`setting`); elsewhere the suite has no control."""

    method: str
    reference: str
    metric: str
    expect: Literal["better", "worse", "higher", "lower"]
    why: str = Field(min_length=1)


class Questions(_Strict):
    """A suite's questions; `kind` None for a suite that does not say."""

    kind: Kind | None = None
    margins: dict[str, Margin] = Field(default_factory=dict)
    claims: list[Claim] = Field(default_factory=list)
    positive_control: Control | None = None


def parse_questions(doc: Mapping[str, Any], suite: str) -> Questions:
    """The suite document's `kind`, `margins`, `claims` and `positive_control`."""
    keys = ("kind", "margins", "claims", "positive_control")
    try:
        return Questions(**{k: doc[k] for k in keys if k in doc})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise HitlbenchError(f"suite {suite!r}: {where}: {first['msg']}") from None


def check_questions(questions: Questions, suite: str, methods: set[str], metrics: list[str]):
    """Refuse claims and controls naming methods or metrics the suite does not have, and
    verdict metrics without a stated margin."""
    missing = [m for m in metrics if m not in questions.margins]
    if missing:
        raise HitlbenchError(
            f"suite {suite!r}: no margin stated for {', '.join(missing)}; give each metric "
            "`margins: {metric: {value: <number in its units, or null>, reason: ...}}`"
        )
    for c in [*questions.claims, *filter(None, [questions.positive_control])]:
        unknown = sorted({c.method, c.reference} - methods)
        if unknown:
            raise HitlbenchError(f"suite {suite!r}: {c.metric} names unknown methods {unknown}")
        if c.metric not in metrics:
            raise HitlbenchError(
                f"suite {suite!r}: {c.method} vs {c.reference} is on {c.metric!r}, which is "
                f"not among the leaderboard's metrics ({', '.join(metrics)})"
            )
