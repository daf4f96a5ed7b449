"""Maps of known quality and the check of the explanation metrics on them, on a 24x24 image with
a 12x12 square object and a 3x3 decoy; cam_share against Quantus's relevance mass accuracy."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hitlbench.core.metrics import explanation_metrics
from hitlbench.explanations.known_maps import (
    KnownMap,
    at_resolution,
    best_square_side,
    blurred,
    central_square,
    constant_prior,
    degraded_maps,
    dilated,
    eroded,
    half_max_region,
    mean_mask_prior,
    shifted,
    true_iou,
)
from hitlbench.explanations.metric_check import (
    METRICS,
    MapScores,
    family_trend,
    judge,
    metric_key,
    rank_from_bottom,
    rank_from_top,
    score_known_maps,
)

SIZE = 24


def scene(gap: int = 1) -> dict[str, np.ndarray]:
    """One image: a 12x12 object at rows/cols 2..13 and a 3x3 decoy `gap` pixels below-right."""
    obj = np.zeros((1, SIZE, SIZE), bool)
    obj[0, 2:14, 2:14] = True
    decoy = np.zeros_like(obj)
    decoy[0, 14 + gap : 17 + gap, 14 + gap : 17 + gap] = True
    return {"object": obj, "spurious": decoy}


def known_set(masks, families=None) -> list[KnownMap]:
    obj = masks["object"]
    known = degraded_maps(obj, families or {"shift": (shifted, (1, 2, 4, 6))})
    uniform = constant_prior(1, (SIZE, SIZE))
    known.append(KnownMap("uniform", "prior", 0, uniform, true_iou(uniform, obj)))
    decoy = masks["spurious"].astype(np.float32)
    known.append(KnownMap("decoy", "decoy", 0, decoy, true_iou(decoy, obj)))
    return known


def test_the_object_mask_itself_scores_one_on_every_metric():
    masks = scene()
    got = explanation_metrics(masks["object"].astype(np.float32), masks)
    for metric in METRICS:
        assert got[metric_key(metric, "object")] == pytest.approx(1.0), metric
        assert got[metric_key(metric, "spurious")] == 0.0, metric


def test_metric_keys_are_those_explanation_metrics_records():
    masks = scene()
    got = explanation_metrics(masks["object"].astype(np.float32), masks)
    assert {metric_key(m, q) for m in METRICS for q in masks} <= set(got)
    with pytest.raises(ValueError, match="metric must be one of"):
        metric_key("mask_share", "object")


@pytest.mark.parametrize("k", [0, 1, 3, 6])
def test_a_shifted_square_has_the_iou_of_its_overlap(k):
    obj = scene()["object"]
    assert true_iou(shifted(obj, k).astype(np.float32), obj)[0] == pytest.approx(
        (12 - k) / (12 + k)
    )


def test_dilation_and_erosion_move_the_border_by_one_pixel_per_step():
    obj = scene()["object"]
    assert dilated(obj, 1).sum() == 144 + 4 * 12  # a cross: the corners stay out
    assert eroded(obj, 1).sum() == 100
    assert eroded(obj, 6).sum() == 0  # a 12x12 square is gone after 6 steps
    assert true_iou(eroded(obj, 1), obj)[0] == pytest.approx(100 / 144)
    assert np.array_equal(dilated(obj, 0), obj) and dilated(obj, 0) is not obj


def test_a_blurred_mask_is_soft_and_judged_by_its_half_max_region():
    obj = scene()["object"]
    soft = blurred(obj, 2.0)
    assert soft.dtype == np.float32 and 0 < soft.max() <= 1 and len(np.unique(soft)) > 2
    assert np.array_equal(half_max_region(soft), soft >= 0.5 * soft.max())
    assert 0.8 < true_iou(soft, obj)[0] < 1.0
    assert not half_max_region(np.zeros((1, 4, 4))).any()  # an empty map has no region


def test_masks_must_be_bool():
    with pytest.raises(ValueError, match="bool"):
        shifted(np.ones((1, 4, 4)), 1)


def test_dice_falls_as_the_mask_is_shifted_and_the_trend_passes():
    masks = scene()
    scored = score_known_maps(known_set(masks), masks, None)
    shift = [s for s in scored if s.family in ("object", "shift")]
    dice = [s.scores["dice", "object"] for s in shift]
    assert dice == sorted(dice, reverse=True) and len(set(dice)) == len(dice)
    trend = family_trend("shift", [s.iou for s in shift], dice)
    assert trend.monotone and trend.rho == pytest.approx(1.0)


def test_the_pass_rule_rejects_a_constant_metric():
    trend = family_trend("shift", [1.0, 0.8, 0.5], [0.7, 0.7, 0.7])
    assert not trend.monotone and math.isnan(trend.rho)
    flat = {(m, q): 0.5 for m in METRICS for q in ("object", "spurious")}
    scored = [
        MapScores("object mask", "object", 0, 1.0, flat),
        *(MapScores(f"shift {k}", "shift", k, 1 - k / 10, flat) for k in (1, 2)),
        MapScores("uniform", "prior", 0, 0.4, flat),
        MapScores("decoy", "decoy", 0, 0.0, flat),
    ]
    verdict = judge("dice", "full", scored)
    assert not verdict.passes
    assert verdict.decoy_rank_object == 1 and verdict.decoy_rank_decoy == 5  # ties count against
    assert len(verdict.reasons) == 3


def test_equal_ious_may_tie_but_a_reversal_fails():
    assert family_trend("f", [1.0, 1.0, 0.5], [0.9, 0.9, 0.4]).monotone
    assert not family_trend("f", [1.0, 0.8, 0.5], [0.9, 0.95, 0.4]).monotone
    with pytest.raises(ValueError, match="2 levels"):
        family_trend("f", [1.0], [1.0])


def test_ranks_count_ties_against_the_value():
    assert rank_from_top(1.0, [0.2, 0.5]) == 1 and rank_from_top(0.5, [0.2, 0.5]) == 2
    assert rank_from_bottom(0.0, [0.2, 0.5]) == 3 and rank_from_bottom(0.2, [0.2, 0.5]) == 2


def test_dice_passes_at_full_resolution_on_the_square_scene():
    masks = scene()
    verdict = judge("dice", "full", score_known_maps(known_set(masks), masks, None))
    assert verdict.passes, verdict.reasons
    assert verdict.decoy_rank_object == verdict.n_maps == 7 and verdict.decoy_rank_decoy == 1
    assert verdict.perfect_score == 1.0 and verdict.best_prior == "uniform"
    assert verdict.best_prior_score == pytest.approx(2 * 144 / (576 + 144))
    assert math.isnan(verdict.iou_no_better_than_prior)  # every shifted square beats uniform


def test_a_3x3_grid_loses_the_order_of_shifted_squares():
    masks = scene()
    verdict = judge("dice", "3x3", score_known_maps(known_set(masks), masks, (3, 3)))
    assert not verdict.passes and "not monotone in IoU under shift" in verdict.reasons[0]


def test_a_3x3_grid_cannot_tell_a_map_on_the_small_decoy_while_full_resolution_can():
    masks = scene(gap=0)
    decoy_map = masks["spurious"].astype(np.float32)
    for metric in ("cam_share", "soft_dice"):
        key = metric_key(metric, "spurious")
        full = explanation_metrics(decoy_map, masks)[key]
        coarse = explanation_metrics(at_resolution(decoy_map, (3, 3)), masks)[key]
        assert full == pytest.approx(1.0) and coarse < 0.3, metric


def test_at_resolution_pools_to_the_grid_and_upsamples_like_gradcam():
    rng = np.random.default_rng(0)
    maps = rng.random((2, SIZE, SIZE), dtype=np.float32)
    assert np.array_equal(at_resolution(maps, None), maps)
    assert np.array_equal(at_resolution(maps, (SIZE, SIZE)), maps)
    cells = maps.reshape(2, 3, 8, 3, 8).mean(axis=(2, 4))  # 8x8 cells of a 24x24 map
    want = F.interpolate(
        torch.from_numpy(cells)[:, None], size=(SIZE, SIZE), mode="bilinear", align_corners=False
    )[:, 0].numpy()
    np.testing.assert_allclose(at_resolution(maps, (3, 3)), want, rtol=1e-5)
    assert np.allclose(at_resolution(np.ones((1, 28, 28)), (11, 11)), 1.0)  # sides need not divide
    with pytest.raises(ValueError, match="grid"):
        at_resolution(maps, (30, 3))


def test_priors():
    square = central_square(2, (SIZE, SIZE), 12)
    assert square.shape == (2, SIZE, SIZE) and square.sum() == 2 * 144
    assert square[0, 6:18, 6:18].all()
    with pytest.raises(ValueError, match="side"):
        central_square(1, (SIZE, SIZE), 0)
    pool = np.zeros((3, SIZE, SIZE), bool)
    pool[:, 6:18, 6:18] = True
    assert best_square_side(pool) == 12
    pool[0] = False
    mean = mean_mask_prior(pool, 4)
    assert mean.shape == (4, SIZE, SIZE) and mean.max() == pytest.approx(2 / 3)


def test_cam_share_equals_quantus_relevance_mass_accuracy():
    quantus = pytest.importorskip(
        "quantus", reason="quantus (the reference implementation) is not installed"
    )
    rng = np.random.default_rng(0)
    for shape in ((5, 12, 12), (3, 24, 24)):
        maps = rng.random(shape) * (rng.random(shape) > 0.3)  # non-negative, with zeros
        masks = rng.random(shape) > 0.6
        ours = explanation_metrics(maps, {"object": masks})["cam_share_object"]
        theirs = quantus.RelevanceMassAccuracy(disable_warnings=True)(
            model=None,
            x_batch=maps[:, None],
            y_batch=np.zeros(len(maps), int),
            a_batch=maps[:, None],
            s_batch=masks[:, None].astype(np.float64),
        )
        assert ours == pytest.approx(float(np.mean(theirs)), abs=1e-6)


def _verdict(resolution: str, perfect: float, prior: float, passes: bool = True):
    from hitlbench.explanations.metric_check import Verdict

    return Verdict(
        "dice", resolution, (), 7, 1, 7, "uniform", prior, perfect, math.nan, passes,
        () if passes else ("not monotone in IoU under shift",),
    )  # fmt: skip


def test_choose_map_takes_the_largest_gap_that_passes_everywhere_and_ties_to_the_finer():
    from hitlbench.explanations.metric_check import choose_map

    order = ["full", "conv1", "conv3"]
    verdicts = {
        "a": [_verdict("full", 1.0, 0.75), _verdict("conv1", 0.97, 0.70), _verdict("conv3", 0.9, 0.5)],
        "b": [_verdict("full", 1.0, 0.75), _verdict("conv1", 0.97, 0.69), _verdict("conv3", 0.9, 0.5, False)],
    }  # fmt: skip
    got = choose_map(verdicts, order)
    assert got.resolution == "conv1" and got.gap == pytest.approx(0.27)  # min over datasets
    assert got.failed == ("conv3",) and set(got.gaps) == {"full", "conv1"}
    assert got.gaps["conv1"] == {"a": pytest.approx(0.27), "b": pytest.approx(0.28)}
    # equal at the reported precision: the finer map
    verdicts["a"][0] = _verdict("full", 1.0, 0.7304)
    verdicts["b"][0] = _verdict("full", 1.0, 0.7304)
    assert choose_map(verdicts, order).resolution == "full"
    assert choose_map(verdicts, order[::-1]).resolution == "conv1"
    with pytest.raises(ValueError, match="passes at no resolution"):
        choose_map({"a": [_verdict("full", 1.0, 0.7, False)]}, ["full"])
    with pytest.raises(ValueError, match="no verdict"):
        choose_map(verdicts, ["conv2"])


def test_the_evaluation_cam_block_the_check_writes_resolves_for_keras_cnn():
    import re
    from pathlib import Path

    import yaml

    from hitlbench.harness.spec import resolve_spec

    page = Path(__file__).resolve().parent.parent / "docs" / "explanation-metrics.md"
    blocks = re.findall(r"```yaml\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1
    cam = yaml.safe_load(blocks[0])["settings"]["evaluation_cam"]
    spec = resolve_spec({"device": "cpu", "classifier": "keras_cnn", "evaluation_cam": cam})
    assert spec["evaluation_cam"] == cam
