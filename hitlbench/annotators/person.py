"""One simulated person: their own answer from a confusion model, whether they mark an item
unsure, and the one rule by which every imperfect oracle treats a proposal."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..types import NO_ANSWER
from .confusion import draw
from .item_errors import ItemErrors

UNSURE = -1  # the label of an item the person marked unsure: it never enters training


@dataclass(frozen=True)
class Person:
    """A person with confusion matrix `confusion` ([C, C], row t: their answers when the truth
    is t) who marks an item unsure with probability `unsure` x their error rate on it.

    With `item_errors` their errors depend on the item (`item_errors.ItemErrors`): each class's
    error rate is kept from `confusion`'s diagonal, while where a wrong answer goes is its row
    reweighted by the reference model's confusion of that item; without, every item of a class
    is alike (`error_model: uniform`).
    """

    confusion: np.ndarray
    unsure: float = 0.0
    item_errors: ItemErrors | None = None

    def answer(
        self, truth: np.ndarray, rng: np.random.Generator, items: np.ndarray | None = None
    ) -> np.ndarray:
        """Their own answer (int64 [N]) to each item: true labels `truth` [N], dataset indices
        `items` [N] (needed with item-dependent errors; ValueError without them)."""
        if self.item_errors is None:
            return draw(self.confusion, truth, rng.random(len(truth)))
        return self.item_errors.answer(self._indices(items, truth), truth, rng)

    def unsure_of(
        self, truth: np.ndarray, rng: np.random.Generator, items: np.ndarray | None = None
    ) -> np.ndarray:
        """[N] bool: the items they mark unsure; more likely where they err more."""
        if self.unsure <= 0:
            return np.zeros(len(truth), bool)
        if self.item_errors is None:
            error = 1.0 - np.diag(self.confusion)[np.asarray(truth)]
        else:
            error = self.item_errors.rates[self._indices(items, truth)]
        return rng.random(len(truth)) < self.unsure * error

    @staticmethod
    def _indices(items: np.ndarray | None, truth: np.ndarray) -> np.ndarray:
        if items is None or len(items) != len(truth):
            raise ValueError("item-dependent errors need the dataset index of every item")
        return np.asarray(items, np.int64)


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
