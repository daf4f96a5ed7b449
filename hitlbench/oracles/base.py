"""Oracles simulate the person (or the people) who label, correct and annotate.

Every oracle that simulates people answers by one rule (`annotators.person.respond`): each
person first forms their own answer from their confusion model, then treats the model's
proposal by it. `person_review` applies it for one person and counts what it cost them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from ..annotators.person import UNSURE, respond
from ..core.component import Component
from ..core.contract import adapt_methods
from ..core.metrics import box_iou
from ..core.registry import Registry
from ..data.base import ImageData
from ..types import (
    MASK_OF_WANT,
    NO_ANSWER,
    Action,
    Effort,
    Gold,
    HitlbenchError,
    Proposal,
    Review,
    TaskInfo,
    Truth,
    Want,
)


class Oracle(Component, ABC):
    """Reviews a batch: gives labels (correcting proposals), and boxes or masks when wanted."""

    provides: ClassVar[frozenset[Want]] = frozenset({Want.LABEL})  # what it can be asked for
    # True: it only takes pre-labels, so the classifier must propose before any fit
    needs_ready_classifier: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Set `contract`: 2 for a class whose own_answers takes no `items`, wrapped so that
        callers may pass it (contract 3 added it)."""
        super().__init_subclass__(**kwargs)
        cls.contract = adapt_methods(cls, ("own_answers",), "items", written_to=2)

    def prepare(self, data: ImageData, *, progress: bool) -> str | None:
        """Called once before `bind` with the whole collection (dataset indices are its rows),
        for a person whose errors depend on the item (`error_model: item`); returns a line for
        the user or None."""
        return None

    def bind(  # noqa: B027 - optional hook
        self, task: TaskInfo, *, gold: Gold | None, rng: np.random.Generator
    ) -> None:
        """Called once before the loop: the task, the hidden gold items carved out of the pool
        for it (`gold_size`), and its own stream for what it draws once (e.g. its people)."""

    def gold_size(self, n_pool: int) -> int:
        """How many pool items to keep aside as hidden gold-standard items (never trained on)."""
        return 0

    def own_answers(
        self, truth: np.ndarray, rng: np.random.Generator, *, items: np.ndarray | None = None
    ) -> np.ndarray:
        """What the person would answer with no proposal ([N] int, `UNSURE` for an item they
        mark unsure) to dataset items `items` (int64 [N]) whose true labels are `truth` [N];
        an oracle that wraps a person (`automation_bias`) asks this. `items` may be None (as
        a contract-2 caller passes none) unless the person's errors depend on the item."""
        return np.asarray(truth).copy()

    def relabel(self, items: np.ndarray) -> np.ndarray | None:
        """The training label of each item labeled so far (dataset indices, in labeling order),
        where later answers revise earlier ones (a crowd refitted on every answer); None: the
        labels stand as reviewed."""
        return None

    @abstractmethod
    def review(
        self,
        items: np.ndarray,
        *,
        truth: Truth,
        proposal: Proposal | None,
        proposed_boxes: np.ndarray | None = None,
        wants: frozenset[Want],
        rng: np.random.Generator,
    ) -> Review:
        """`proposed_boxes`: the detector's boxes (NaN rows: none), None when nobody proposed."""


class PersonOracle(Oracle):
    """One person who answers by the shared rule (`person_review`): a subclass says what they
    would answer alone (`own_answers`) and how readily they accept a wrong proposal
    (`accept_wrong`); boxes and masks, when asked for, they give carefully (`box_tolerance`)."""

    provides = frozenset({Want.LABEL, Want.BOX, *MASK_OF_WANT})
    box_tolerance: float = 0.7

    @staticmethod
    def checked_box_tolerance(box_tolerance: float) -> float:
        """`box_tolerance` (an IoU) if it is in (0, 1]; raises `ValueError` otherwise."""
        if not 0.0 < box_tolerance <= 1.0:
            raise ValueError(f"box_tolerance must be in (0, 1], got {box_tolerance}")
        return box_tolerance

    def accept_wrong(self, proposal: Proposal | None) -> np.ndarray | float:
        """The chance of accepting a wrong proposal instead of correcting it (one, or per item)."""
        return 0.0

    def review(self, items, *, truth, proposal, proposed_boxes=None, wants, rng):
        return person_review(
            self,
            self.own_answers(truth.labels, rng, items=items),
            truth=truth,
            proposal=proposal,
            proposed_boxes=proposed_boxes,
            wants=wants,
            accept_wrong=self.accept_wrong(proposal),
            box_tolerance=self.box_tolerance,
            rng=rng,
        )


oracles: Registry[Oracle] = Registry("oracle", Oracle, group="hitlbench.oracles")


def label_review(answers: np.ndarray, proposal: Proposal | None) -> tuple[int, int, Effort]:
    """Count a person's label actions: scratch without a proposal (or where the model gave
    none, `NO_ANSWER`), else correct or accept; an item answered `UNSURE` costs `label_unsure`
    instead.

    Returns (corrections, labels drawn from scratch, effort).
    """
    answers = np.asarray(answers)
    sure = answers != UNSURE
    effort = Effort({Action.LABEL_UNSURE: int((~sure).sum())})
    if proposal is None:
        return 0, int(sure.sum()), effort + Effort({Action.LABEL_SCRATCH: int(sure.sum())})
    proposed = np.asarray(proposal.labels)
    if proposed.shape != answers.shape:
        raise ValueError(f"proposal has {proposed.shape[0]} labels for {len(answers)} items")
    scratch = int((sure & (proposed == NO_ANSWER)).sum())
    changed = int((sure & (proposed != NO_ANSWER) & (proposed != answers)).sum())
    accepted = int(sure.sum()) - changed - scratch
    counts = {Action.LABEL_CORRECT: changed, Action.LABEL_ACCEPT: accepted}
    return changed, scratch, effort + Effort({**counts, Action.LABEL_SCRATCH: scratch})


def person_review(
    oracle: Oracle,
    own: np.ndarray,
    *,
    truth: Truth,
    proposal: Proposal | None,
    proposed_boxes: np.ndarray | None,
    wants: frozenset[Want],
    accept_wrong: np.ndarray | float,
    box_tolerance: float,
    rng: np.random.Generator,
) -> Review:
    """One person's review of a batch, from their own answers `own` (`UNSURE` where unsure):
    labels by the rule of `respond`, their label actions, and the boxes and masks asked for
    (drawn, or corrected below `box_tolerance` IoU, as a careful person would)."""
    refuse_unsupported(oracle, wants)
    own = np.asarray(own)
    labels = respond(
        own, None if proposal is None else proposal.labels, truth.labels, accept_wrong, rng
    )
    labels[own == UNSURE] = UNSURE
    corrections, drawn, effort = label_review(labels, proposal)
    boxes = None
    if Want.BOX in wants:
        if truth.boxes is None:
            raise HitlbenchError("boxes were asked for, but the dataset has no true boxes")
        boxes, box_effort = box_review(truth.boxes, proposed_boxes, box_tolerance)
        effort = effort + box_effort
    masks, mask_effort = mask_review(truth, wants)
    return Review(
        labels=labels,
        corrections=corrections,
        labels_drawn=drawn,
        effort=effort + mask_effort,
        boxes=boxes,
        masks=masks,
    )


def box_review(
    true_boxes: np.ndarray, proposed: np.ndarray | None, tolerance: float
) -> tuple[np.ndarray, Effort]:
    """Boxes a person returns and what it cost them (Holmes et al. 2023, BB / BB-1).

    With no proposed box they draw one (`box_draw`); a proposed box whose IoU with the object is
    below `tolerance` is corrected to the object (`box_correct`); a closer one is checked and
    accepted as is (`box_verify`). At `tolerance` 1.0 every imperfect box is corrected, as the
    paper's person returns the true box for each one they fix.
    """
    true_boxes = np.asarray(true_boxes, np.float32)
    if proposed is None:
        return true_boxes.copy(), Effort({Action.BOX_DRAW: len(true_boxes)})
    proposed = np.asarray(proposed, np.float32)
    missing = np.isnan(proposed).any(axis=1)
    iou = box_iou(np.where(missing[:, None], 0.0, proposed), true_boxes)
    fix = ~missing & (iou < tolerance)
    boxes = np.where((missing | fix)[:, None], true_boxes, proposed)
    counts = {Action.BOX_DRAW: int(missing.sum()), Action.BOX_CORRECT: int(fix.sum())}
    return boxes, Effort({**counts, Action.BOX_VERIFY: int((~missing & ~fix).sum())})


def mask_review(truth: Truth, wants: frozenset[Want]) -> tuple[dict[str, np.ndarray], Effort]:
    """The region masks asked for, drawn by the person: one `region_mask` action per mask.

    Items outside `truth.mask_asked` get an empty mask and cost nothing.
    """
    masks, effort = {}, Effort()
    for want, name in MASK_OF_WANT.items():
        if want in wants:
            if name not in truth.masks:
                raise HitlbenchError(f"{name} masks were asked for, but the dataset has none")
            masks[name] = np.asarray(truth.masks[name], bool).copy()
            asked = np.ones(len(masks[name]), bool)
            if truth.mask_asked is not None:
                asked = np.asarray(truth.mask_asked, bool)
            masks[name][~asked] = False
            effort.add(Action.REGION_MASK, int(asked.sum()))
    return masks, effort


def refuse_unsupported(oracle: Oracle, wants: frozenset[Want]) -> None:
    """Raise a clear error when the loop asks for annotations this oracle cannot give."""
    missing = set(wants) - set(oracle.provides)
    if missing:
        names = ", ".join(sorted(w.value for w in missing))
        raise HitlbenchError(
            f"oracle {oracle.registered_name!r} cannot provide {names}; "
            f"it provides {', '.join(sorted(w.value for w in oracle.provides))}"
        )
