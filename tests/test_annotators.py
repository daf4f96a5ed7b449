"""Simulated annotators: known answers per oracle, the shared rule, crowds, gold screening,
unsure items and label quality in the records."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import without_timings

from hitlbench.annotators.aggregation import aggregate
from hitlbench.annotators.confusion import FMNIST_SIMILAR, similar_classes, symmetric
from hitlbench.annotators.person import Person, respond
from hitlbench.harness.runner import execute
from hitlbench.harness.spec import resolve_spec
from hitlbench.types import HitlbenchError


def test_the_rule_accepts_equal_answers_defers_only_to_wrong_proposals():
    truth = np.array([0, 0, 0, 0])
    own = np.array([0, 1, 1, 2])
    proposal = np.array([0, 1, 2, 0])  # right, wrong (agrees), wrong (differs), right
    always = respond(own, proposal, truth, 1.0, np.random.default_rng(0))
    never = respond(own, proposal, truth, 0.0, np.random.default_rng(0))
    assert always.tolist() == [0, 1, 2, 2]  # defers to the wrong one; changes the right one anyway
    assert never.tolist() == [0, 1, 1, 2]  # gives their own answer where it differs
    assert respond(own, None, truth, 1.0, np.random.default_rng(0)).tolist() == own.tolist()


def test_confusion_models():
    assert np.allclose(symmetric(4, 0.7).sum(axis=1), 1) and symmetric(4, 0.7)[
        0, 1
    ] == pytest.approx(0.1)
    names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")  # fmt: skip
    m = similar_classes(names, 0.6, FMNIST_SIMILAR)
    assert m[6, 0] == pytest.approx(0.1) and m[6, 5] == 0  # a shirt is taken for a top, not a shoe
    assert m[1, 1] == 0.6 and m[1, 0] == pytest.approx(0.4 / 9)  # a trouser is in no group
    with pytest.raises(HitlbenchError, match="not among the task's classes"):
        similar_classes(("a", "b"), 0.9, [("a", "z")])
    person = Person(symmetric(3, 0.8), unsure=1.0)
    draws = person.answer(np.zeros(20000, np.int64), np.random.default_rng(0))
    assert abs((draws == 0).mean() - 0.8) < 0.01
    unsure = person.unsure_of(np.zeros(20000, np.int64), np.random.default_rng(1))
    assert abs(unsure.mean() - 0.2) < 0.01  # unsure x their error rate on the class


def test_dawid_skene_recovers_the_truth_where_majority_vote_is_wrong():
    pytest.importorskip("crowdkit")
    rng = np.random.default_rng(0)
    n_classes, items, workers, labels, truth = 3, [], [], [], {}
    for item in range(60):  # calibration: three right annotators outvote two that shift labels
        t = item % n_classes
        truth[item] = t
        for worker in range(5):
            items.append(item), workers.append(worker)
            labels.append(t if worker < 3 else (t + 1) % n_classes)
    for item in range(60, 90):  # traps: one right annotator against the two that shift labels
        t = item % n_classes
        truth[item] = t
        for worker in (0, 3, 4):
            items.append(item), workers.append(worker)
            labels.append(t if worker == 0 else (t + 1) % n_classes)
    arrays = [np.array(a) for a in (items, workers, labels)]
    vote = aggregate("majority_vote", *arrays, n_classes, rng)
    ds = aggregate("dawid_skene", *arrays, n_classes, rng)
    traps = range(60, 90)
    assert all(vote[i] != truth[i] for i in traps)  # wrong by construction
    assert all(ds[i] == truth[i] for i in range(90))


@pytest.fixture
def spec(digits_spec):
    def make(oracle, **overrides):
        return digits_spec(oracle=oracle, **overrides)

    return make


def test_noisy_with_p_zero_gives_perfects_rounds_and_summary(tmp_path, spec):
    perfect, _ = execute(spec("perfect"), out=tmp_path / "p")
    noisy, _ = execute(spec({"name": "noisy", "params": {"p": 0.0}}), out=tmp_path / "n")
    assert without_timings(noisy["rounds"]) == without_timings(perfect["rounds"])
    assert noisy["summary"] == perfect["summary"]
    assert perfect["summary"]["label_errors"] == perfect["summary"]["missed_corrections"] == 0


def test_automation_bias_of_one_accepts_every_wrong_proposal(tmp_path, spec):
    record, _ = execute(spec({"name": "automation_bias", "params": {"p": 1.0}}), out=tmp_path)
    for row in record["rounds"]:
        assert row["corrections"] == 0 and "label_correct" not in row["effort"]
        # every wrong proposal was accepted, and each entered training as a label error
        assert row["label_errors"] == row["missed_corrections_cum"]
    wrong = sum(record["summary"]["error_analysis"]["missed_corrections_by_class"])
    assert record["summary"]["missed_corrections"] == wrong > 0
    assert record["summary"]["total_corrections"] == 0
    assert record["summary"]["label_errors"] == wrong  # every missed correction is a label error


def test_an_annotator_always_wrong_puts_only_errors_into_training(tmp_path, spec):
    record, _ = execute(spec({"name": "noisy", "params": {"p": 1.0}}), out=tmp_path)
    assert [r["label_error_rate"] for r in record["rounds"]] == [1.0, 1.0, 1.0]
    assert record["summary"]["final_accuracy"] < 0.5  # and the holdout is scored on TRUE labels


def test_unsure_items_leave_the_pool_and_never_enter_training(tmp_path, spec):
    oracle = {"name": "noisy", "params": {"p": 0.5, "unsure": 1.0}}
    record, _ = execute(spec(oracle), out=tmp_path)
    rows = record["rounds"]
    assert rows[0]["unsure"] > 0 and rows[-1]["unsure_cum"] == sum(r["unsure"] for r in rows)
    assert rows[-1]["n_labeled"] == 90 - rows[-1]["unsure_cum"]
    assert record["summary"]["effort_counts"]["label_unsure"] == rows[-1]["unsure_cum"]
    assert rows[-1]["label_error_rate"] == rows[-1]["label_errors"] / rows[-1]["n_labeled"]


def test_a_crowd_counts_every_annotators_effort_and_reports_agreement(tmp_path, spec):
    crowd = {"name": "crowd", "params": {"k": 3, "accuracies": [0.9, 0.75, 0.6]}}
    record, _ = execute(spec(crowd), out=tmp_path)
    for row in record["rounds"]:
        assert sum(row["effort"].values()) == 3 * 30  # each of the 3 answers each item
        assert -1.0 <= row["oracle"]["agreement"] <= 1.0
        assert 0.0 <= row["oracle"]["label_accuracy"] <= 1.0
    assert set(record["summary"]["error_analysis"]["answers_confusion"]) == {"0", "1", "2"}


def test_dawid_skene_in_the_loop_may_revise_earlier_labels(tmp_path, spec):
    pytest.importorskip("crowdkit")
    crowd = {"name": "crowd", "params": {"k": 5, "accuracies": [0.9, 0.9, 0.6, 0.3, 0.3],
                                          "redundancy": 3, "aggregation": "dawid_skene"}}  # fmt: skip
    first, _ = execute(spec(crowd), out=tmp_path / "a")
    again, _ = execute(spec(crowd), out=tmp_path / "b")
    assert without_timings(first["rounds"]) == without_timings(again["rounds"])
    assert all(r["label_errors"] <= r["n_labeled"] for r in first["rounds"])


def test_gold_screening_drops_an_adversarial_annotator_and_never_trains_on_gold(tmp_path, spec):
    crowd = {"name": "crowd", "params": {"k": 3, "accuracies": [0.95, 0.95, 0.02]}}
    oracle = {"name": "gold_screening", "params": {"crowd": crowd, "gold_items": 40,
                                                    "gold_rate": 0.2, "min_answers": 5}}  # fmt: skip
    record, _ = execute(spec(oracle), out=tmp_path)
    rows = record["rounds"]
    assert rows[0]["oracle"]["dropped"] == [2] and rows[-1]["oracle"]["annotators"] == 2
    assert rows[0]["oracle"]["gold_accuracy"][2] < 0.5 < rows[0]["oracle"]["gold_accuracy"][0]
    assert record["data"]["n_gold"] == 40 and record["data"]["n_pool"] == 400 - 40
    # gold answers cost effort: 3 annotators x 6 gold (20 % of 30) on top of the 3 x 30 answers
    assert sum(rows[0]["effort"].values()) == 3 * 30 + 3 * 6


def test_nested_components_are_resolved_checked_and_hashed():
    spec = resolve_spec({"oracle": {"name": "automation_bias", "params": {"annotator": "noisy"}}})
    inner = spec["oracle"]["params"]["annotator"]
    assert inner["name"] == "noisy" and inner["params"]["p"] == 0.1  # defaults filled
    other = resolve_spec(
        {"oracle": {"name": "automation_bias", "params": {"annotator": {"name": "noisy",
                                                                        "params": {"p": 0.3}}}}}
    )  # fmt: skip
    from hitlbench.harness.spec import run_id

    assert run_id(spec) != run_id(other)
    with pytest.raises(
        HitlbenchError,
        match=r"'automation_bias', parameter annotator: oracle 'noisy': p must be in \[0, 1\], got 2\.5",
    ):
        resolve_spec({"oracle": {"name": "automation_bias",
                                 "params": {"annotator": {"name": "noisy", "params": {"p": 2.5}}}}})  # fmt: skip


def hitlbench(*args):
    return subprocess.run(
        [sys.executable, "-m", "hitlbench.cli", *args],
        capture_output=True, text=True, timeout=600, env=dict(os.environ),
    )  # fmt: skip


FAST = ["--rounds", "2", "--batch-size", "20", "--threads", "1", "--quiet",
        "--set", "dataset.pool_size=400", "--set", "classifier.width=4",
        "--set", "classifier.max_epochs=3", "--set", "classifier.min_epochs=1"]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "shown"),
    [(["--oracle", "crowd", "--set", "oracle.k=3"], "agreement"),
     (["--oracle", "automation_bias", "--set", "oracle.p=0.5"], "missed")],
)  # fmt: skip
def test_the_cli_runs_imperfect_people_on_the_default_dataset(args, shown, tmp_path):
    out = hitlbench("run", *args, *FAST, "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "dataset=fmnist" in out.stdout
    header = next(line for line in out.stdout.splitlines() if line.startswith("|   round"))
    assert shown in header and "label errors" in header
    path = next(line for line in out.stdout.splitlines() if line.startswith("record: "))[8:]
    report = hitlbench("report", "--plot", path)
    assert report.returncode == 0, report.stderr
    assert "### Final model on the holdout" in report.stdout and "### Per class" in report.stdout
    assert Path(path).with_suffix(".errors.png").is_file()
    assert json.loads(Path(path).read_text())["data"]["class_names"][0] == "T-shirt/top"


def test_without_crowd_kit_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "crowdkit", None)  # as if it were not installed
    arrays = [np.array([0, 0]), np.array([0, 1]), np.array([1, 1])]
    with pytest.raises(HitlbenchError, match=r"pip install 'hitlbench\[crowd\]'"):
        aggregate("dawid_skene", *arrays, 2, np.random.default_rng(0))
    assert aggregate("majority_vote", *arrays, 2, np.random.default_rng(0)) == {0: 1}


NOBODY_SURE = {"k": 3, "accuracies": [0.0, 0.0, 0.0], "unsure": 1.0}  # unsure x error rate 1


@pytest.mark.parametrize("method", ["majority_vote", "dawid_skene", "glad", "mace"])
def test_every_aggregation_refuses_a_round_without_a_usable_answer(method, tmp_path, spec):
    if method != "majority_vote":
        pytest.importorskip("crowdkit")
    crowd = {"name": "crowd", "params": {**NOBODY_SURE, "aggregation": method}}
    with pytest.raises(HitlbenchError, match="marked every item of round 0's batch unsure"):
        execute(spec(crowd), out=tmp_path)
    none = np.zeros(0, np.int64)
    assert aggregate(method, none, none, none, 3, np.random.default_rng(0)) == {}


def test_the_cli_refuses_a_crowd_that_is_never_sure_in_one_line(tmp_path):
    pytest.importorskip("crowdkit")  # GLAD divided by zero here (MACE too: in-process above)
    crowd = ["--oracle", "crowd", "--set", "oracle.aggregation=glad"]
    crowd += [f"--set=oracle.{key}={value}" for key, value in NOBODY_SURE.items()]
    out = hitlbench("run", "--dataset", "digits", *crowd, *FAST, "--out", str(tmp_path))
    assert out.returncode == 2, out.stderr
    assert "marked every item of round 0's batch unsure" in out.stderr
    assert "Traceback" not in out.stderr and "crowdkit" not in out.stderr


@pytest.mark.parametrize("method", ["majority_vote", "dawid_skene", "glad", "mace"])
def test_items_nobody_was_sure_of_get_no_label_and_the_others_theirs(method):
    if method != "majority_vote":
        pytest.importorskip("crowdkit")
    # items 0 and 1 answered (unanimously), item 2's answers were all unsure and are left out
    items, workers, labels = (
        np.array(a) for a in ([0, 0, 0, 1, 1], [0, 1, 2, 0, 2], [2] * 3 + [1] * 2)
    )
    assert aggregate(method, items, workers, labels, 3, np.random.default_rng(0)) == {0: 2, 1: 1}


def test_a_run_with_item_dependent_crowds_prepares_them_and_records_their_mistakes(
    tmp_path, spec, monkeypatch
):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path / "cache"))
    crowd = {"name": "crowd", "params": {"k": 3, "accuracies": [0.6] * 3, "error_model": "item"}}
    record, _ = execute(spec(crowd), out=tmp_path)
    assert list((tmp_path / "cache" / "item_difficulty").glob("*.npz"))  # fitted once, cached
    for row in record["rounds"]:
        assert 0.0 <= row["oracle"]["wrong_agreement"] <= 1.0
        assert -1.0 <= row["oracle"]["error_correlation"] <= 1.0
    assert record["spec"]["oracle"]["params"]["error_model"] == "item"
