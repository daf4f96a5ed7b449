"""DESIGN §1's crop-source table: which box crops each image for training, early stopping, holdout."""

import numpy as np

from hitlbench.classifiers.small_cnn import SmallCNN
from hitlbench.core.crops import crop_resize
from hitlbench.core.effort import seconds_table
from hitlbench.data.base import SplitData
from hitlbench.detectors.base import Detector
from hitlbench.feedback.labels import LabelsOnly
from hitlbench.oracles.perfect import PerfectOracle
from hitlbench.samplers.random_order import RandomSampler
from hitlbench.simulation.loop import run_loop
from hitlbench.simulation.parts import Components, LoopRngs, LoopSettings
from hitlbench.testing import tiny_data
from hitlbench.types import Want

PREDICTED = np.array([0.0, 0.0, 4.0, 4.0], np.float32)


class FixedBoxDetector(Detector):
    """Always predicts the top-left quarter; asks for boxes every round or in round 0 only."""

    def __init__(self, every: bool = True):
        self.every = every

    def wants(self, round, items):
        return frozenset({Want.BOX}) if self.every or round == 0 else frozenset()

    def propose(self, images, *, true_boxes=None):
        return np.tile(PREDICTED, (len(images), 1))


class SpyCNN(SmallCNN):
    """Keeps what each fit was given."""

    def fit(self, train, *, feedback, rng):
        self.seen = train
        return super().fit(train, feedback=feedback, rng=rng)


class MasksInRoundZero(LabelsOnly):
    """Asks the person for object masks on the first batch only."""

    def wants(self, round, items):
        return frozenset({Want.MASK_OBJECT}) if round == 0 else frozenset()


class MasksOnEvenItems(LabelsOnly):
    """Asks for object masks on every batch, but only on items with an even index."""

    def wants(self, round, items):
        return frozenset({Want.MASK_OBJECT})

    def mask_items(self, round, items):
        return items % 2 == 0


def run(every: bool, feedback=None):
    data = tiny_data(n=60)
    split = SplitData(data, pool=np.arange(40), holdout=np.arange(40, 60))
    clf = SpyCNN(width=2, hidden=4, max_epochs=1, min_epochs=0)
    clf.bind(data.task(), device="cpu", seed=0)
    parts = Components(
        RandomSampler(), FixedBoxDetector(every), clf, PerfectOracle(), feedback or LabelsOnly()
    )
    rngs = LoopRngs(*(np.random.default_rng(i) for i in range(4)))
    rows, _ = run_loop(split, parts, LoopSettings(10, 2, seconds_table()), rngs)
    return data, clf.seen, rows


def crops(data, idx, box):
    images = data.images[idx].astype(np.float32) / 255.0
    return crop_resize(images, np.tile(box, (len(idx), 1)), (8, 8))


def test_bb_trains_on_the_persons_boxes_and_stops_early_on_predicted_ones():
    data, seen, rows = run(every=True)
    true_crops = crop_resize(
        data.images[seen.indices].astype(np.float32) / 255.0, data.boxes[seen.indices], (8, 8)
    )
    assert np.allclose(seen.images, true_crops)
    assert np.allclose(seen.val_images, crops(data, seen.indices, PREDICTED))
    assert rows[1]["effort"]["box_correct"] == 10  # the quarter box is far from the object


def test_bb1_uses_the_persons_boxes_for_round_zero_images_only():
    data, seen, rows = run(every=False)
    first, later = seen.indices[:10], seen.indices[10:]
    true_first = crop_resize(
        data.images[first].astype(np.float32) / 255.0, data.boxes[first], (8, 8)
    )
    assert np.allclose(seen.images[:10], true_first)
    assert np.allclose(seen.images[10:], crops(data, later, PREDICTED))
    assert np.allclose(seen.val_images, crops(data, seen.indices, PREDICTED))
    assert "box_draw" not in rows[1]["effort"] and "box_correct" not in rows[1]["effort"]


def test_masks_reach_the_classifier_for_the_images_they_were_drawn_on():
    data, seen, rows = run(every=True, feedback=MasksInRoundZero())
    assert rows[0]["effort"]["region_mask"] == 10 and "region_mask" not in rows[1]["effort"]
    assert seen.has_mask["object"].tolist() == [True] * 10 + [False] * 10
    assert seen.masks["object"].shape == (20, 8, 8)
    assert seen.masks["object"][:10].all() and not seen.masks["object"][10:].any()


def test_masks_on_part_of_a_batch_cost_only_what_was_drawn():
    data, seen, rows = run(every=True, feedback=MasksOnEvenItems())
    even = seen.indices % 2 == 0
    assert sum(r["effort"].get("region_mask", 0) for r in rows) == int(even.sum())
    assert seen.has_mask["object"].tolist() == even.tolist()
    assert seen.masks["object"][even].all() and not seen.masks["object"][~even].any()
