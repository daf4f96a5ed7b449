"""People whose mistakes depend on the item: the stated average rate is kept, hard items draw
more errors, wrong answers go to the classes an item is confused with, schools share their
mistakes, and a concept rater says "yes" to hard negatives more often than to easy ones."""

import numpy as np
import pytest

from hitlbench.annotators.agreement import error_agreement
from hitlbench.annotators.confusion import symmetric
from hitlbench.annotators.item_errors import ItemErrors, reference_probabilities
from hitlbench.data.base import ImageData
from hitlbench.harness.spec import resolve_spec, run_id
from hitlbench.oracles.base import Oracle, PersonOracle
from hitlbench.oracles.noisy import NoisyOracle
from hitlbench.registries import oracles
from hitlbench.testing import check_oracle
from hitlbench.types import HitlbenchError, Truth, Want

N_CLASSES = 3


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path / "cache"))


def blended(n: int = 3000, seed: int = 0) -> tuple[ImageData, np.ndarray, np.ndarray]:
    """Items of 3 classes, each its class's pattern blended with one other class's by a share
    `purity` in [0.4, 1]: a low purity makes an item hard, and confused with that other class.
    Returns (data, purity [N], the other class [N])."""
    rng = np.random.default_rng(seed)
    patterns = rng.random((N_CLASSES, 1, 8, 8))
    labels = np.arange(n) % N_CLASSES
    other = (labels + rng.integers(1, N_CLASSES, n)) % N_CLASSES
    purity = rng.uniform(0.4, 1.0, n)
    mix = purity[:, None, None, None] * patterns[labels]
    mix += (1 - purity)[:, None, None, None] * patterns[other]
    images = np.clip(255 * (mix + rng.normal(0, 0.08, mix.shape)), 0, 255).astype(np.uint8)
    names = tuple(f"class{c}" for c in range(N_CLASSES))
    return (
        ImageData(images=images, labels=labels.astype(np.int64), class_names=names),
        purity,
        other,
    )


def test_reference_probabilities_are_out_of_fold_cached_and_refuse_tiny_classes(tmp_path):
    data, purity, _ = blended(600)
    proba = reference_probabilities(data.images, data.labels, N_CLASSES)
    assert proba.shape == (600, N_CLASSES) and np.allclose(proba.sum(axis=1), 1.0)
    own = proba[np.arange(600), data.labels]
    assert own[purity > 0.8].mean() > own[purity < 0.55].mean() + 0.2  # hard items look hard
    assert len(list((tmp_path / "cache" / "item_difficulty").glob("*.npz"))) == 1
    assert np.array_equal(reference_probabilities(data.images, data.labels, N_CLASSES), proba)
    with pytest.raises(ValueError, match="at least 5 items of every class"):
        reference_probabilities(data.images[:8], np.array([0, 0, 0, 0, 0, 0, 1, 1]), 2)
    with pytest.raises(ValueError, match="class 2 has 0"):  # a class with no item at all
        reference_probabilities(data.images[:10], np.array([0] * 5 + [1] * 5), 3)


def test_item_errors_keep_the_stated_rate_and_fall_on_hard_items():
    data, purity, other = blended()
    proba = reference_probabilities(data.images, data.labels, N_CLASSES)
    p = 0.2
    errors = ItemErrors.calibrated(proba, data.labels, symmetric(N_CLASSES, 1 - p), slope=1.0)
    for c in range(N_CLASSES):  # calibrated exactly, per class
        assert errors.rates[data.labels == c].mean() == pytest.approx(p, abs=1e-9)
    # drawn: 20 answers to each of the 3,000 items; binomial SE of the mean about 0.0016,
    # the tolerance (0.01) about six of them
    items = np.tile(np.arange(len(data.labels)), 20)
    answers = errors.answer(items, data.labels[items], np.random.default_rng(0))
    wrong = answers != data.labels[items]
    assert wrong.mean() == pytest.approx(p, abs=0.01)
    hard, easy = purity[items] < 0.55, purity[items] > 0.85
    assert wrong[hard].mean() > 2 * wrong[easy].mean()
    # a wrong answer goes mostly to the class the item was blended with (1 of 2 others)
    assert (answers[wrong & hard] == other[items][wrong & hard]).mean() > 0.75


def test_slope_zero_makes_every_item_of_a_class_alike():
    data, _, _ = blended(600)
    proba = reference_probabilities(data.images, data.labels, N_CLASSES)
    errors = ItemErrors.calibrated(proba, data.labels, symmetric(N_CLASSES, 0.7), slope=0.0)
    assert np.allclose(errors.rates, 0.3)


def test_a_perfect_class_gets_no_errors_and_a_hopeless_one_all():
    data, _, _ = blended(600)
    proba = reference_probabilities(data.images, data.labels, N_CLASSES)
    confusion = symmetric(N_CLASSES, 0.8)
    confusion[0] = [1.0, 0.0, 0.0]
    confusion[1] = [0.5, 0.0, 0.5]
    errors = ItemErrors.calibrated(proba, data.labels, confusion, slope=1.0)
    assert (errors.rates[data.labels == 0] == 0).all() and (
        errors.rates[data.labels == 1] == 1
    ).all()


def bound_crowd(data: ImageData, **params):
    crowd = oracles.create("crowd", error_model="item", **params)
    crowd.prepare(data, progress=False)
    crowd.bind(data.task(), gold=None, rng=np.random.default_rng(3))
    return crowd


def test_members_of_one_school_share_their_wrong_answers():
    data, _, _ = blended()
    crowd = bound_crowd(data, k=4, schools=2, accuracies=[0.6] * 4)
    items = np.arange(len(data.labels))
    said = [
        crowd.answer_alone(i, data.labels, np.random.default_rng(i), items=items) for i in range(4)
    ]
    wrong = [s != data.labels for s in said]

    def same_wrong(a, b):
        both = wrong[a] & wrong[b]
        return (said[a][both] == said[b][both]).mean()

    # annotators 0 and 2 are one school (i mod 2), 0 and 1 are not
    assert same_wrong(0, 2) > 0.95 > same_wrong(0, 1) + 0.3
    assert same_wrong(1, 3) > 0.95 > same_wrong(1, 2) + 0.3


def test_item_dependent_crowds_err_together_and_the_record_says_so():
    data, _, _ = blended()
    items = np.arange(600)
    truth_labels = data.labels[items]
    rows = {}
    for model in ("uniform", "item"):
        crowd = oracles.create("crowd", k=3, accuracies=[0.7] * 3, error_model=model)
        crowd.prepare(data, progress=False)
        crowd.bind(data.task(), gold=None, rng=np.random.default_rng(0))
        review = crowd.review(
            items, truth=Truth(labels=truth_labels), proposal=None,
            wants=frozenset({Want.LABEL}), rng=np.random.default_rng(1),
        )  # fmt: skip
        rows[model] = review.extras
    assert abs(rows["uniform"]["error_correlation"]) < 0.08  # independent errors
    assert rows["item"]["error_correlation"] > rows["uniform"]["error_correlation"] + 0.1
    assert rows["item"]["wrong_agreement"] > rows["uniform"]["wrong_agreement"]


def test_independent_errors_of_unequal_annotators_are_uncorrelated():
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 4, 50_000)
    answers = np.stack(
        [np.where(rng.random(len(truth)) < p, (truth + 1) % 4, truth) for p in (0.05, 0.05, 0.5)],
        axis=1,
    )
    # pooled over pairs, unequal error rates alone would give about -0.14
    assert abs(error_agreement(answers, truth)["error_correlation"]) < 0.02


def test_error_agreement_on_a_known_case():
    truth = np.array([0, 0, 0, 0])
    answers = np.array([[1, 1, 0], [1, 2, -1], [0, 0, 0], [2, 0, 2]])
    # pairs answering one item: (a0,a1) x4, (a0,a2) x3, (a1,a2) x3; both wrong: item 0 (a0,a1)
    # same, item 1 (a0,a1) differs, item 3 (a0,a2) same
    out = error_agreement(answers, truth)
    assert out["wrong_agreement"] == pytest.approx(2 / 3, abs=1e-6)
    assert -1 <= out["error_correlation"] <= 1
    assert error_agreement(np.zeros((3, 2), np.int64), np.zeros(3, np.int64)) == {
        "wrong_agreement": None, "error_correlation": None,
    }  # fmt: skip


def concept_data(n: int = 2000, seed: int = 1) -> tuple[ImageData, np.ndarray]:
    """A two-class concept: positives light the top half; negatives light a share `closeness`
    of it as brightly (a hard negative: close to the concept). Returns (data, closeness [N])."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 2).astype(np.int64)
    closeness = np.where(labels == 1, 1.0, rng.uniform(0.0, 0.9, n))
    images = rng.normal(40, 25, (n, 1, 8, 8))
    images[:, :, :4, :] += 160 * closeness[:, None, None, None]
    data = ImageData(
        images=np.clip(images, 0, 255).astype(np.uint8), labels=labels,
        class_names=("negative", "positive"),
    )  # fmt: skip
    return data, closeness


def test_a_concept_rater_says_yes_to_hard_negatives_more_often():
    data, closeness = concept_data()
    rater = oracles.create("noisy", p=0.15, error_model="item")
    rater.prepare(data, progress=False)
    rater.bind(data.task(), gold=None, rng=np.random.default_rng(0))
    negatives = np.flatnonzero(data.labels == 0)
    items = np.tile(negatives, 10)
    said = rater.own_answers(data.labels[items], np.random.default_rng(2), items=items)
    yes = said == 1
    hard, easy = closeness[items] > 0.6, closeness[items] < 0.3
    assert yes[hard].mean() > 3 * yes[easy].mean()


def test_item_errors_need_prepare_and_check_their_slope():
    data, _, _ = blended(300)
    rater = oracles.create("noisy", error_model="item")
    with pytest.raises(HitlbenchError, match="call prepare first"):
        rater.bind(data.task(), gold=None, rng=np.random.default_rng(0))
    with pytest.raises(HitlbenchError, match="difficulty_slope must be a finite number >= 0"):
        oracles.create("noisy", error_model="item", difficulty_slope=-1.0)


@pytest.mark.parametrize("name", ["noisy", "crowd", "automation_bias", "gold_screening"])
def test_item_dependent_oracles_pass_the_oracle_template(name):
    params = {
        "noisy": {"error_model": "item"},
        "crowd": {"error_model": "item", "schools": 2},
        "automation_bias": {"annotator": {"name": "noisy", "params": {"error_model": "item"}}},
        "gold_screening": {
            "crowd": {"name": "crowd", "params": {"error_model": "item"}},
            "gold_items": 5,
        },
    }[name]
    check_oracle(oracles.create(name, **params), lambda: oracles.create(name, **params))


def test_the_default_keeps_published_run_ids():
    base = {"dataset": "digits", "oracle": {"name": "noisy", "params": {"p": 0.2}}}
    explicit = {**base, "oracle": {"name": "noisy", "params": {"p": 0.2, "error_model": "uniform",
                                                                "difficulty_slope": 1.0}}}  # fmt: skip
    assert run_id(resolve_spec(base)) == run_id(resolve_spec(explicit))
    item = {**base, "oracle": {"name": "noisy", "params": {"p": 0.2, "error_model": "item"}}}
    assert run_id(resolve_spec(item)) != run_id(resolve_spec(base))


def test_an_oracle_written_to_contract_2_is_called_without_items():
    class Old(PersonOracle):
        def own_answers(self, truth, rng):
            return np.asarray(truth).copy()

    class Current(Oracle):
        def review(self, items, **kwargs):
            raise NotImplementedError

    class OldOnTopOfNoisy(NoisyOracle):  # calls the built-in as contract 2 did: no items
        def own_answers(self, truth, rng):
            return super().own_answers(truth, rng)

    assert Old.contract == 2 and Current.contract == 3 and OldOnTopOfNoisy.contract == 2
    truth, rng, items = np.array([2, 1]), np.random.default_rng(0), np.arange(2)
    assert Old().own_answers(truth, rng, items=items).tolist() == [2, 1]
    person = OldOnTopOfNoisy(p=0.0)
    person.bind(blended(30)[0].task(), gold=None, rng=np.random.default_rng(0))
    assert person.own_answers(truth, rng, items=items).tolist() == [2, 1]
