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


def test_cover_penalises_the_object_pixels_the_map_misses_and_nothing_else():
    cover = RRRGradCAM(region="missing", missing_form="cover", norm="max", cam_weight=1)
    assert loss(cover, ON, CORNER) == pytest.approx(0.0, abs=1e-6)  # the object fully lit
    assert loss(cover, OFF, CORNER) == pytest.approx(1.0)  # every object pixel missed
    lit = ON + np.where(CORNER, 0.0, 1.0)  # the rest lit as brightly: cover does not care
    assert loss(cover, lit, CORNER) == pytest.approx(0.0, abs=1e-6)
    half = np.where(CORNER, 0.5, 0.0)
    half[3, 3] = 1.0  # max 1: the object's pixels at 0.5 miss (1 - 0.5)^2 each
    assert loss(cover, half, CORNER) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="cover needs norm"):
        RRRGradCAM(region="missing", missing_form="cover", norm="sum")


def test_mask_at_cam_downsamples_the_mask_to_the_map():
    fb = RRRGradCAM(region="spurious", norm="minmax", mask_at="cam", cam_weight=1.0)
    assert not fb.cam_upsampled and RRRGradCAM(mask_at="input").cam_upsampled
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    mask[0, :2, :2] = True  # the top-left cell of a 2x2 map
    ex = {"spurious": mask, "has_spurious": torch.tensor([True])}
    on = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    off = torch.tensor([[[0.0, 0.0], [0.0, 1.0]]])
    assert float(fb.loss(NET, None, None, None, ex, maps=on)) == pytest.approx(1.0)
    assert float(fb.loss(NET, None, None, None, ex, maps=off)) == 0.0


@pytest.mark.parametrize("target", ["true", "predicted"])
def test_the_loss_map_follows_target_relu_and_weights(target, monkeypatch):
    from hitlbench.classifiers import torch_image

    seen = {}
    real = torch_image.gradcam_with_logits

    def spy(net, layer, x, tgt, **kw):
        seen.update(kw, target=tgt)
        return real(net, layer, x, tgt, **kw)

    monkeypatch.setattr(torch_image, "gradcam_with_logits", spy)
    data = tiny_data(n=12)
    images = data.images.astype(np.float32) / 255.0
    view = LabeledView(
        indices=np.arange(12), labels=data.labels, images=images, val_images=images,
        masks={"spurious": np.zeros((12, 8, 8), bool)}, has_mask={"spurious": np.ones(12, bool)},
    )  # fmt: skip
    clf = SmallCNN(width=4, hidden=8, max_epochs=1, min_epochs=1, val_fraction=0.0)
    clf.bind(data.task(), device="cpu", seed=0)
    fb = RRRGradCAM(relu=False, weights="guided", norm="minmax", mask_at="cam", target=target)
    clf.fit(view, feedback=fb, rng=np.random.default_rng(0))
    assert seen["relu"] is False and seen["weights"] == "guided" and seen["upsample"] is False
    assert (seen["target"] is None) == (target == "predicted")
