"""Boxes in the loop: who draws them, what they cost, how they are scored (Holmes et al. BB / BB-1)."""

import numpy as np
import pytest
import torch

from hitlbench.core.metrics import box_iou, box_metrics
from hitlbench.data.fmnist import DEBIAN_DIR
from hitlbench.detectors.frcnn import FasterRCNNDetector
from hitlbench.harness.runner import execute
from hitlbench.harness.spec import resolve_spec

needs_fmnist = pytest.mark.skipif(not DEBIAN_DIR.exists(), reason="dataset-fashion-mnist missing")
TINY_FRCNN = {"resize": 64, "epochs": 1, "fpn_channels": 16}
RETRAINED = [("frcnn", TINY_FRCNN), ("box_regressor", {"resize": 64})]  # the BB detectors


def run(tmp_path, detector, box_tolerance=0.7, **params):
    spec = resolve_spec(
        {
            "dataset": {"name": "fmnist_clutter", "params": {"size": 300}},
            "detector": {"name": detector, "params": params},
            "oracle": {"name": "perfect", "params": {"box_tolerance": box_tolerance}},
            "classifier": {
                "name": "small_cnn",
                "params": {"width": 4, "hidden": 8, "max_epochs": 3, "min_epochs": 1},
            },
            "rounds": 3,
            "batch_size": 20,
            "threads": 2,
            "device": "cpu",
        }
    )
    return execute(spec, out=tmp_path)[0]["rounds"]


def test_box_iou_known_values():
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 2, 2]], float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [4, 4, 6, 6]], float)
    assert box_iou(a, b) == pytest.approx([1.0, 50 / 150, 0.0])
    images = np.zeros((2, 1, 20, 20))
    got = box_metrics(a[:2], np.array([False, True]), b[:2], images)
    assert got["fallback_rate"] == 0.5
    assert got["iou_whole_image"] == pytest.approx(100 / 400)


@needs_fmnist
def test_human_boxes_cost_a_drawing_each_and_crop_the_true_object(tmp_path):
    rows = run(tmp_path, "human")
    assert [r["effort"].get("box_draw") for r in rows] == [20, 20, 20]
    assert all(r["metrics"]["iou"] == pytest.approx(1.0) for r in rows)
    assert all(r["metrics"]["fallback_rate"] == 0 for r in rows)
    assert rows[0]["metrics"]["iou_whole_image"] < 0.5


@needs_fmnist
@pytest.mark.parametrize(("detector", "params"), RETRAINED)
def test_bb1_asks_for_boxes_in_round_zero_only(tmp_path, detector, params):
    rows = run(tmp_path, detector, update="first", **params)
    assert rows[0]["effort"]["box_draw"] == 20
    assert all("box_draw" not in r["effort"] and "box_correct" not in r["effort"] for r in rows[1:])


@needs_fmnist
@pytest.mark.parametrize(("detector", "params"), RETRAINED)
def test_bb_reviews_the_predicted_box_every_round(tmp_path, detector, params):
    rows = run(tmp_path, detector, update="every", **params)
    assert rows[0]["effort"]["box_draw"] == 20  # no detector yet: every box drawn
    for r in rows[1:]:  # every box of the batch is drawn, corrected, or checked and accepted
        actions = ("box_draw", "box_correct", "box_verify")
        assert sum(r["effort"].get(a, 0) for a in actions) == 20
    assert {"iou", "iou_whole_image", "fallback_rate"} <= set(rows[-1]["metrics"])


@needs_fmnist
def test_a_lenient_person_checks_boxes_and_the_paper_s_person_corrects_them(tmp_path):
    lenient = run(tmp_path / "lenient", "frcnn", box_tolerance=0.01, update="every", **TINY_FRCNN)
    strict = run(tmp_path / "strict", "frcnn", box_tolerance=1.0, update="every", **TINY_FRCNN)
    assert sum(r["effort"].get("box_verify", 0) for r in lenient[1:]) > 0
    for r in strict[1:]:  # no predicted box is exact: each is corrected (or drawn where none)
        assert "box_verify" not in r["effort"]
        assert r["effort"].get("box_correct", 0) + r["effort"].get("box_draw", 0) == 20


def test_bb_refits_on_the_new_boxes_and_a_draw_of_earlier_ones():
    detector = FasterRCNNDetector(refit_boxes=8)
    positions = np.arange(20, 40)
    is_new = np.zeros(20, bool)
    is_new[-5:] = True
    generator = torch.Generator().manual_seed(0)
    epoch = detector._rehearsal(positions, is_new, generator)
    assert len(epoch) == 8 and len(set(epoch)) == 8
    assert set(positions[is_new]) <= set(epoch)  # every new box, and 3 earlier ones
    assert set(epoch) - set(positions[is_new]) <= set(positions[~is_new])
    assert not np.array_equal(epoch, detector._rehearsal(positions, is_new, generator))
    is_new[:] = True  # more new boxes than refit_boxes: all of them, nothing earlier
    assert sorted(detector._rehearsal(positions, is_new, generator)) == list(positions)
    every = FasterRCNNDetector(refit_boxes=0)._rehearsal(positions, ~is_new, generator)
    assert sorted(every) == list(positions)


@needs_fmnist
def test_bb1_does_not_depend_on_how_bb_refits(tmp_path):
    a = run(tmp_path / "a", "frcnn", update="first", refit_boxes=0, **TINY_FRCNN)
    b = run(tmp_path / "b", "frcnn", update="first", refit_boxes=5, **TINY_FRCNN)
    assert [r["metrics"] for r in a] == [r["metrics"] for r in b]
