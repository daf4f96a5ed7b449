"""A third-party package registers a sampler through its own pyproject.toml: no edit to hitlbench."""

import json
import os
import subprocess
import sys

import pytest
from plugin_packages import hitlbench, install_plugin

PROJECT = """
[project]
name = "hitlbench-reverse-sampler"
version = "0.3.0"

[project.entry-points."hitlbench.samplers"]
reverse_order = "reverse_sampler:ReverseOrder"
broken_one = "reverse_sampler_missing:Nothing"
"""

MODULE = '''
"""A plugin sampler: the last pool positions first."""
import numpy as np
from hitlbench.samplers.base import Sampler


class ReverseOrder(Sampler):
    """The last k pool positions, newest first."""

    version = "0.3"

    def __init__(self, skip: int = 0):
        self.skip = skip

    def select(self, pool, k, *, model, rng):
        return np.arange(len(pool))[::-1][self.skip : self.skip + k]
'''


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory):
    return install_plugin(tmp_path_factory, PROJECT, {"reverse_sampler.py": MODULE})


def test_installed_plugin_is_listed_with_its_origin(plugin_site):
    out = hitlbench(plugin_site, "list", "sampler")
    assert out.returncode == 0, out.stderr
    assert "reverse_order" in out.stdout
    assert "hitlbench-reverse-sampler==0.3.0" in out.stdout
    assert "The last k pool positions, newest first." in out.stdout
    assert "FAILED plugin 'broken_one'" in out.stdout  # reported, and nothing else broke


def test_installed_plugin_runs_by_name(plugin_site, tmp_path):
    out = hitlbench(
        plugin_site, "run", "--sampler", "reverse_order", "--dataset", "digits",
        "--set", "dataset.pool_size=200", "--rounds", "2", "--batch-size", "20",
        "--set", "classifier.width=4", "--set", "classifier.max_epochs=3",
        "--set", "classifier.min_epochs=1", "--threads", "1", "--quiet", "--out", str(tmp_path),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "sampler=reverse_order" in out.stdout
    records = list((tmp_path / "runs").glob("*.json"))
    record = json.loads(records[0].read_text())
    behaviour = record["components"]["sampler"].pop("behaviour")
    assert record["components"]["sampler"] == {
        "name": "reverse_order", "origin": "hitlbench-reverse-sampler==0.3.0", "version": "0.3",
    }  # fmt: skip
    assert len(behaviour) == 16 and int(behaviour, 16) >= 0  # the plugin module's code, hashed


def test_unknown_names_list_only_plugins_that_load_and_failures_warn_in_one_line(plugin_site):
    out = hitlbench(plugin_site, "run", "--sampler", "boom", "--dataset", "digits")
    assert out.returncode == 2
    available = out.stderr.split("Available: ", 1)[1]
    assert "reverse_order" in available and "broken_one" not in available
    warning = [line for line in out.stderr.splitlines() if "broken_one" in line]
    assert warning == [
        "hitlbench: warning: sampler plugin 'broken_one' (reverse_sampler_missing:Nothing) failed "
        "to load: ModuleNotFoundError: No module named 'reverse_sampler_missing'"
    ]
    assert "registry.py" not in out.stderr and "Traceback" not in out.stderr


def test_a_plugins_parameters_are_checked_against_its_type_hints(plugin_site, tmp_path):
    out = hitlbench(
        plugin_site, "run", "--sampler", "reverse_order", "--set", "sampler.skip=2.5",
        "--dataset", "digits", "--out", str(tmp_path),
    )  # fmt: skip
    assert out.returncode == 2
    assert "sampler 'reverse_order': parameter skip=2.5 refused" in out.stderr


def test_disable_switch_hides_the_plugin(plugin_site):
    env_site = {**os.environ, "PYTHONPATH": str(plugin_site), "HITLBENCH_DISABLE_PLUGINS": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "hitlbench.cli", "list", "sampler"],
        capture_output=True, text=True, timeout=300, env=env_site,
    )  # fmt: skip
    assert out.returncode == 0 and "reverse_order" not in out.stdout
