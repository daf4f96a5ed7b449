"""One simulated person: their own answer from a confusion model, whether they mark an item
unsure, and the one rule by which every imperfect oracle treats a proposal."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..types import NO_ANSWER
from .confusion import draw

UNSURE = -1  # the label of an item the person marked unsure: it never enters training


@dataclass(frozen=True)
class Person:
    """A person with confusion matrix `confusion` ([C, C], row t: their answers when the truth
    is t) who marks an item unsure with probability `unsure` x their error rate on its class."""

    confusion: np.ndarray
    unsure: float = 0.0

    def answer(self, truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Their own answer for each true label (int64 [N]), one draw per item."""
        return draw(self.confusion, truth, rng.random(len(truth)))

    def unsure_of(self, truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """[N] bool: the items they mark unsure; more likely on classes they get wrong more."""
        if self.unsure <= 0:
            return np.zeros(len(truth), bool)
        error = 1.0 - np.diag(self.confusion)[np.asarray(truth)]
        return rng.random(len(truth)) < self.unsure * error


def respond(
    own: np.ndarray,
    proposal: np.ndarray | None,
    truth: np.ndarray,
    accept_wrong: np.ndarray | float,
    rng: np.random.Generator,
) -> np.ndarray:
    """What the person submits, from their own answers and the model's proposal (one rule for
    every imperfect oracle).

    Without a proposal (or where the model gave none, `NO_ANSWER`): their own answer, drawn
    from scratch. With one: their own answer equal
    to the proposal, they accept it. Different, and the proposal wrong: under automation bias
    they accept it anyway with probability `accept_wrong` (one value or one per item: a missed
    correction), else they give their own answer (a correction). Different, and the proposal
    right: they change it anyway (a correction that introduces a label error).
    """
    own = np.asarray(own)
    if proposal is None:
        return own.copy()
    proposal, truth = np.asarray(proposal), np.asarray(truth)
    defer = rng.random(len(own)) < np.broadcast_to(accept_wrong, own.shape)
    keep = (own == proposal) | ((proposal != truth) & defer)
    return np.where(keep & (proposal != NO_ANSWER), proposal, own)
