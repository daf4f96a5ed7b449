"""Known-answer tests of correction and effort counting."""

from pathlib import Path

import numpy as np
import pytest

from hitlbench.core.effort import DEFAULT_SECONDS, SOURCES, UNSOURCED, seconds_table, to_seconds
from hitlbench.oracles.base import box_review
from hitlbench.oracles.perfect import PerfectOracle
from hitlbench.types import Effort, HitlbenchError, Proposal, Truth, Want


def review(truth, proposed):
    proposal = None if proposed is None else Proposal(np.array(proposed), np.eye(4)[proposed])
    return PerfectOracle().review(
        np.arange(len(truth)),
        truth=Truth(labels=np.array(truth)),
        proposal=proposal,
        wants=frozenset({Want.LABEL}),
        rng=np.random.default_rng(0),
    )


def test_fixed_proposal_vector_gives_known_corrections_and_effort():
    r = review([0, 1, 2, 3, 0, 1, 2, 3], [0, 1, 1, 3, 2, 1, 2, 0])
    assert r.corrections == 3
    assert r.labels_drawn == 0
    assert r.effort.as_dict() == {"label_correct": 3, "label_accept": 5}
    assert r.labels.tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    seconds = to_seconds(r.effort, seconds_table())
    assert seconds == pytest.approx(3 * DEFAULT_SECONDS["label_correct"] + 5 * 1.7)


def test_without_proposal_every_label_is_drawn_from_scratch():
    r = review([2, 2, 1], None)
    assert (r.corrections, r.labels_drawn) == (0, 3)
    assert r.effort.as_dict() == {"label_scratch": 3}


def test_effort_vocabulary_is_frozen():
    with pytest.raises(ValueError):
        Effort({"label_guess": 1})
    assert (Effort({"rating": 2}) + {"rating": 1, "box_draw": 1}).as_dict() == {
        "rating": 3,
        "box_draw": 1,
    }


def test_effort_table_overrides_are_checked():
    assert seconds_table({"label_scratch": 4})["label_scratch"] == 4.0
    with pytest.raises(HitlbenchError, match="unknown action"):
        seconds_table({"label_guess": 1})
    with pytest.raises(HitlbenchError, match=">= 0"):
        seconds_table({"rating": -1})


def test_region_masks_cost_one_action_each_and_need_masks_in_the_data():
    truth = Truth(labels=np.array([0, 1, 2]), masks={"spurious": np.zeros((3, 4, 4), bool)})
    r = PerfectOracle().review(
        np.arange(3),
        truth=truth,
        proposal=None,
        wants=frozenset({Want.LABEL, Want.MASK_SPURIOUS}),
        rng=np.random.default_rng(0),
    )
    assert r.effort.as_dict() == {"label_scratch": 3, "region_mask": 3}
    assert set(r.masks) == {"spurious"}
    with pytest.raises(HitlbenchError, match="object masks were asked for"):
        PerfectOracle().review(
            np.arange(3),
            truth=truth,
            proposal=None,
            wants=frozenset({Want.LABEL, Want.MASK_OBJECT}),
            rng=np.random.default_rng(0),
        )


def test_box_effort_draw_correct_verify():
    true = np.array([[0, 0, 10, 10]] * 4, np.float32)
    proposed = np.array(
        [[np.nan] * 4, [0, 0, 10, 10], [0, 0, 10, 8], [5, 5, 15, 15]], np.float32
    )  # none, exact, IoU 0.8, IoU 25/175
    boxes, effort = box_review(true, proposed, tolerance=0.7)
    assert effort.as_dict() == {"box_draw": 1, "box_correct": 1, "box_verify": 2}
    assert np.array_equal(boxes[[0, 1, 3]], true[[0, 1, 3]])
    assert np.array_equal(boxes[2], proposed[2])  # close enough: checked and accepted as proposed
    # the paper's person returns the true box for every imperfect one: only the exact box passes
    boxes, effort = box_review(true, proposed, tolerance=1.0)
    assert effort.as_dict() == {"box_draw": 1, "box_correct": 2, "box_verify": 1}
    assert np.array_equal(boxes[1:], true[1:])
    # a lenient person checks and keeps even the far box
    _, effort = box_review(true, proposed, tolerance=0.1)
    assert effort.as_dict() == {"box_draw": 1, "box_verify": 3}
    drawn, effort = box_review(true, None, tolerance=0.7)
    assert effort.as_dict() == {"box_draw": 4} and np.array_equal(drawn, true)


def test_every_unit_cost_names_a_source_or_an_assumption_and_the_docs_show_the_table():
    assert set(SOURCES) == set(DEFAULT_SECONDS)
    assert set(UNSOURCED) == {a for a, s in SOURCES.items() if s.startswith("Assumption")}
    docs = (Path(__file__).resolve().parent.parent / "docs" / "concepts.md").read_text()
    for action, source in SOURCES.items():
        assert f"| `{action}` | {DEFAULT_SECONDS[action]:g} | {source} |" in docs
