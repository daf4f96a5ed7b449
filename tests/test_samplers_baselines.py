"""The baseline samplers of active learning (BADGE, Core-Set, BALD, class-balanced random)
checked against scikit-activeml 1.0.1 on quantities that do not depend on a random draw, and
run through the loop."""

import numpy as np
import pytest
from sklearn.metrics import pairwise_distances

from hitlbench.harness.runner import execute
from hitlbench.registries import classifiers, samplers
from hitlbench.samplers.badge import badge_picks, d2_probabilities, gradient_scale
from hitlbench.samplers.bald import bald_scores
from hitlbench.samplers.coreset import greedy_k_center
from hitlbench.samplers.probcover import coverage_picks, out_degrees, radius_graph
from hitlbench.samplers.random_balanced import balanced_draw
from hitlbench.samplers.typiclust import typical_picks, typicality
from hitlbench.testing import tiny_data
from hitlbench.types import NO_ANSWER, HitlbenchError

skactiveml = pytest.importorskip("skactiveml")
RANDOM_EMBEDDER = {
    "name": "timm",
    "params": {"arch": "resnet10t", "pretrained": False, "input_px": 32},
}
from skactiveml.base import SkactivemlClassifier  # noqa: E402
from skactiveml.pool import Badge, ProbCover, batch_bald, k_greedy_center  # noqa: E402
from skactiveml.pool._typi_clust import _typicality  # noqa: E402


def shared_inputs(n: int = 40, n_classes: int = 4, dim: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, (n, n_classes))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return proba, rng.normal(0, 1, (n, dim))


class FixedOutputs(SkactivemlClassifier):
    """A scikit-activeml classifier whose probabilities and embeddings are given per item (the
    item's index is its only feature)."""

    def __init__(self, proba=None, embeddings=None, classes=None, missing_label=np.nan):
        super().__init__(classes=classes, missing_label=missing_label)
        self.proba = proba
        self.embeddings = embeddings

    def fit(self, X, y, sample_weight=None):
        self._validate_data(X, y)
        return self

    def predict_proba(self, X, return_embeddings=False):
        rows = np.asarray(X[:, 0], int)
        if return_embeddings:
            return self.proba[rows], self.embeddings[rows]
        return self.proba[rows]


def test_badge_d2_probabilities_equal_scikit_activemls_and_ash_et_als():
    proba, features = shared_inputs()
    n_classes = proba.shape[1]
    x = np.arange(len(proba), dtype=float)[:, None]
    y = np.full(len(proba), np.nan)
    clf = FixedOutputs(proba, features, classes=np.arange(n_classes)).fit(x, y)
    badge = Badge(clf_embedding_flag_name="return_embeddings", random_state=0)
    picks, utilities = badge.query(
        x, y, clf=clf, fit_clf=False, batch_size=2, return_utilities=True
    )
    scale = gradient_scale(proba)
    first = badge_picks(scale, features, 1, np.random.default_rng(0))[0]
    assert first == picks[0]  # the largest gradient embedding, as Ash et al.'s code does
    ours, _ = d2_probabilities(scale, features, first)
    # Ash et al.'s init_centers on the materialised N x C.D embeddings: D^2 to the picks only
    embeddings = (scale[:, :, None] * features[:, None, :]).reshape(len(proba), -1)
    ash = pairwise_distances(embeddings, embeddings[[first]]).ravel() ** 2
    np.testing.assert_allclose(ours, ash / ash.sum(), rtol=0, atol=1e-6)
    # scikit-activeml 1.0.1 also keeps the origin as a centre (its D^2 starts from the norms);
    # with the origin added, the same factorised computation gives its probabilities
    norms = (scale**2).sum(axis=1) * (features**2).sum(axis=1)
    with_origin, _ = d2_probabilities(scale, features, first, nearest=norms)
    theirs = np.nan_to_num(utilities[1])  # scikit-activeml marks the pick itself NaN
    np.testing.assert_allclose(with_origin, theirs, rtol=0, atol=1e-6)


def test_badge_never_builds_the_gradient_matrix_and_spreads_its_picks():
    proba, features = shared_inputs(n=200)
    picks = badge_picks(gradient_scale(proba), features, 30, np.random.default_rng(1))
    assert len(set(picks.tolist())) == 30  # a pick has D^2 = 0 and is never drawn again
    again = badge_picks(gradient_scale(proba), features, 30, np.random.default_rng(1))
    assert np.array_equal(picks, again)


def test_coreset_picks_equal_scikit_activemls_for_a_given_labeled_set():
    _, features = shared_inputs(n=60, dim=5, seed=2)
    labeled = np.array([3, 17, 42])
    y = np.full(len(features), np.nan)
    y[labeled] = 0
    theirs, _ = k_greedy_center(features, y, batch_size=8, random_state=0)
    unlabeled = np.setdiff1d(np.arange(len(features)), labeled)
    ours = greedy_k_center(features[unlabeled], features[labeled], 8)
    assert unlabeled[ours].tolist() == list(theirs)


def test_coreset_takes_duplicates_in_turn_once_everything_else_is_covered():
    x = np.repeat(np.eye(6, 3), 2, axis=0)  # 12 rows, 4 distinct (three unit vectors, zeros)
    picks = greedy_k_center(x, np.zeros((1, 3)), 10)
    assert len(set(picks.tolist())) == 10


def test_bald_scores_equal_scikit_activemls_from_the_same_samples():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, (10, 30, 3))
    samples = np.exp(logits) / np.exp(logits).sum(axis=2, keepdims=True)
    theirs = batch_bald(samples, batch_size=1, random_state=0)[0]
    # scikit-activeml floors probabilities at eps = 1e-7 before the logarithm; none is that small
    assert samples.min() > 1e-7
    np.testing.assert_allclose(bald_scores(samples), theirs, rtol=0, atol=1e-6)
    agreeing = np.repeat(samples[:1], 10, axis=0)  # every pass the same: no disagreement
    np.testing.assert_allclose(bald_scores(agreeing), 0.0, atol=1e-12)


def test_typicality_equals_scikit_activemls():
    _, x = shared_inputs(n=50, dim=4, seed=4)
    members = np.arange(10, 40)
    theirs = _typicality(x, members, 7)[members]
    np.testing.assert_allclose(typicality(x[members], 7), theirs, rtol=1e-6, atol=1e-6)


def test_typiclust_takes_the_densest_item_of_each_uncovered_cluster():
    rng = np.random.default_rng(5)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    sizes = [30, 20, 10]
    x = np.concatenate([c + rng.normal(0, 1, (n, 2)) for c, n in zip(centres, sizes)])
    clusters = np.repeat([0, 1, 2], sizes)
    picks = typical_picks(x, clusters, covered={0}, k=2, neighbours=5)
    assert clusters[picks].tolist() == [1, 2]  # the covered cluster is skipped, larger first
    for p, c in zip(picks, (1, 2)):  # each the item nearest its cluster's dense centre
        members = np.flatnonzero(clusters == c)
        assert p == members[np.argmax(typicality(x[members], 5))]


@pytest.mark.filterwarnings("ignore:The maximum purity")  # one radius given: no purity search
def test_probcover_out_degrees_equal_scikit_activemls_at_a_given_radius():
    _, x = shared_inputs(n=80, dim=2, seed=6)
    x = x / np.linalg.norm(x, axis=1, keepdims=True) * np.linspace(0.5, 1.5, 80)[:, None]
    y = np.full(len(x), np.nan)
    labeled = np.array([0, 5])
    y[labeled] = 0
    theirs, utilities = ProbCover(deltas=[0.3], random_state=0).query(
        x, y, batch_size=6, return_utilities=True
    )
    graph = radius_graph(x, 0.3)
    covered = np.zeros(len(x), bool)
    covered[graph[labeled].indices] = True
    candidates = np.setdiff1d(np.arange(len(x)), labeled)
    for b, pick in enumerate(theirs):
        np.testing.assert_array_equal(
            out_degrees(graph, covered)[candidates], utilities[b][candidates]
        )
        covered[graph[pick].indices] = True
        candidates = candidates[candidates != pick]
    # our own greedy, ties at random, covers as much at each step
    pool = np.setdiff1d(np.arange(len(x)), labeled)
    order = np.concatenate([pool, labeled])
    ours = coverage_picks(radius_graph(x[order], 0.3), len(pool), 6, np.random.default_rng(0))
    assert len(set(ours.tolist())) == 6
    assert out_degrees(graph, np.isin(np.arange(len(x)), graph[labeled].indices))[
        pool[ours[0]]
    ] == np.nanmax(utilities[0])


def test_probcover_draws_at_random_once_everything_is_covered():
    # one ball covers the whole pool: after the first pick every row ties at 0
    x = np.random.default_rng(1).normal(size=(60, 3)) * 0.01
    graph = radius_graph(x, 1.0)
    picks = [coverage_picks(graph, 60, 10, np.random.default_rng(s)) for s in (0, 0, 1)]
    np.testing.assert_array_equal(picks[0], picks[1])  # the same generator, the same picks
    assert picks[0].tolist() != picks[2].tolist()
    assert sorted(picks[0][1:].tolist()) != list(range(1, 10))  # not the lowest positions
    assert len(set(picks[0].tolist())) == 10


def test_balanced_draw_fills_the_rarest_classes_first():
    predicted = np.array([0] * 50 + [1] * 50 + [2] * 3 + [NO_ANSWER] * 5)
    counts = np.array([10, 2, 0])
    picks = balanced_draw(predicted, counts, 12, np.random.default_rng(0))
    got = np.bincount(predicted[picks][predicted[picks] >= 0], minlength=3)
    # class 2 has 3 items: all taken; the other 9 slots lift class 1 to class 0's 10, then share
    assert got.tolist() == [0, 9, 3]
    assert len(set(picks.tolist())) == 12
    everything = balanced_draw(predicted, counts, len(predicted), np.random.default_rng(0))
    assert sorted(everything.tolist()) == list(range(len(predicted)))  # the unanswered come last


@pytest.mark.parametrize(
    "name", ["badge", "coreset", "bald", "random_balanced", "typiclust", "probcover"]
)
def test_each_baseline_runs_in_the_loop(tmp_path, digits_spec, name, monkeypatch):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path / "cache"))
    sampler = name
    if name in ("typiclust", "probcover"):  # a small random network's embeddings, offline
        sampler = {"name": name, "params": {"embedder": RANDOM_EMBEDDER}}
    record, _ = execute(digits_spec(sampler=sampler), out=tmp_path)
    picked = [row["n_labeled"] for row in record["rounds"]]
    assert picked == sorted(picked) and picked[-1] > picked[0]


def test_a_sampler_refuses_a_classifier_without_what_it_needs():
    net_without_dropout = classifiers.create("keras_cnn")
    net_without_dropout.bind(tiny_data(size=28).task(), device="cpu", seed=0)
    with pytest.raises(HitlbenchError, match="needs a classifier with sample_proba"):
        samplers.create("bald").check_classifier(net_without_dropout)
    samplers.create("coreset").check_classifier(net_without_dropout)  # it has features


def test_features_and_dropout_passes_of_no_images_are_empty():
    model = classifiers.create("small_cnn", width=4, hidden=8)
    model.bind(tiny_data().task(), device="cpu", seed=0)
    none, items = np.zeros((0, 1, 8, 8), np.float32), np.zeros(0, np.int64)
    passes = model.sample_proba(none, 3, items=items, rng=np.random.default_rng(0))
    assert passes.shape == (3, 0, 3) and model.features(none, items=items).shape == (0, 8)
