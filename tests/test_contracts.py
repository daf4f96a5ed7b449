"""Every built-in strategy passes the contract templates of hitlbench.testing (DESIGN §7)."""

import pytest

from hitlbench import testing
from hitlbench.registries import REGISTRIES

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


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[f"{k}-{n}" for k, n in CASES])
def test_contract(kind, name):
    CHECKS[kind](REGISTRIES[kind].create(name))


@pytest.mark.parametrize("name", builtin("classifier"))
def test_classifier_contract(name):
    testing.check_classifier(lambda: REGISTRIES["classifier"].create(name, **FAST.get(name, {})))


FAST = {"small_cnn": {"width": 4, "hidden": 8, "max_epochs": 4, "min_epochs": 2}}


def test_every_registry_has_a_builtin():
    assert set(REGISTRIES) == {"dataset", "sampler", "detector", "classifier", "oracle", "feedback"}
    for kind in REGISTRIES:
        assert builtin(kind), kind
