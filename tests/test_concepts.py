"""Binary concept tasks over any dataset (Stretcu et al. 2023, Agile Modeling)."""

import numpy as np
import pytest

from hitlbench.concepts import resolve_concept, shipped_concepts
from hitlbench.data import datasets
from hitlbench.data.base import Dataset, ImageData
from hitlbench.data.fmnist import CLASS_NAMES
from hitlbench.harness.spec import resolve_spec, run_id
from hitlbench.testing import check_parameters
from hitlbench.types import HitlbenchError


def test_every_shipped_concept_resolves_on_fashion_mnist():
    for name in shipped_concepts():
        concept = resolve_concept(name, CLASS_NAMES)
        assert concept.class_names == (f"not {name}", name)


def test_a_concept_task_relabels_and_keeps_every_item_and_its_source_row():
    dataset = datasets.create("digits", concept={"name": "small", "positives": ["0", "1"]})
    split = dataset.build(np.random.default_rng(0))
    data = split.data
    assert data.class_names == ("not small", "small") and data.task().concept.name == "small"
    original = datasets.create("digits").load()
    assert np.array_equal(data.labels, np.isin(original.labels, [0, 1]).astype(np.int64))
    assert np.array_equal(data.images, original.images[data.source_rows])


def test_prevalence_makes_the_concept_rare_and_draws_with_the_run_seed():
    def positives_share(seed):
        dataset = datasets.create("digits", concept={"name": "zero", "positives": ["0"]},
                                  prevalence=0.01)  # fmt: skip
        data = dataset.build(np.random.default_rng(seed)).data
        return data.labels.mean(), data.source_rows

    share, rows = positives_share(0)
    assert share == pytest.approx(0.01, abs=0.002)
    assert not np.array_equal(rows, positives_share(1)[1])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"concept": "nope"}, "unknown concept 'nope'"),
        ({"concept": {"name": "x", "positives": ["Dog"]}}, r"\['Dog'\]"),
        ({"prevalence": 0.1}, "prevalence applies to a concept task"),
    ],
)
def test_bad_concepts_are_refused_with_one_line(params, message):
    with pytest.raises(HitlbenchError, match=message):
        datasets.create("digits", **params).build(np.random.default_rng(0))


def test_every_dataset_takes_the_shared_parameters_and_old_run_ids_hold():
    for name in datasets.list():
        cls = datasets.get(name)
        check_parameters(cls)
    plain = resolve_spec({"dataset": "fmnist"})
    assert "concept" in plain["dataset"]["params"]
    assert run_id(plain) == "1c4666b69585b8ea"  # as before concepts existed
    concept = resolve_spec({"dataset": {"name": "fmnist", "params": {"concept": "footwear"}}})
    assert run_id(concept) != run_id(plain)
    with pytest.raises(HitlbenchError, match="prevalence"):
        resolve_spec({"dataset": {"name": "fmnist", "params": {"prevalence": 1.5}}})


def test_on_a_concept_task_every_answer_is_a_rating(tmp_path, digits_spec):
    from hitlbench.harness.runner import execute

    spec = digits_spec(dataset={"name": "digits", "params": {
        "pool_size": 400, "concept": {"name": "zero", "positives": ["0"]}}})  # fmt: skip
    record, _ = execute(spec, out=tmp_path)
    for row in record["rounds"]:
        assert row["effort"] == {"rating": 30}
        assert {"auc_pr", "auroc", "f1"} <= set(row["metrics"])


def test_the_zero_shot_row_on_a_concept_task():
    """ImageNet's shoes and boots against its other garments and bags, through WordNet."""
    from hitlbench.concepts import concept_task, resolve_concept
    from hitlbench.core.metrics import binary_metrics
    from hitlbench.zero_shot import labelers

    base = datasets.create("fmnist").load()
    concept = resolve_concept("footwear", base.class_names)
    data = concept_task(base, concept, None, np.random.default_rng(0))
    items = np.flatnonzero(data.official_test)[:300]
    labeler = labelers.create("imagenet_wordnet", input_px=96, invert=True)
    labeler.check_classes(data.class_names, concept=concept)
    labeler.bind(data.task(), device="cpu", seed=0)
    proba = labeler.answer(data.images[items].astype(np.float32) / 255.0, items).proba
    found = binary_metrics(data.labels[items], proba[:, 1])
    assert found["auc_pr"] > 0.6  # the concept's prevalence here is about 0.3


@datasets.register("test_concepts_lopsided")
class Lopsided(Dataset):
    """40 blank images: 36 of class "many", 4 of class "few"."""

    offers = frozenset()

    def load(self):
        labels = np.array([0] * 36 + [1] * 4, np.int64)
        return ImageData(np.zeros((40, 1, 4, 4), np.uint8), labels, ("many", "few"))


@pytest.mark.parametrize(
    ("positives", "missing"), [(["few"], "no positive"), (["many"], "no negative")]
)
def test_a_concept_holdout_without_positives_or_negatives_is_refused(positives, missing):
    # holdout 0.05: 2 of 40 items, both of the 36 ("few" gets 0.2 of a seat); the pool keeps both
    dataset = datasets.create(
        "test_concepts_lopsided", holdout=0.05, concept={"name": "x", "positives": positives}
    )
    with pytest.raises(
        HitlbenchError, match=rf"the holdout holds 2 items of concept 'x', {missing};"
    ):
        dataset.build(np.random.default_rng(0))
    split = datasets.create(
        "test_concepts_lopsided", holdout=0.5, concept={"name": "x", "positives": positives}
    ).build(np.random.default_rng(0))
    assert set(split.data.labels[split.holdout]) == {0, 1}  # a larger share: both, accepted
