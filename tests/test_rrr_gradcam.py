"""The RRR Grad-CAM loss of Hagos et al. (Eq. 1-3) on known maps, and inside a classifier's fit."""

import numpy as np
import pytest
import torch

from hitlbench.classifiers.small_cnn import SmallCNN
from hitlbench.feedback.rrr_gradcam import RRRGradCAM
from hitlbench.testing import tiny_data
from hitlbench.types import LabeledView, Want

NET = torch.nn.Linear(1, 1)


def extras(mask, has=True):
    m = torch.as_tensor(mask, dtype=torch.bool)[None]
    return {
        "spurious": m,
        "object": m,
        "has_spurious": torch.tensor([has]),
        "has_object": torch.tensor([has]),
    }


def loss(fb, cam, mask, has=True):
    maps = torch.as_tensor(cam, dtype=torch.float32)[None]
    return float(fb.loss(NET, None, None, None, extras(mask, has), maps=maps))


CORNER = np.zeros((4, 4), bool)
CORNER[:2, :2] = True
ON = np.where(CORNER, 1.0, 0.0)  # all Grad-CAM mass on the corner
OFF = np.where(CORNER, 0.0, 1.0)  # all of it elsewhere


@pytest.mark.parametrize("norm", ["sum", "max"])
def test_spurious_region_penalises_the_map_on_the_mask_only(norm):
    fb = RRRGradCAM(region="spurious", norm=norm, cam_weight=2.0)
    expected_on = 2.0 * (4 * 0.25**2 if norm == "sum" else 4 * 1.0)
    assert loss(fb, ON, CORNER) == pytest.approx(expected_on)
    assert loss(fb, OFF, CORNER) == 0.0
    assert loss(fb, ON, CORNER, has=False) == 0.0  # no mask drawn: no penalty


def test_missing_region_forms():
    complement = RRRGradCAM(region="missing", missing_form="complement", norm="sum", cam_weight=1)
    inside = RRRGradCAM(region="missing", missing_form="inside", cam_weight=1)
    assert loss(complement, ON, CORNER) == 0.0  # all on the object: nothing outside
    assert loss(complement, OFF, CORNER) == pytest.approx(12 * (1 / 12) ** 2)
    assert loss(inside, ON, CORNER) == pytest.approx(0.0, abs=1e-6)
    assert loss(inside, OFF, CORNER) == pytest.approx(1.0)
    assert complement.wants(0, np.arange(3)) == frozenset({Want.MASK_OBJECT})
    assert RRRGradCAM().wants(0, np.arange(3)) == frozenset({Want.MASK_SPURIOUS})


def test_a_classifier_trains_with_the_loss_and_it_moves_the_weights():
    data = tiny_data(n=30)
    images = data.images.astype(np.float32) / 255.0
    masks = {"spurious": np.zeros((30, 8, 8), bool)}
    masks["spurious"][:, :2, :2] = True
    view = LabeledView(
        indices=np.arange(30), labels=data.labels, images=images, val_images=images,
        masks=masks, has_mask={"spurious": np.ones(30, bool)},
    )  # fmt: skip
    finals = []
    for weight in (0.0, 50.0):
        clf = SmallCNN(width=4, hidden=8, max_epochs=3, min_epochs=3, val_fraction=0.0)
        clf.bind(data.task(), device="cpu", seed=0)
        clf.fit(view, feedback=RRRGradCAM(cam_weight=weight), rng=np.random.default_rng(0))
        finals.append(clf.net.features.conv1.weight.detach().clone())
    assert not torch.equal(finals[0], finals[1])  # the explanation term changed the training


def test_mask_fraction_picks_a_stable_spread_out_share_of_items():
    fb = RRRGradCAM(mask_fraction=0.1)
    items = np.random.default_rng(0).permutation(20_000)
    chosen = fb.mask_items(0, items)
    assert 0.09 < chosen.mean() < 0.11
    assert np.array_equal(fb.mask_items(3, items[::-1]), chosen[::-1])  # order does not matter
    assert RRRGradCAM().mask_items(0, items).all()
    with pytest.raises(ValueError, match="mask_fraction"):
        RRRGradCAM(mask_fraction=0.0)
