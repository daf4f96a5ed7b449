"""Oracles simulate the person who labels, corrects and annotates."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from ..component import Component
from ..metrics import box_iou
from ..registry import Registry
from ..types import MASK_OF_WANT, Action, Effort, HitlbenchError, Proposal, Review, Truth, Want


class Oracle(Component, ABC):
    """Reviews a batch: gives labels (correcting proposals), and boxes or masks when wanted."""

    provides: ClassVar[frozenset[Want]] = frozenset({Want.LABEL})  # what it can be asked for

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


def box_review(
    true_boxes: np.ndarray, proposed: np.ndarray | None, tolerance: float
) -> tuple[np.ndarray, Effort]:
    """Boxes a person returns and what it cost them (Holmes et al. 2023, BB / BB-1).

    With no proposed box they draw one (`box_draw`); a proposed box whose IoU with the object is
    below `tolerance` is corrected to the object (`box_correct`); a closer one is accepted as is.
    """
    true_boxes = np.asarray(true_boxes, np.float32)
    if proposed is None:
        return true_boxes.copy(), Effort({Action.BOX_DRAW: len(true_boxes)})
    proposed = np.asarray(proposed, np.float32)
    missing = np.isnan(proposed).any(axis=1)
    iou = box_iou(np.where(missing[:, None], 0.0, proposed), true_boxes)
    fix = ~missing & (iou < tolerance)
    boxes = np.where((missing | fix)[:, None], true_boxes, proposed)
    return boxes, Effort({Action.BOX_DRAW: int(missing.sum()), Action.BOX_CORRECT: int(fix.sum())})


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
