"""The one-box regressor (BB on a CPU) finds a lone object and learns as BB or BB-1 does."""

import numpy as np
import pytest

from hitlbench.core.metrics import box_iou
from hitlbench.detectors.box_regressor import BoxRegressor, corners
from hitlbench.types import LabeledView, Want

SIZE = 48


def squares(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """float32 [n, 3, 48, 48] noise, each with one bright rectangle; its xyxy box [n, 4]."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.0, 0.3, (n, 3, SIZE, SIZE)).astype(np.float32)
    boxes = np.zeros((n, 4), np.float32)
    for i in range(n):
        w, h = rng.integers(10, 24, 2)
        x0, y0 = rng.integers(0, SIZE - w), rng.integers(0, SIZE - h)
        images[i, :, y0 : y0 + h, x0 : x0 + w] = 1.0
        boxes[i] = (x0, y0, x0 + w, y0 + h)
    return images, boxes


def labeled(images: np.ndarray, boxes: np.ndarray) -> LabeledView:
    n = len(images)
    return LabeledView(
        indices=np.arange(n), labels=np.zeros(n, np.int64), raw=lambda p: images[p], boxes=boxes
    )


def trained(update: str, images, boxes) -> BoxRegressor:
    detector = BoxRegressor(update=update, resize=64)
    detector.bind(device="cpu", seed=0)
    detector.learn(labeled(images, boxes), 0)
    return detector


def test_it_finds_the_object_better_than_the_whole_image():
    images, boxes = squares(120, seed=0)
    test_images, test_boxes = squares(40, seed=1)
    detector = trained("every", images, boxes)
    found = box_iou(detector.propose(test_images), test_boxes).mean()
    whole = box_iou(np.tile([0, 0, SIZE, SIZE], (40, 1)), test_boxes).mean()
    assert whole < 0.2 and found > whole + 0.2


def test_no_box_before_training_and_none_for_no_images():
    detector = BoxRegressor(resize=64)
    detector.bind(device="cpu", seed=0)
    assert np.isnan(detector.propose(squares(3, seed=0)[0])).all()
    images, boxes = squares(20, seed=0)
    detector.learn(labeled(images, boxes), 0)
    assert detector.propose(images[:0]).shape == (0, 4)


@pytest.mark.parametrize(("update", "changes"), [("every", True), ("first", False)])
def test_bb_learns_every_round_and_bb1_only_from_the_first(update, changes):
    images, boxes = squares(80, seed=0)
    detector = trained(update, images[:40], boxes[:40])
    before = detector.propose(images[40:])
    detector.learn(labeled(images, boxes), 1)
    assert (not np.array_equal(before, detector.propose(images[40:]))) == changes
    assert detector.wants(1, np.arange(3)) == (frozenset({Want.BOX}) if changes else frozenset())


def test_boxes_keep_an_area_inside_the_image():
    far_out = np.array([[-0.5, 1.7, 0.0, -0.2], [0.5, 0.5, 3.0, 0.1]])
    box = corners(far_out)
    assert (box >= 0).all() and (box <= 1).all()
    assert (box[:, 2] > box[:, 0]).all() and (box[:, 3] > box[:, 1]).all()


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="update"):
        BoxRegressor(update="sometimes")
    with pytest.raises(ValueError, match="resize"):
        BoxRegressor(resize=8)
