"""Explanation metrics with their thresholds, the evaluation Grad-CAM, reference maps and their
leaderboard rows, the Keras-style CNN, and the split that never touches the official test set."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import NO_MARGINS
from test_leaderboard import board, make_record, table

from hitlbench.classifiers.keras_cnn import KerasCNN, feature_size
from hitlbench.classifiers.reference_map import ReferenceMap
from hitlbench.core.explain import CamSpec
from hitlbench.core.metrics import explanation_metrics
from hitlbench.data.splits import make_split
from hitlbench.harness.runner import execute
from hitlbench.harness.spec import apply_override, identity, resolve_spec, run_id
from hitlbench.harness.suites import parse_suite
from hitlbench.testing import tiny_data, tiny_labeled
from hitlbench.types import HitlbenchError

FMNIST = Path("/usr/share/datasets/fashion-mnist").is_dir()


def test_dice_at_each_threshold_soft_dice_and_shares_by_hand():
    maps = np.zeros((1, 2, 4))
    maps[0, 0] = [1.0, 0.5, 0.1, 0.0]  # max-normalised already
    mask = np.zeros((1, 2, 4), bool)
    mask[0, 0, :2] = True  # 2 of 8 pixels
    got = explanation_metrics(maps, {"object": mask})
    assert got["dice_object"] == pytest.approx(2 * 2 / (2 + 2))  # >= 0.5: pixels 0 and 1
    assert got["dice_object_t0.2"] == pytest.approx(1.0)
    assert got["dice_object_t0"] == pytest.approx(2 * 2 / (3 + 2))  # > 0: three pixels
    assert got["soft_dice_object"] == pytest.approx(2 * 1.5 / (1.6 + 2))
    assert got["cam_share_object"] == pytest.approx(1.5 / 1.6)
    assert got["mask_share_object"] == pytest.approx(2 / 8)
    assert got["zero_map_rate"] == 0.0
    true = explanation_metrics(maps, {"object": mask}, suffix="_true")
    assert true["dice_object_true"] == got["dice_object"] and "dice_object" not in true


def test_signed_maps_with_minmax_and_flat_maps_score_zero():
    signed = np.array([[[-1.0, 1.0], [0.0, 0.0]], [[2.0, 2.0], [2.0, 2.0]]])
    mask = np.array([[[False, True], [False, False]]] * 2)
    got = explanation_metrics(signed, {"object": mask}, norm="minmax")
    # image 0: minmax -> [[0, 1], [0.5, 0.5]]: >= 0.5 three pixels, one on the mask
    assert got["zero_map_rate"] == 0.5  # image 1 is flat
    assert got["dice_object"] == pytest.approx((2 * 1 / (3 + 1) + 0.0) / 2)
    with pytest.raises(ValueError, match="minmax"):
        explanation_metrics(signed, {"object": mask}, norm="sum")


def test_a_whole_image_map_scores_what_its_mask_share_says():
    rng = np.random.default_rng(0)
    mask = rng.random((50, 28, 28)) < 0.3
    whole = ReferenceMap("whole_image")
    whole.bind(tiny_data().task(), device="cpu", seed=0)
    maps = whole.explain(np.zeros((50, 1, 28, 28), np.float32))
    got = explanation_metrics(maps, {"object": mask})
    share = mask.reshape(50, -1).mean(axis=1)
    assert got["dice_object"] == pytest.approx(np.mean(2 * share / (1 + share)))
    square = ReferenceMap("central_square", side=20).explain(np.zeros((2, 1, 28, 28)))
    assert square.sum(axis=(1, 2)).tolist() == [400, 400] and square[0, 4, 4] == 1
    assert square[0, 3, 4] == 0 and square[0, 23, 23] == 1 and square[0, 24, 24] == 0
    obj = ReferenceMap("object_mask")
    assert obj.explain(np.zeros((50, 1, 28, 28)), masks={"object": mask}).sum() == mask.sum()
    assert obj.explain(np.zeros((50, 1, 28, 28))) is None  # nothing to copy without masks
    with pytest.raises(ValueError, match="map must be"):
        ReferenceMap("random")


class SpyMeanObject(ReferenceMap):
    """The mean object mask, keeping the dataset indices of every fit's items."""

    def fit(self, train, *, feedback, rng):
        self.trained = np.asarray(train.indices).copy()
        return super().fit(train, feedback=feedback, rng=rng)


def test_the_mean_object_mask_averages_the_labeled_pool_items_masks_only():
    from hitlbench.core.effort import seconds_table
    from hitlbench.data.base import SplitData
    from hitlbench.detectors.whole_image import WholeImage
    from hitlbench.oracles.perfect import PerfectOracle
    from hitlbench.samplers.random_order import RandomSampler
    from hitlbench.simulation.loop import run_loop
    from hitlbench.simulation.parts import Components, LoopRngs, LoopSettings

    data = tiny_data(n=60, size=8)
    rng = np.random.default_rng(0)
    obj = np.zeros((60, 8, 8), bool)
    obj[:40, :4, :4] = rng.random((40, 4, 4)) < 0.7  # pool: the top-left quarter only
    obj[40:, 4:, 4:] = True  # holdout: the bottom-right quarter, which no pool item has
    data.masks["object"] = obj
    split = SplitData(data, pool=np.arange(40), holdout=np.arange(40, 60))
    ref = SpyMeanObject("mean_object")
    ref.bind(data.task(), device="cpu", seed=0)
    assert ref.prepare(data, progress=False) is None  # as the runner calls it, before the loop
    parts = Components(RandomSampler(), WholeImage(), ref, PerfectOracle(), _labels())
    rngs = LoopRngs(*(np.random.default_rng(i) for i in range(4)))
    rows, _ = run_loop(split, parts, LoopSettings(10, 2, seconds_table()), rngs)
    assert len(ref.trained) == 20 and set(ref.trained) < set(range(40))
    expected = obj[ref.trained].mean(axis=0)
    maps = ref.explain(np.zeros((3, 1, 8, 8), np.float32))
    assert maps.shape == (3, 8, 8) and np.allclose(maps, expected)  # the last fit's 20 items
    assert not np.allclose(maps, obj[:40].mean(axis=0))  # not the whole pool's
    last = rows[-1]["metrics"]
    assert last["cam_share_object"] == 0.0 and last["dice_object"] == 0.0  # no holdout mask in it
    assert last["accuracy"] == 0.0  # it answers no item


def test_the_mean_object_mask_is_none_without_object_masks_and_follows_the_crop_size():
    data = tiny_data(n=20, size=8)
    ref = ReferenceMap("mean_object")
    ref.bind(data.task(), device="cpu", seed=0)
    ref.fit(tiny_labeled(data), feedback=None, rng=np.random.default_rng(0))
    assert ref.explain(np.zeros((2, 1, 8, 8))) is None  # never prepared: no masks to average
    ref.prepare(data, progress=False)
    ref.fit(tiny_labeled(data), feedback=None, rng=np.random.default_rng(0))
    assert np.allclose(ref.explain(np.zeros((2, 1, 8, 8))), 1.0)  # tiny_data: all-True masks
    assert np.allclose(ref.explain(np.zeros((2, 1, 16, 12))), 1.0)  # resized to a crop's size
    bare = tiny_data(n=20, size=8)
    bare.masks.clear()
    other = ReferenceMap("mean_object")
    other.bind(bare.task(), device="cpu", seed=0)
    other.prepare(bare, progress=False)
    other.fit(tiny_labeled(bare), feedback=None, rng=np.random.default_rng(0))
    assert other.explain(np.zeros((2, 1, 8, 8))) is None


def test_the_reference_map_version_says_the_other_maps_kept_their_behaviour():
    assert ReferenceMap.version == "2"  # 2 added mean_object; the other maps are as in 1
    square = ReferenceMap("central_square", side=20).explain(np.zeros((1, 1, 28, 28)))
    assert square.sum() == 400 and square[0, 4:24, 4:24].all()


def test_a_reference_map_answers_no_item_and_trains_nothing():
    data = tiny_data()
    ref = ReferenceMap()
    ref.bind(data.task(), device="cpu", seed=0)
    assert not ref.ready
    report = ref.fit(tiny_labeled(data), feedback=None, rng=np.random.default_rng(0))
    assert ref.ready and report.epochs == 0
    proba = ref.predict_proba(np.zeros((3, 1, 8, 8)), items=np.arange(3))
    assert proba.shape == (3, 3) and not proba.any()


def test_suites_add_reference_map_cells_with_the_classifier_replaced():
    doc = {
        "name": "refs",
        "seeds": [0, 1],
        "settings": {"rounds": 1, "batch_size": "all", "device": "cpu"},
        "defaults": {
            "dataset": {"name": "decoy_fmnist", "params": {"pool_size": 200}},
            "classifier": {"name": "keras_cnn", "params": {"max_epochs": 3}},
        },
        "methods": {"none": {}, "spurious": {"feedback": "rrr_gradcam"}},
        "baseline": "none",
        "references": ["whole-image map", "mean object mask", "object mask"],
        "margins": NO_MARGINS,
    }
    cells = parse_suite(doc, "refs").cells()
    refs = [c for c in cells if c.method in ("whole-image map", "mean object mask", "object mask")]
    assert len(refs) == 6 and len(cells) == 10
    assert all(c.spec["classifier"]["name"] == "reference_map" for c in refs)
    assert all(c.spec["feedback"]["name"] == "labels" for c in refs)
    assert {c.spec["classifier"]["params"]["map"] for c in refs} == {
        "whole_image", "mean_object", "object_mask"
    }  # fmt: skip
    with pytest.raises(HitlbenchError, match="unknown references"):
        parse_suite({**doc, "references": ["oracle map"]}, "refs")
    for reserved in ("object mask", "mean object mask", "best prior"):
        with pytest.raises(HitlbenchError, match="reserved"):
            parse_suite({**doc, "methods": {reserved: {}}, "baseline": reserved}, "refs")


def test_reference_rows_show_explanation_metrics_only():
    runs = []
    for method, dice in (("Random", 0.3), ("Margin", 0.4), ("whole-image map", 0.6)):
        for s in range(2):
            r = make_record(method, s)
            r["summary"]["final_metrics"] = {"dice_object": dice + 0.01 * s}
            runs.append(r)
    metrics = ["final_accuracy", "final_metrics.dice_object"]
    rows = table(board(runs, metrics=metrics), "## dataset.name=digits")
    assert list(rows) == ["Random", "Margin", "whole-image map", "best prior"]
    assert rows["whole-image map"]["final_accuracy"] == "–"
    assert rows["whole-image map"]["final_metrics.dice_object"].startswith("0.605")
    assert " — " not in rows["whole-image map"]["final_metrics.dice_object"]  # compared with none
    assert rows["best prior"]["final_metrics.dice_object"].startswith("0.605")
    assert rows["best prior"]["final_metrics.dice_object"].endswith("(whole-image map)")


OLD_CAM = {"relu": True, "weights": "gradcam", "norm": "max"}  # before method and layer


def test_evaluation_cam_is_a_checked_setting_that_keeps_old_run_ids():
    base = resolve_spec({"device": "cpu"})
    assert base["evaluation_cam"] == {**OLD_CAM, "method": "gradcam", "layer": None}
    legacy = {k: v for k, v in base.items() if k != "evaluation_cam"}
    assert run_id(base) == run_id(legacy)  # records from before the setting keep their ids
    assert run_id(base) == run_id({**base, "evaluation_cam": OLD_CAM})  # and from before method
    raw = {"device": "cpu"}
    apply_override(raw, "evaluation_cam.relu", False)
    apply_override(raw, "evaluation_cam.norm", "minmax")
    signed = resolve_spec(raw)
    assert signed["evaluation_cam"] == {
        "relu": False, "weights": "gradcam", "norm": "minmax", "method": "gradcam", "layer": None
    }  # fmt: skip
    assert run_id(signed) != run_id(base)
    # a setting other than the default hashes as it did before method and layer existed
    assert identity(signed)["evaluation_cam"] == {
        "relu": False,
        "weights": "gradcam",
        "norm": "minmax",
    }
    assert run_id(signed) == run_id(
        {**signed, "evaluation_cam": {**OLD_CAM, "relu": False, "norm": "minmax"}}
    )
    for bad in ({"norm": "sum"}, {"weights": "smooth"}, {"relu": "yes"}, {"colour": 1}):
        with pytest.raises(HitlbenchError, match="evaluation_cam"):
            resolve_spec({"device": "cpu", "evaluation_cam": bad})


RECORDS = Path(__file__).resolve().parent.parent / "leaderboards" / "records"


def test_a_published_xil_record_keeps_its_run_id():
    """0203fdc58e7a4ce0: keras_cnn with rrr_gradcam on decoy_fmnist (xil_sweep), recorded
    before evaluation_cam had a method or a layer; its spec resolves to the same id today, with
    its evaluation_cam as recorded or left out."""
    record = json.loads((RECORDS / "xil_sweep" / "0203fdc58e7a4ce0.json").read_text())
    assert record["run_id"] == "0203fdc58e7a4ce0"
    assert record["spec"]["evaluation_cam"] == OLD_CAM
    spec = resolve_spec(record["spec"])
    assert spec["evaluation_cam"] == {**OLD_CAM, "method": "gradcam", "layer": None}
    assert run_id(spec) == "0203fdc58e7a4ce0"
    unset = {k: v for k, v in record["spec"].items() if k != "evaluation_cam"}
    assert run_id(resolve_spec(unset)) == "0203fdc58e7a4ce0"
    for path in sorted((RECORDS / "xil_sweep").glob("*.json")):  # and the whole suite
        other = json.loads(path.read_text())
        assert run_id(resolve_spec(other["spec"])) == other["run_id"], path.name


def test_evaluation_cam_names_a_method_and_a_layer():
    keras = {"device": "cpu", "classifier": "keras_cnn"}
    grads = resolve_spec({**keras, "evaluation_cam": {"method": "input_gradient"}})
    assert grads["evaluation_cam"]["method"] == "input_gradient"
    first = resolve_spec({**keras, "evaluation_cam": {"layer": "features.act1"}})
    assert first["evaluation_cam"]["layer"] == "features.act1"
    base = resolve_spec(keras)
    assert len({run_id(base), run_id(grads), run_id(first)}) == 3
    own = resolve_spec({**keras, "evaluation_cam": {"layer": KerasCNN.cam_layer}})
    assert own["evaluation_cam"]["layer"] is None and run_id(own) == run_id(base)  # same map
    with pytest.raises(
        HitlbenchError, match="'lime' is unknown; use one of: gradcam, input_gradient"
    ):
        resolve_spec({**keras, "evaluation_cam": {"method": "lime"}})
    with pytest.raises(HitlbenchError, match="evaluation_cam.layer must be null"):
        resolve_spec({**keras, "evaluation_cam": {"layer": 3}})
    with pytest.raises(
        HitlbenchError, match="evaluation_cam: layer, relu and weights are Grad-CAM's"
    ):
        resolve_spec({**keras, "evaluation_cam": {"method": "input_gradient", "relu": False}})


def test_keras_cnn_explains_with_the_evaluation_map_and_refuses_a_layer_it_lacks():
    data = tiny_data(n=8, size=20)
    clf = KerasCNN()
    clf.bind(data.task(), device="cpu", seed=0)
    images = data.images.astype(np.float32) / 255.0
    default = clf.explain(images)
    assert np.array_equal(clf.explain(images, cam=CamSpec(layer=KerasCNN.cam_layer)), default)
    first = clf.explain(images, cam=CamSpec(layer="features.act1"))
    grads = clf.explain(images, cam=CamSpec(method="input_gradient"))
    for maps in (default, first, grads):
        assert maps.shape == (8, 20, 20) and maps.dtype == np.float32
    assert not np.allclose(first, default) and (grads >= 0).all() and grads.max() > 0
    clf.check_cam(CamSpec(layer="features.act2"))  # it has this one
    clf.check_cam(CamSpec(method="input_gradient"))
    with pytest.raises(HitlbenchError) as caught:
        clf.check_cam(CamSpec(layer="features.act9"))
    message = str(caught.value)
    assert "evaluation_cam.layer 'features.act9'" in message and "'keras_cnn'" in message
    assert "features.act1" in message and "features.conv2" in message and "head" not in message


def test_the_training_split_never_touches_the_official_test_images():
    labels = np.arange(100) % 5
    official = np.zeros(100, bool)
    official[80:] = True
    pool, held = make_split(
        labels, official_test=None, exclude=official, holdout=0.25, pool_size=None,
        rng=np.random.default_rng(0),
    )  # fmt: skip
    assert len(held) == 20 and len(pool) == 60
    assert (np.concatenate([pool, held]) < 80).all() and not set(pool) & set(held)


def test_keras_cnn_shapes_and_a_short_fit():
    assert feature_size(28) == 3 and feature_size(18) == 1 and feature_size(17) == 0
    data = tiny_data(n=40, size=20)
    clf = KerasCNN(max_epochs=2, batch_size=8)
    clf.bind(data.task(), device="cpu", seed=0)
    report = clf.fit(tiny_labeled(data), feedback=_labels(), rng=np.random.default_rng(0))
    assert report.n_val == 4 and 1 <= report.epochs <= 2
    images = data.images.astype(np.float32) / 255.0
    assert clf.explain(images).shape == (40, 20, 20)
    with pytest.raises(ValueError, match="18x18"):
        KerasCNN().bind(tiny_data(size=16).task(), device="cpu", seed=0)


def _labels():
    from hitlbench.feedback.labels import LabelsOnly

    return LabelsOnly()


@pytest.mark.skipif(not FMNIST, reason="real Fashion-MNIST missing")
def test_a_reference_map_run_records_its_explanation_metrics(tmp_path):
    raw = {}
    for key, value in {
        "dataset": {"name": "decoy_fmnist", "params": {"pool_size": 100}},
        "classifier": {"name": "reference_map", "params": {"map": "object_mask"}},
        "rounds": 1, "batch_size": "all", "device": "cpu",
    }.items():  # fmt: skip
        apply_override(raw, key, value)
    record, _ = execute(resolve_spec(raw), out=tmp_path)
    final = record["rounds"][-1]["metrics"]
    assert final["dice_object"] == pytest.approx(1.0) and final["dice_spurious"] == 0.0
    assert final["dice_object_true"] == pytest.approx(1.0) and final["accuracy"] == 0.0


@pytest.mark.skipif(not FMNIST, reason="real Fashion-MNIST missing")
def test_the_mean_object_mask_beats_the_whole_image_map_on_decoy_fmnist(tmp_path):
    """docs/explanation-metrics.md: the mean pool object mask scores dice about 0.72 against the
    object at full resolution, the whole-image map about 0.62, and neither touches the decoy
    much."""
    finals = {}
    for name in ("mean_object", "whole_image"):
        raw = {}
        for key, value in {
            "dataset": {"name": "decoy_fmnist", "params": {"pool_size": 500}},
            "classifier": {"name": "reference_map", "params": {"map": name}},
            "rounds": 1, "batch_size": "all", "device": "cpu",
        }.items():  # fmt: skip
            apply_override(raw, key, value)
        record, _ = execute(resolve_spec(raw), out=tmp_path / name)
        finals[name] = record["rounds"][-1]["metrics"]
    assert 0.69 < finals["mean_object"]["dice_object"] < 0.76
    assert finals["mean_object"]["dice_object"] > finals["whole_image"]["dice_object"] + 0.05
    assert finals["mean_object"]["dice_spurious"] < 0.02


def test_a_run_with_a_layer_its_classifier_lacks_stops_before_training(digits_spec, tmp_path):
    spec = digits_spec(evaluation_cam={"layer": "features.act7"})
    with pytest.raises(HitlbenchError, match="evaluation_cam.layer 'features.act7'.*small_cnn"):
        execute(spec, out=tmp_path)
    assert not list(tmp_path.rglob("*.json"))


@pytest.mark.slow
@pytest.mark.skipif(not FMNIST, reason="real Fashion-MNIST missing")
def test_a_run_scores_the_input_gradient_when_its_evaluation_cam_says_so(tmp_path):
    raw = {}
    for key, value in {
        "dataset": {"name": "decoy_fmnist", "params": {"pool_size": 100}},
        "classifier": {"name": "keras_cnn", "params": {"max_epochs": 1}},
        "rounds": 1, "batch_size": "all", "device": "cpu", "threads": 1,
        "evaluation_cam": {"method": "input_gradient"},
    }.items():  # fmt: skip
        apply_override(raw, key, value)
    record, _ = execute(resolve_spec(raw), out=tmp_path)
    assert record["spec"]["evaluation_cam"]["method"] == "input_gradient"
    last = record["rounds"][-1]
    assert 0.0 < last["metrics"]["dice_object"] <= 1.0 and "dice_spurious_true" in last["metrics"]
    assert last["metrics"]["zero_map_rate"] == 0.0 and "cam_examples" in last
