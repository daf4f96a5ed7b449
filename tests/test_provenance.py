"""Provenance that cannot drift: behaviour hashes beside versions, no records from uncommitted
code without saying so, and each component's own random stream."""

import importlib.util
import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from hitlbench import cli
from hitlbench.core.provenance import behaviour_hash, kept_behaviours
from hitlbench.core.torch_rng import TorchStream, seeded
from hitlbench.harness import bench
from hitlbench.registries import REGISTRIES
from hitlbench.testing import tiny_data, tiny_labeled

ROOT = Path(__file__).resolve().parent.parent


def load_module(tmp_path, name, source):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.Thing


ORIGINAL = '''
"""A module."""
import math


class Thing:
    """Does a thing."""

    def value(self):
        return math.pi * 2
'''


def test_the_hash_ignores_docstrings_comments_and_imports_but_not_code(tmp_path):
    first = behaviour_hash(load_module(tmp_path, "m1", ORIGINAL))
    reworded = ORIGINAL.replace('"""Does a thing."""', '"""Does it."""  # a comment')
    reordered = "from os import path\n" + reworded
    assert behaviour_hash(load_module(tmp_path, "m2", reordered)) == first
    changed = ORIGINAL.replace("math.pi * 2", "math.pi * 3")
    assert behaviour_hash(load_module(tmp_path, "m3", changed)) != first


def test_a_declared_earlier_hash_counts_as_the_code_and_leaves_the_hash_alone(tmp_path):
    first = behaviour_hash(load_module(tmp_path, "m4", ORIGINAL))
    declared = ORIGINAL.replace(
        '"""Does a thing."""', '"""Does a thing."""\n\n    same_behaviour_as = ("0123abcd",)'
    )
    thing = load_module(tmp_path, "m5", declared)
    assert behaviour_hash(thing) == first
    assert kept_behaviours(thing) == {first, "0123abcd"}
    assert kept_behaviours(load_module(tmp_path, "m6", ORIGINAL)) == {first}


def published_components():
    for path in sorted(ROOT.glob("leaderboards/records/*/*.json")):
        for kind, block in json.loads(path.read_text()).get("components", {}).items():
            if "behaviour" in block:
                yield path, kind, block


def test_a_strategy_changed_without_a_new_version_fails_here():
    checked = 0
    for path, kind, block in published_components():
        registry = REGISTRIES[kind]
        if block["name"] not in registry or registry.origin(block["name"]) != "builtin":
            continue
        cls = registry.get(block["name"])
        if cls.version == block["version"]:
            assert block["behaviour"] in kept_behaviours(cls), (
                f"{kind} {block['name']} changed since {path.name} was recorded but still says "
                f"version {cls.version}: bump its version (or, if benchmarks/same_behaviour.py "
                f"shows a refactor kept the records, list {block['behaviour']} in its "
                "same_behaviour_as)"
            )
            checked += 1
    assert checked  # the published smoke records carry hashes


def test_bench_refuses_a_dirty_checkout_without_allow_dirty(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "git_hash", lambda: "abc123-dirty")
    assert cli.main(["bench", "smoke", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "uncommitted changes" in err and "--allow-dirty" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("git", "allow_dirty"), [(None, False), ("abc123-dirty", True)])
def test_an_installed_package_or_allow_dirty_is_not_refused(
    monkeypatch, tmp_path, git, allow_dirty
):
    from hitlbench.harness.suites import load_suite

    monkeypatch.setattr(bench, "git_hash", lambda: git)
    monkeypatch.setattr(bench, "device_available", lambda device: False)  # skip every cell
    suite = load_suite("smoke")
    assert bench.run_suite(suite, tmp_path, progress=False, allow_dirty=allow_dirty) == []


def test_a_stream_is_its_own_whatever_else_draws_from_torch():
    def draws(interleave: bool) -> list[float]:
        stream, out = TorchStream(7), []
        for _ in range(3):
            with stream.active():
                out += torch.rand(2).tolist()
            if interleave:
                torch.rand(100)  # another component drawing from the global stream
        return out

    assert draws(True) == draws(False)
    before = torch.get_rng_state()
    with seeded(3):
        torch.rand(5)
    assert torch.equal(before, torch.get_rng_state())  # the global stream is left as it was


def test_one_seed_gives_the_same_detector_whatever_the_classifier_draws():
    def boxes(consume: int) -> np.ndarray:
        data = tiny_data(n=16, size=32)
        detector = REGISTRIES["detector"].create(
            "frcnn", resize=32, epochs=1, refit_epochs=1, fpn_channels=16, pretrained=False
        )
        detector.bind(device="cpu", seed=5)
        labeled = tiny_labeled(data)
        for round_index in range(2):
            torch.rand(consume)  # a classifier's fit between the detector's updates
            detector.learn(labeled, round_index)
        return detector.propose(data.images[:4].astype(np.float32) / 255.0)

    np.testing.assert_array_equal(boxes(1), boxes(1000))
