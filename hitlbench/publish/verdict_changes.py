"""Which verdicts of a leaderboard differ between two builds of it (`leaderboard.build`), per
setting: each method's against the baseline, the suite's contrasts, and how the verdict on each
of the paper's claims stands to the paper.

A verdict differs when its outcome does (`better`, `worse`, `equivalent`, `identical`,
`inconclusive`, with or without `within margin`; a claim's `as the paper`, `the other way`, ...):
the seeds an `inconclusive (n = k)` counted and whether an `inconclusive` is `underpowered` say
what the seeds could see, not what was found."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..harness.questions import Questions
from .board_model import Board, Section
from .board_questions import agreement, claims_of
from .comparisons import DASH


@dataclass(frozen=True)
class VerdictChange:
    """One verdict that differs: what it judges, in words, and its label as printed in each
    build (`DASH` where that build has no such comparison)."""

    verdict: str
    before: str
    after: str


@dataclass(frozen=True)
class VerdictDiff:
    """How many verdicts the two builds hold between them, and those that differ."""

    compared: int
    changes: list[VerdictChange]


def _section_verdicts(section: Section, questions: Questions, baseline: str) -> dict[str, str]:
    where = section.title
    found = {
        f"{where}: {method} vs {baseline} on {metric}": c.label
        for metric, by_method in section.verdicts.items()
        for method, c in by_method.items()
    }
    found |= {
        f"{where}: contrast {method} vs {reference} on {metric}": c.label
        for metric, pairs in section.contrasts.items()
        for (method, reference), c in pairs.items()
    }
    for claim in claims_of(questions, section.setting):
        c = section.comparison(claim.method, claim.reference, claim.metric, baseline)
        what = f"{claim.method} vs {claim.reference} on {claim.metric}"
        found[f"{where}: claim of {claim.paper}, {what}"] = agreement(c, claim)
    return found


def board_verdicts(board: Board, questions: Questions, baseline: str) -> dict[str, str]:
    """Every verdict of `board` by what it judges, e.g. {"classifier.name=small_cnn: Margin vs
    Random on final_accuracy": "worse"}: the labels as printed (`Comparison.label`), and each
    claim's standing against the paper (`board_questions.agreement`)."""
    found: dict[str, str] = {}
    for section in board.sections:
        found |= _section_verdicts(section, questions, baseline)
    return found


def outcome(label: str) -> str:
    """A verdict's outcome: its label without the seeds it counted or its power
    (`inconclusive (n = 3)` and `inconclusive, underpowered` are both `inconclusive`)."""
    return label.split(" (n = ")[0].removesuffix(", underpowered")


def verdict_diff(before: Mapping[str, str], after: Mapping[str, str]) -> VerdictDiff:
    """The verdicts of two `board_verdicts` whose `outcome` differs (or that one of them lacks),
    in the order `before` lists them, then those only `after` has."""
    keys = list(dict.fromkeys([*before, *after]))
    changes = [
        VerdictChange(k, before.get(k, DASH), after.get(k, DASH))
        for k in keys
        if k not in before or k not in after or outcome(before[k]) != outcome(after[k])
    ]
    return VerdictDiff(len(keys), changes)
