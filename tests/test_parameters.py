"""Every value from --set or a suite file is checked against its declared type before anything
runs: one line naming the component, the parameter, the value and what was expected; exit 2; no
record and no folder written."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest
from conftest import NO_MARGINS
from pydantic import AllowInfNan

from hitlbench import testing
from hitlbench.core.component import Component
from hitlbench.core.params import check_params
from hitlbench.harness import yaml12
from hitlbench.harness.spec import identity, resolve_spec, run_id
from hitlbench.harness.suites import parse_suite
from hitlbench.samplers.base import Sampler, samplers
from hitlbench.types import HitlbenchError

FAST = [
    "--dataset", "digits", "--set", "dataset.pool_size=100", "--rounds", "1",
    "--batch-size", "20", "--threads", "1", "--device", "cpu", "--quiet",
    "--set", "classifier.width=4", "--set", "classifier.hidden=8",
    "--set", "classifier.max_epochs=2", "--set", "classifier.min_epochs=1",
]  # fmt: skip


def hitlbench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hitlbench.cli", *args],
        capture_output=True, text=True, timeout=300, env=dict(os.environ),
    )  # fmt: skip


def record_of(out: subprocess.CompletedProcess) -> dict:
    line = next(x for x in out.stdout.splitlines() if x.startswith("record: "))
    return json.loads(Path(line.split(": ", 1)[1]).read_text())


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("classifier.width=abc", "classifier 'small_cnn': parameter width='abc' refused"),
        ("classifier.width=[1,2]", "classifier 'small_cnn': parameter width=[1, 2] refused"),
        ("classifier.max_epochs=2.5", "parameter max_epochs=2.5 refused: input should be a valid integer"),
        ("dataset.pool_size=12.5", "dataset 'digits': parameter pool_size=12.5 refused"),
        ("classifier.lr=.nan", "parameter lr=nan refused: input should be a finite number"),
        ("classifier.lr=.inf", "parameter lr=inf refused: input should be a finite number"),
        ("effort_budget_s=.nan", "run setting effort_budget_s=nan refused"),
        ("effort.label_scratch=.nan", "effort.label_scratch=nan refused"),
        ("classifier.width=true", "parameter width=True refused: input should be a valid integer"),
        ("classifier.lr=false", "parameter lr=False refused: input should be a valid number"),
        ("effort.label_scratch=true", "effort.label_scratch=True refused"),
        ("seed=true", "run setting seed=True refused"),
        ("effort_budget_s=true", "run setting effort_budget_s=True refused"),
        ("classifier.warm_start=maybe", "parameter warm_start='maybe' refused: input should be a valid boolean"),
        ("effort=5", "effort: expected a mapping of actions to seconds"),
    ],
)  # fmt: skip
def test_a_value_of_the_wrong_type_is_refused_in_one_line(setting, named, tmp_path):
    out = hitlbench("run", *FAST, "--set", setting, "--out", str(tmp_path / "out"))
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("hitlbench: error: ")
    assert named in out.stderr
    assert not (tmp_path / "out").exists()  # no record, no folder


def test_a_nan_bandwidth_names_the_bandwidth(tmp_path):
    out = hitlbench(
        "run", *FAST, "--sampler", "kernel_herding", "--set", "sampler.embedder=pixels",
        "--set", "sampler.bandwidth=.nan", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert out.returncode == 2
    assert "sampler 'kernel_herding': parameter bandwidth=nan refused" in out.stderr
    assert "expected float | None" in out.stderr and not (tmp_path / "out").exists()


def test_scientific_notation_is_a_number_and_a_bare_kind_names_the_component(tmp_path):
    out = hitlbench(
        "run", *FAST, "--set", "classifier=small_cnn", "--set", "classifier.lr=2e-3",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    params = record_of(out)["spec"]["classifier"]
    assert params["name"] == "small_cnn" and params["params"]["lr"] == 0.002


@pytest.mark.parametrize(
    ("text", "value"),
    [("1e-3", 1e-3), ("1E5", 1e5), ("-2.5e+3", -2500.0), ("1.0e-3", 1e-3), (".5e3", 500.0),
     ("3", 3), ("1.5", 1.5), ("1e", "1e"), ("true", True), ("abc", "abc")],
)  # fmt: skip
def test_yaml_reads_numbers_as_yaml_1_2_does(text, value):
    got = yaml12.load(text)
    assert got == value and type(got) is type(value)


def test_suite_files_read_scientific_notation_too():
    doc = yaml12.load(
        "settings: {device: cpu}\n"
        "defaults: {dataset: digits, classifier: {name: small_cnn, params: {lr: 3e-3}}}\n"
        "methods: {Random: {sampler: random}}\n"
    )
    suite = parse_suite({**doc, "margins": NO_MARGINS}, "sci")
    assert suite.cells()[0].spec["classifier"]["params"]["lr"] == 0.003


def test_validation_keeps_the_value_as_given():
    spec = resolve_spec({"classifier": {"name": "small_cnn", "params": {"lr": 1}}, "device": "cpu"})
    assert spec["classifier"]["params"]["lr"] == 1
    assert type(spec["classifier"]["params"]["lr"]) is int  # an int given for a float stays one


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"batch_size": True}, "run setting batch_size=True refused"),
        ({"threads": 1.5}, "run setting threads=1.5 refused"),
        ({"targets": [0.5, float("nan")]}, "run setting targets=[0.5, nan] refused"),
        ({"effort_budget_s": float("inf")}, "run setting effort_budget_s=inf refused"),
        ({"device": "gpu"}, "run setting device='gpu' refused"),
        ({"classifier": {"name": "small_cnn", "params": 3}}, "params must map parameter names"),
        ({"classifier": 7}, "expected a name or"),
    ],
)
def test_run_settings_are_checked_like_parameters(raw, message):
    with pytest.raises(HitlbenchError, match=message.replace("[", r"\[").replace("]", r"\]")):
        resolve_spec({"device": "cpu", **raw})


# -- the contract template ---------------------------------------------------------------------


class Typed(Component):
    def __init__(
        self,
        rate: float = 0.5,
        count: int = 3,
        flag: bool = False,
        anything: Annotated[float, AllowInfNan(True)] = math.inf,
    ):
        self.rate, self.count, self.flag, self.anything = rate, count, flag, anything


class Untyped(Component):
    def __init__(self, rate=0.5):
        self.rate = rate


def test_the_template_passes_typed_parameters_and_an_opt_in_for_nan():
    testing.check_parameters(Typed)
    check_params(Typed, {"anything": math.nan}, "typed")  # the hint allows it


def test_the_template_fails_a_parameter_without_a_type_hint():
    with pytest.raises(AssertionError, match="parameter rate has no type hint"):
        testing.check_parameters(Untyped)


def test_the_template_fails_a_default_that_does_not_fit_its_hint():
    class Wrong(Component):
        def __init__(self, count: int = 2.5):
            self.count = count

    with pytest.raises(HitlbenchError, match="parameter count=2.5 refused"):
        testing.check_parameters(Wrong)


# -- run identity --------------------------------------------------------------------------------


@samplers.register("test_grown_sampler")
class GrownSampler(Sampler):
    """A sampler that gained `spread` after its records were published."""

    added_params = {"spread": 0}

    def __init__(self, spread: int = 0):
        self.spread = spread

    def select(self, pool, k, *, model, rng):
        return rng.choice(len(pool), size=k, replace=False)


def test_a_parameter_added_at_its_old_value_keeps_the_run_id():
    old = resolve_spec({"sampler": "random", "device": "cpu"})
    old["sampler"] = {"name": "test_grown_sampler", "params": {}}  # as published, before spread
    now = resolve_spec({"sampler": "test_grown_sampler", "device": "cpu"})
    assert now["sampler"]["params"] == {"spread": 0}  # the spec shows every value
    assert run_id(now) == run_id(old) and "spread" not in identity(now)["sampler"]["params"]
    changed = resolve_spec({"sampler": {"name": "test_grown_sampler", "params": {"spread": 2}}})
    assert run_id(changed) != run_id(now)


def test_an_effort_action_added_at_its_old_value_keeps_the_run_id(monkeypatch):
    from hitlbench.core import effort
    from hitlbench.harness import spec

    before = run_id(resolve_spec({"device": "cpu"}))
    monkeypatch.setitem(effort.DEFAULT_SECONDS, "skim", 2.0)
    monkeypatch.setitem(spec.ADDED_ACTIONS, "skim", 2.0)
    assert run_id(resolve_spec({"device": "cpu"})) == before
    assert run_id(resolve_spec({"device": "cpu", "effort": {"skim": 3}})) != before


def test_every_published_record_is_filed_under_its_run_id():
    records = sorted(Path(__file__).resolve().parent.parent.glob("leaderboards/records/*/*.json"))
    assert records
    for path in records:
        record = json.loads(path.read_text())
        assert path.stem == record["run_id"] == run_id(record["spec"]), path
