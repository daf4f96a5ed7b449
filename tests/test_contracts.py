"""Every built-in strategy passes the contract templates of hitlbench.testing (DESIGN §7)."""

import pytest

from hitlbench import testing
from hitlbench.harness.spec import SPEC_KINDS
from hitlbench.registries import REGISTRIES
from hitlbench.types import HitlbenchError

CHECKS = {
    "sampler": testing.check_sampler,
    "oracle": testing.check_oracle,
    "detector": testing.check_detector,
    "feedback": testing.check_feedback,
    "dataset": testing.check_dataset,
}


def builtin(kind):
    reg = REGISTRIES[kind]
    return [n for n in reg.list() if reg.origin(n) == "builtin"]


CASES = [(kind, name) for kind in CHECKS for name in builtin(kind)]


FAST = {  # small settings so each contract runs in seconds
    ("classifier", "small_cnn"): {"width": 4, "hidden": 8, "max_epochs": 4, "min_epochs": 2},
    ("classifier", "keras_cnn"): {"max_epochs": 3, "batch_size": 16},
    ("classifier", "timm"): {"input_size": 32, "max_epochs": 2, "min_epochs": 1},
    ("detector", "frcnn"): {"resize": 32, "epochs": 1, "fpn_channels": 16},
    ("detector", "box_regressor"): {"resize": 32},
    ("classifier", "zero_shot"): {"backend": {"name": "simulated", "params": {"accuracy": 0.8}}},
    ("classifier", "embedding_mlp"): {
        "embedder": {"name": "timm", "params": {"arch": "resnet10t", "pretrained": False}},
        "lr": 1e-2,
    },
    ("sampler", "typiclust"): {
        "embedder": {"name": "timm", "params": {"arch": "resnet10t", "pretrained": False}},
    },
    ("sampler", "probcover"): {
        "embedder": {"name": "timm", "params": {"arch": "resnet10t", "pretrained": False}},
    },
    ("sampler", "expansion"): {  # no concept: seed images retrieve, in a small random network
        "embedder": {"name": "timm", "params": {"arch": "resnet10t", "pretrained": False}},
        "seed_items": [0, 1, 2],
        "neighbours": 5,
    },
}
TWO_CLASS = {("sampler", "margin_positive_mining")}  # samplers of concept tasks
# Labelers need their model or server: the offline ones run here, on class names ImageNet has;
# open_clip (a tiny model built from a config) and openai (a server on 127.0.0.1) run the same
# template in their own test files.
LABELERS = {
    "simulated": ({"accuracy": 0.7}, ("class0", "class1", "class2")),
    "imagenet_wordnet": ({"input_px": 64}, ("cat", "dog", "car")),
}
ELSEWHERE = {"open_clip": "test_zero_shot_open_clip.py", "openai": "test_zero_shot_openai.py"}


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[f"{k}-{n}" for k, n in CASES])
def test_contract(kind, name):
    component = REGISTRIES[kind].create(name, **FAST.get((kind, name), {}))
    if kind == "dataset":
        try:
            component.load()
        except HitlbenchError as exc:  # photo datasets need a local copy; their loaders are
            pytest.skip(f"no local copy here: {exc}")  # tested on fixtures in test_photo_datasets
    if kind == "oracle":  # a fresh instance for the determinism check
        testing.check_oracle(component, make=lambda: REGISTRIES[kind].create(name))
        return
    if (kind, name) in TWO_CLASS:
        testing.check_sampler(component, n_classes=2)
        return
    CHECKS[kind](component)


@pytest.mark.parametrize("name", builtin("classifier"))
def test_classifier_contract(name):
    params = FAST.get(("classifier", name), {})
    size = 20 if name == "keras_cnn" else 8  # its three valid convolutions need 18x18 or more
    testing.check_classifier(lambda: REGISTRIES["classifier"].create(name, **params), size=size)


@pytest.mark.parametrize("name", builtin("labeler"))
def test_labeler_contract(name):
    if name in ELSEWHERE:
        pytest.skip(f"needs a model or a server: run in {ELSEWHERE[name]}")
    params, class_names = LABELERS[name]
    testing.check_labeler(lambda: REGISTRIES["labeler"].create(name, **params), class_names)


PARAMETER_CASES = [(kind, name) for kind in REGISTRIES for name in builtin(kind)]


@pytest.mark.parametrize(
    ("kind", "name"), PARAMETER_CASES, ids=[f"{k}-{n}" for k, n in PARAMETER_CASES]
)
def test_parameters_contract(kind, name):
    testing.check_parameters(REGISTRIES[kind].get(name))


def test_every_registry_has_a_builtin():
    assert set(REGISTRIES) == {*SPEC_KINDS, "labeler", "embedder"}  # nested kinds
    for kind in REGISTRIES:
        assert builtin(kind), kind
