"""Oracles simulate the person who labels, corrects and annotates."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ..component import Component
from ..registry import Registry
from ..types import Action, Effort, HitlbenchError, Proposal, Review, Truth, Want


class Oracle(Component, ABC):
    """Reviews a batch: gives labels (correcting proposals), and boxes or masks when wanted."""

    @abstractmethod
    def review(
        self,
        items: np.ndarray,
        *,
        truth: Truth,
        proposal: Proposal | None,
        wants: frozenset[Want],
        rng: np.random.Generator,
    ) -> Review: ...


oracles: Registry[Oracle] = Registry("oracle", Oracle, group="hitlbench.oracles")


def label_review(answers: np.ndarray, proposal: Proposal | None) -> tuple[int, int, Effort]:
    """Count a person's label actions: scratch without a proposal, else correct or accept.

    Returns (corrections, labels drawn from scratch, effort).
    """
    answers = np.asarray(answers)
    if proposal is None:
        return 0, len(answers), Effort({Action.LABEL_SCRATCH: len(answers)})
    proposed = np.asarray(proposal.labels)
    if proposed.shape != answers.shape:
        raise ValueError(f"proposal has {proposed.shape[0]} labels for {len(answers)} items")
    changed = int((proposed != answers).sum())
    effort = Effort({Action.LABEL_CORRECT: changed, Action.LABEL_ACCEPT: len(answers) - changed})
    return changed, 0, effort


def refuse_unsupported(oracle: Oracle, wants: frozenset[Want], supported: frozenset[Want]) -> None:
    """Raise a clear error when the loop asks for annotations this oracle cannot give."""
    missing = set(wants) - set(supported) - {Want.LABEL}
    if missing:
        names = ", ".join(sorted(w.value for w in missing))
        raise HitlbenchError(
            f"oracle {oracle.registered_name!r} cannot provide {names}; "
            f"it provides labels{''.join(', ' + w.value for w in sorted(supported))}"
        )
