import os
import tempfile

import numpy as np
import pytest

from hitlbench.harness.spec import resolve_spec
from hitlbench.harness.suites import DEFAULT_METRICS

# A test suite's margins: it draws verdicts on the default metrics but asks no equivalence.
NO_MARGINS = {m: {"value": None, "reason": "a test suite asks no equivalence question"}
              for m in DEFAULT_METRICS}  # fmt: skip


@pytest.fixture
def digits_spec():
    """A fast real-data spec: digits, a narrow CNN, 3 rounds of 30."""

    def make(**overrides):
        raw = {
            "dataset": {"name": "digits", "params": {"pool_size": 400}},
            "classifier": {
                "name": "small_cnn",
                "params": {"width": 8, "hidden": 32, "max_epochs": 30, "lr": 0.003},
            },
            "rounds": 3,
            "batch_size": 30,
            "threads": 1,
            "device": "cpu",
        }
        raw.update(overrides)
        return resolve_spec(raw)

    return make


def without_timings(obj):
    """A record with wall-clock times and the environment removed, for equality checks."""
    if isinstance(obj, dict):
        return {k: without_timings(v) for k, v in obj.items() if k not in ("time_s", "env")}
    if isinstance(obj, list):
        return [without_timings(v) for v in obj]
    return obj


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def pytest_configure(config):
    """Artefacts the tests compute go to a scratch cache, never the user's."""
    if "HITLBENCH_CACHE" not in os.environ:
        os.environ["HITLBENCH_CACHE"] = tempfile.mkdtemp(prefix="hitlbench-test-cache-")


# A two-method suite on 200 digits that runs in seconds: for tests that bench or replicate cells.
TINY_SUITE = {
    "name": "tiny",
    "seeds": [0, 1],
    "settings": {"rounds": 2, "batch_size": 25, "threads": 1, "device": "cpu"},
    "defaults": {
        "dataset": {"name": "digits", "params": {"pool_size": 200}},
        "classifier": {"name": "small_cnn", "params": {"width": 8, "hidden": 16, "max_epochs": 10}},
    },
    "methods": {"Random": {"sampler": "random"}, "Margin": {"sampler": "margin"}},
    "baseline": "Random",
    "margins": NO_MARGINS,
}
