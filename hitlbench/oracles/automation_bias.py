"""A person who defers to the model's wrong pre-labels: automation bias."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..core.component import nested_component
from ..types import Proposal
from .base import PersonOracle, oracles


@oracles.register("automation_bias", "deferring")
class AutomationBias(PersonOracle):
    """Wraps a person (`annotator`, default `perfect`) who accepts a wrong proposal, instead of
    correcting it, with probability `p`: the model's errors enter training ("bias laundering",
    Humans in the Loop whitepaper, part 2; Skitka et al. 1999 on automation bias).

    The person's own answer comes from the wrapped annotator (a confusion model, unsure items);
    the shared rule (`person_review`) then applies `p`; with `scale_by_confidence` the chance
    is `p` times the model's probability for its proposal, so confident mistakes pass more
    often. A wrong proposal accepted is a missed correction; the record counts them apart.
    """

    # prepare and items passed to the wrapped person;
    # benchmarks/same_behaviour.py gave 24 of 26 records equal against 79f914f (the other
    # two, crowds, changed by design)
    same_behaviour_as = ("af0e6199d3d14dea",)

    nested: ClassVar[dict[str, tuple[str, str]]] = {"annotator": ("oracle", "perfect")}

    version = "2"  # an accepted proposed box is counted (`box_verify`) instead of free

    def __init__(
        self,
        p: float = 0.5,
        annotator: str | dict[str, Any] | None = None,
        scale_by_confidence: bool = False,
        box_tolerance: float = 0.7,
    ):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be in [0, 1], got {p}")
        self.p = p
        self.annotator = annotator
        self.scale_by_confidence = scale_by_confidence
        self.box_tolerance = self.checked_box_tolerance(box_tolerance)
        self.inner = nested_component(oracles, annotator, "perfect")

    def prepare(self, data, *, progress):
        return self.inner.prepare(data, progress=progress)

    def bind(self, task, *, gold, rng):
        self.inner.bind(task, gold=gold, rng=rng)

    def own_answers(self, truth, rng, *, items=None):
        return self.inner.own_answers(truth, rng, items=items)

    def accept_wrong(self, proposal: Proposal | None) -> np.ndarray | float:
        if proposal is not None and self.scale_by_confidence:
            return self.p * np.asarray(proposal.proba).max(axis=1)
        return self.p
