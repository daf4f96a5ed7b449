import json

import numpy as np
import pytest
from conftest import without_timings

from hitlbench.core.provenance import behaviour_hash
from hitlbench.harness.runner import execute
from hitlbench.harness.spec import SPEC_KINDS, resolve_spec, run_id
from hitlbench.samplers.margin import MarginSampler
from hitlbench.samplers.random_order import RandomSampler
from hitlbench.types import HitlbenchError, PoolView


def test_same_spec_and_seed_give_identical_records(tmp_path, digits_spec):
    spec = digits_spec()
    first, path = execute(spec, out=tmp_path / "a")
    second, _ = execute(spec, out=tmp_path / "b")
    assert without_timings(first) == without_timings(second)
    assert path == tmp_path / "a" / "runs" / f"{run_id(spec)}.json"
    assert json.loads(path.read_text())["run_id"] == first["run_id"]


def test_record_shape_and_counts(tmp_path, digits_spec):
    record, _ = execute(digits_spec(), out=tmp_path)
    rows = record["rounds"]
    assert [r["n_labeled"] for r in rows] == [30, 60, 90]
    assert rows[0]["labels_drawn"] == 30 and rows[0]["corrections"] == 0
    for r in rows[1:]:
        assert r["labels_drawn"] == 0
        assert r["effort"].get("label_correct", 0) == r["corrections"]
        assert sum(r["effort"].values()) == 30
    assert record["summary"]["total_corrections"] == sum(r["corrections"] for r in rows)
    assert rows[-1]["effort_s_cum"] == pytest.approx(sum(r["effort_s"] for r in rows))
    assert rows[-1]["metrics"]["accuracy"] > rows[0]["metrics"]["accuracy"]
    assert tuple(record["components"]) == SPEC_KINDS
    assert record["components"]["sampler"] == {
        "name": "random",
        "origin": "builtin",
        "version": "1",
        "behaviour": behaviour_hash(RandomSampler),
    }
    assert set(rows[0]["time_s"]) == {"select", "propose", "review", "update", "fit", "evaluate"}
    assert [r["classes_labeled"] for r in rows] == sorted(r["classes_labeled"] for r in rows)
    assert rows[-1]["classes_labeled"] == 10  # 90 random digits hold every class
    assert 0.0 < rows[-1]["class_tv_distance"] < 0.3  # and roughly the pool's shares


def test_batch_all_labels_the_pool_in_one_round(tmp_path, digits_spec):
    record, _ = execute(digits_spec(batch_size="all"), out=tmp_path)
    assert len(record["rounds"]) == 1
    assert record["rounds"][0]["n_labeled"] == 400


def test_rounds_all_runs_until_the_pool_is_exhausted(tmp_path, digits_spec):
    spec = digits_spec(rounds="all", batch_size=150)
    record, _ = execute(spec, out=tmp_path)
    assert [r["n_labeled"] for r in record["rounds"]] == [150, 300, 400]


def test_batch_larger_than_the_pool_is_refused(tmp_path, digits_spec):
    with pytest.raises(HitlbenchError, match="larger than the pool"):
        execute(digits_spec(batch_size=401), out=tmp_path)


def test_model_based_sampler_falls_back_to_its_cold_start():
    pool = PoolView(np.arange(60), crops=lambda p: None, raw=lambda p: None)
    cold = MarginSampler().select(pool, 5, model=None, rng=np.random.default_rng(7))
    assert np.array_equal(
        cold, RandomSampler().select(pool, 5, model=None, rng=np.random.default_rng(7))
    )


def test_a_random_first_batch_is_the_same_for_every_sampler(tmp_path, digits_spec):
    def first_round(sampler, **settings):
        spec = digits_spec(sampler=sampler, rounds=1, **settings)
        return execute(spec, out=tmp_path)[0]["rounds"][0]

    shared = {s: first_round(s, first_batch="random") for s in ("random", "kernel_herding")}
    assert shared["random"]["metrics"] == shared["kernel_herding"]["metrics"]
    assert shared["random"]["class_tv_distance"] == shared["kernel_herding"]["class_tv_distance"]
    own = first_round("kernel_herding")  # by default herding picks its own first batch
    assert own["metrics"] != shared["kernel_herding"]["metrics"]
    default = resolve_spec(digits_spec())
    assert default["first_batch"] == "sampler"
    assert run_id(default) == run_id({k: v for k, v in default.items() if k != "first_batch"})
    assert run_id(resolve_spec(digits_spec(first_batch="random"))) != run_id(default)


def test_spec_resolution_fills_defaults_and_resolves_aliases():
    spec = resolve_spec({"sampler": "uniform", "device": "cpu"})
    assert spec["sampler"] == {"name": "random", "params": {}}
    assert spec["dataset"]["name"] == "fmnist"
    assert spec["classifier"]["params"]["width"] == 16
    assert (spec["rounds"], spec["batch_size"], spec["seed"]) == (10, 50, 0)
    assert run_id(spec) == run_id(resolve_spec({"sampler": "random", "device": "cpu"}))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"batch_size": 0}, "run setting batch_size=0 refused"),
        ({"rounds": -1}, "run setting rounds=-1 refused"),
        ({"sampler": "nope"}, "unknown sampler 'nope'"),
        ({"classifier": {"name": "small_cnn", "params": {"widht": 3}}}, "accepts: width"),
        ({"bogus": 1}, "unknown spec keys"),
        ({"effort": {"label_guess": 2}}, "unknown action"),
    ],
)
def test_bad_specs_are_refused_before_any_work(raw, message):
    with pytest.raises(HitlbenchError, match=message):
        resolve_spec(raw)
