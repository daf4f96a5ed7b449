"""Contract checks every registered strategy must pass; plugin authors call them in their tests.

from hitlbench.testing import check_sampler
def test_my_sampler():
    check_sampler(MySampler())
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .annotators.person import UNSURE
from .classifiers.base import Classifier
from .core.effort import LABEL_ACTIONS
from .core.params import check_params, init_parameters, parameter_hints
from .core.torch_rng import seeded
from .data.base import Dataset, ImageData
from .detectors.base import Detector
from .feedback.base import Feedback
from .oracles.base import Oracle
from .samplers.base import Sampler
from .types import (
    Action,
    Gold,
    HitlbenchError,
    LabeledView,
    PoolView,
    Proposal,
    TaskInfo,
    Truth,
    Want,
)
from .zero_shot.base import Labeler


def tiny_data(n: int = 60, n_classes: int = 3, size: int = 8, seed: int = 0) -> ImageData:
    """Learnable synthetic images: each class lights up its own horizontal band, plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % n_classes
    images = rng.integers(0, 60, size=(n, 1, size, size))
    band = size // n_classes
    for c in range(n_classes):
        images[labels == c, :, c * band : (c + 1) * band, :] += 180
    return ImageData(
        images=images.clip(0, 255).astype(np.uint8),
        labels=labels.astype(np.int64),
        class_names=tuple(f"class{c}" for c in range(n_classes)),
        boxes=np.tile(np.array([1, 1, size - 1, size - 1], np.float32), (n, 1)),
        masks={"object": np.ones((n, size, size), bool)},
    )


def _floats(data: ImageData, idx: np.ndarray) -> np.ndarray:
    return data.images[idx].astype(np.float32) / 255.0


def tiny_labeled(data: ImageData) -> LabeledView:
    idx = np.arange(len(data))
    images = _floats(data, idx)
    return LabeledView(
        indices=idx,
        labels=data.labels.copy(),
        images=images,
        val_images=images,
        raw=lambda pos: _floats(data, idx[pos]),
        boxes=data.boxes,
    )


def _fitted_classifier(data: ImageData) -> Classifier:
    from .classifiers.small_cnn import SmallCNN
    from .feedback.labels import LabelsOnly

    model = SmallCNN(width=4, hidden=8, max_epochs=3, min_epochs=1)
    model.bind(data.task(), device="cpu", seed=0)
    model.fit(tiny_labeled(data), feedback=LabelsOnly(), rng=np.random.default_rng(0))
    return model


def _types_in(hint: Any) -> tuple[set[Any], bool]:
    """(the plain types a hint admits, whether it allows NaN and infinities)."""
    allow_nan = False
    if typing.get_origin(hint) is typing.Annotated:
        hint, *extras = typing.get_args(hint)
        allow_nan = any(getattr(e, "allow_inf_nan", False) for e in extras)
    args = (
        typing.get_args(hint)
        if typing.get_origin(hint) in (typing.Union, type(int | None))
        else (hint,)
    )
    types = set()
    for arg in args:
        inner, nan = (
            _types_in(arg) if typing.get_origin(arg) is typing.Annotated else ({arg}, False)
        )
        types |= inner
        allow_nan |= nan
    return types, allow_nan


def check_parameters(cls: type) -> None:
    """Every `__init__` parameter has a type hint that its default passes, and a wrong value is
    refused with one line naming the parameter: NaN for a float (unless the hint allows it, with
    `pydantic.AllowInfNan(True)`), 2.5 for an int, `"maybe"` for a bool (`hitlbench.core.params`)."""
    hints = parameter_hints(cls)
    for parameter in init_parameters(cls):
        name, hint = parameter.name, hints[parameter.name]
        assert hint is not Any, (
            f"parameter {name} has no type hint; hitlbench checks --set values against hints"
        )
        default = parameter.default
        if default is not inspect.Parameter.empty and default is not None:
            check_params(cls, {name: default}, cls.__name__)  # the default fits its own hint
        types, allow_nan = _types_in(hint)
        wrong = []
        if float in types and not allow_nan:
            wrong.append(float("nan"))
        if int in types and float not in types:
            wrong.append(2.5)
        if bool in types and str not in types:
            wrong.append("maybe")
        for value in wrong:
            try:
                check_params(cls, {name: value}, cls.__name__)
            except HitlbenchError as exc:
                message = str(exc)
                assert "\n" not in message and f"parameter {name}=" in message, message
            else:
                raise AssertionError(f"parameter {name} ({hint}) accepted {value!r}")


def check_sampler(sampler: Sampler, k: int = 7, n_classes: int = 3) -> None:
    """Prepared on the collection, k distinct in-range positions, the same for the same seed,
    the pool left untouched, on a task of `n_classes` (2 for a sampler of concept tasks); with
    a model, a small CNN that offers features and Monte Carlo dropout (`Sampler.needs`)."""
    data = tiny_data(n_classes=n_classes)
    indices = np.arange(5, len(data))
    before = indices.copy()
    pool = PoolView(
        indices,
        crops=lambda pos: _floats(data, indices[pos]),
        raw=lambda pos: _floats(data, indices[pos]),
        labeled=data.labels[:5],
        labeled_items=np.arange(5),
        labeled_crops=lambda pos: _floats(data, np.arange(5)[pos]),
    )
    sampler.prepare(data, progress=False)
    models = [None, _fitted_classifier(data)] if sampler.uses_model else [None]
    for model in models:
        first = np.asarray(sampler.select(pool, k, model=model, rng=np.random.default_rng(1)))
        again = np.asarray(sampler.select(pool, k, model=model, rng=np.random.default_rng(1)))
        assert first.shape == (k,), f"expected {k} positions, got shape {first.shape}"
        assert len(np.unique(first)) == k, "positions are not distinct"
        assert first.min() >= 0 and first.max() < len(pool), "a position is outside the pool"
        assert np.array_equal(first, again), "not deterministic for a seed"
        assert np.array_equal(indices, before), "the pool was mutated"


def _bound(oracle: Oracle, data: ImageData) -> Oracle:
    """`oracle` bound to the tiny task, with the last items as gold if it asks for gold."""
    n_gold = oracle.gold_size(len(data))
    gold = None
    if n_gold:
        picked = np.arange(len(data) - n_gold, len(data))
        gold = Gold(picked, data.labels[picked])
    oracle.prepare(data, progress=False)
    oracle.bind(data.task(), gold=gold, rng=np.random.default_rng(0))
    return oracle


def check_oracle(oracle: Oracle, make: Callable[[], Oracle] | None = None) -> None:
    """Labels are classes or UNSURE (-1); every answer costs a label action (`label_unsure`
    for an unsure one; one person: exactly one per item, gold screening may add answers to
    hidden items); corrections count the proposals changed; deterministic for a seed
    (`make` returns a fresh oracle for the second run; without it the same one is bound again).
    An oracle that `needs_ready_classifier` is tried with a proposal only.
    """
    data = tiny_data()
    items = np.arange(12)
    truth = Truth(labels=data.labels[items], boxes=data.boxes[items])
    wrong = (data.labels[items] + (items % 2)) % len(data.class_names)
    proba = np.eye(len(data.class_names))[wrong]
    proposals = [None, Proposal(labels=wrong, proba=proba)]
    if oracle.needs_ready_classifier:  # it only takes pre-labels: never reviews without them
        proposals = proposals[1:]
    for proposal in proposals:
        runs = []
        for fresh in (oracle, make() if make else oracle):
            review = _bound(fresh, data).review(
                items, truth=truth, proposal=proposal, wants=frozenset({Want.LABEL}),
                rng=np.random.default_rng(0),
            )  # fmt: skip
            runs.append(np.asarray(review.labels))
        labels = runs[0]
        assert np.array_equal(runs[0], runs[1]), "not deterministic for a seed"
        assert len(labels) == len(items), "one label per item"
        assert ((labels == UNSURE) | ((labels >= 0) & (labels < len(data.class_names)))).all()
        sure = labels != UNSURE
        counts = {a: review.effort.get(a, 0) for a in LABEL_ACTIONS}
        n_answers = len(items) if review.answers is None else len(review.answers)
        spent = sum(counts.values()) + review.effort.get(Action.LABEL_UNSURE.value, 0)
        assert spent >= n_answers, "every answer costs a label action (screening may add more)"
        if review.answers is None:  # one person: their actions are the item's
            assert spent == n_answers, "one person: one label action per item"
            assert review.labels_drawn == counts[Action.LABEL_SCRATCH.value]
            assert review.corrections == counts[Action.LABEL_CORRECT.value]
        if proposal is None:
            assert review.corrections == 0, "no proposal, nothing to correct"
        else:
            assert review.corrections == int((sure & (labels != proposal.labels)).sum()), (
                "corrections must count proposals changed"
            )


def check_classifier(make: Callable[[], Classifier], task_seed: int = 0, size: int = 8) -> None:
    """Fits and predicts on a tiny fixture of `size` x `size` images; probabilities are valid
    (rows summing to 1, or all zero for an item it cannot answer) and deterministic for a seed."""
    from .feedback.labels import LabelsOnly

    data = tiny_data(seed=task_seed, size=size)
    outputs = []
    for _ in range(2):
        model = make()
        model.bind(data.task(), device="cpu", seed=3)
        model.reveal(data.labels)  # as the loop does; only simulated labelers read them
        model.prepare(data, progress=False)  # as the loop does; embedding_mlp caches features
        model.fit(tiny_labeled(data), feedback=LabelsOnly(), rng=np.random.default_rng(4))
        assert model.ready, "a fitted classifier must be ready"
        proba = model.predict_proba(_floats(data, np.arange(len(data))), items=np.arange(len(data)))
        assert proba.shape == (len(data), len(data.class_names))
        sums = proba.sum(axis=1)
        assert np.all(np.isclose(sums, 1.0, atol=1e-4) | (sums == 0)), "rows must sum to 1 or 0"
        outputs.append(proba)
    assert np.array_equal(outputs[0], outputs[1]), "not deterministic for a seed"


def check_labeler(
    make: Callable[[], Labeler],
    class_names: tuple[str, ...] = ("class0", "class1", "class2"),
    images: np.ndarray | None = None,
) -> None:
    """Answers [N, C] float32, each row summing to 1 or all zero, finite, one fine label (or
    None) per image, the same for the same seed and items whatever the batch they come in."""
    data = tiny_data(n_classes=len(class_names))
    images = _floats(data, np.arange(len(data))) if images is None else images
    items = np.arange(len(images))
    outputs = []
    for _ in range(2):
        labeler = make()
        labeler.check_classes(class_names)
        task = TaskInfo(len(class_names), class_names, tuple(images.shape[1:]))
        labeler.bind(task, device="cpu", seed=3)
        labeler.reveal(data.labels)
        answers = labeler.answer(images, items)
        proba = np.asarray(answers.proba)
        assert proba.shape == (len(images), len(class_names)) and proba.dtype == np.float32
        assert np.isfinite(proba).all() and (proba >= 0).all()
        sums = proba.sum(axis=1)
        assert np.all(np.isclose(sums, 1.0, atol=1e-4) | (sums == 0)), "rows sum to 1 or are 0"
        assert len(answers.fine) == len(images)
        outputs.append(proba)
    assert np.array_equal(outputs[0], outputs[1]), "not deterministic for a seed"
    half = len(images) // 2
    again = labeler.answer(images[half:], items[half:]).proba
    assert np.allclose(again, outputs[1][half:], atol=1e-5), (
        "an item's answer changed with its batch"
    )


def check_detector(detector: Detector) -> None:
    """One box per image (or a NaN row for none), inside it, with positive width and height."""
    data = tiny_data()
    detector.bind(device="cpu", seed=0)
    detector.learn(tiny_labeled(data), 0)
    images = _floats(data, np.arange(10))
    true_boxes = data.boxes[:10] if detector.drawn_by_person else None
    boxes = np.asarray(detector.propose(images, true_boxes=true_boxes))
    h, w = images.shape[2:]
    assert boxes.shape == (10, 4)
    boxes = boxes[~np.isnan(boxes).any(axis=1)]
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 1] >= 0).all()
    assert (boxes[:, 2] <= w).all() and (boxes[:, 3] <= h).all()
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()


def check_feedback(fb: Feedback) -> None:
    """Asks for known annotation kinds; its loss is None or a finite scalar that back-propagates."""
    wants = fb.wants(0, np.arange(4))
    assert isinstance(wants, frozenset) and all(isinstance(w, Want) for w in wants)
    generator = torch.Generator().manual_seed(0)
    with seeded(0):
        net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 3))
    x, y = torch.rand(4, 1, 8, 8, generator=generator), torch.tensor([0, 1, 2, 0])
    extras = {
        "spurious": torch.zeros(4, 8, 8, dtype=torch.bool),
        "object": torch.ones(4, 8, 8, dtype=torch.bool),
    }
    extras |= {f"has_{name}": torch.ones(4, dtype=torch.bool) for name in list(extras)}
    maps = torch.rand(4, 8, 8, generator=generator, requires_grad=True) if fb.needs_cam else None
    loss = fb.loss(net, x, y, net(x), extras, maps=maps)
    assert loss is None or (loss.ndim == 0 and torch.isfinite(loss))
    if loss is not None and maps is not None:
        loss.backward()
        assert maps.grad is not None, "the loss must depend on the Grad-CAM maps"


def check_dataset(dataset: Dataset) -> None:
    """Consistent shapes; a seeded split is a stratified partition and reproducible."""
    first = dataset.build(np.random.default_rng(0))
    again = dataset.build(np.random.default_rng(0))
    data = first.data
    task: TaskInfo = data.task()
    assert task.n_classes == len(data.class_names) >= 2
    assert data.labels.min() >= 0 and data.labels.max() < task.n_classes
    assert len(np.intersect1d(first.pool, first.holdout)) == 0, "pool and holdout overlap"
    assert np.array_equal(first.pool, again.pool) and np.array_equal(first.holdout, again.holdout)
    if data.boxes is not None:
        assert data.boxes.shape == (len(data), 4)
    if dataset.offers is not None:
        assert data.offers() == dataset.offers, (
            f"declares offers {sorted(dataset.offers)} but its data offers {sorted(data.offers())}"
        )
