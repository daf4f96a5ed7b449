"""The command line, through a subprocess as a user runs it, and its errors for bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hitlbench.cli import main, parse_set
from hitlbench.data import fmnist
from hitlbench.types import HitlbenchError

FAST = [
    "--dataset", "digits", "--set", "dataset.pool_size=300", "--rounds", "2",
    "--batch-size", "25", "--threads", "1", "--device", "cpu", "--quiet",
    "--set", "classifier.width=8", "--set", "classifier.max_epochs=15",
]  # fmt: skip


def hitlbench(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "hitlbench.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_list_shows_the_six_groups():
    out = hitlbench("list")
    assert out.returncode == 0, out.stderr
    for group in ("datasets", "samplers", "detectors", "classifiers", "oracles", "feedback"):
        assert f"(hitlbench.{group})" in out.stdout
    assert "small_cnn" in out.stdout and "builtin" in out.stdout


def test_list_one_kind():
    out = hitlbench("list", "samplers")
    assert out.returncode == 0 and "margin" in out.stdout and "small_cnn" not in out.stdout


def test_run_prints_the_round_table_and_writes_a_record(tmp_path):
    out = hitlbench("run", *FAST, "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "dataset=digits" in out.stdout
    assert "corr. cum" in out.stdout and "accuracy" in out.stdout
    record_line = [line for line in out.stdout.splitlines() if line.startswith("record: ")][0]
    record = json.loads(Path(record_line.split(": ", 1)[1]).read_text())
    assert [r["n_labeled"] for r in record["rounds"]] == [25, 50]
    assert record["spec"]["classifier"]["params"]["width"] == 8
    report = hitlbench("report", record_line.split(": ", 1)[1])
    assert report.returncode == 0 and "total corrections" in report.stdout


def test_unknown_sampler_lists_the_samplers():
    out = hitlbench("run", "--sampler", "nope")
    assert out.returncode == 2
    assert "unknown sampler 'nope'" in out.stderr
    assert "random" in out.stderr and "margin" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "classifier.width"], "malformed --set"),
        (["--set", "robot.arm=1"], "unknown key 'robot.arm'"),
        (["--set", "sampler.x=[1,"], "not valid YAML"),
        (["--batch-size", "0"], "run setting batch_size=0 refused"),
        (["--batch-size", "5000"], "larger than the pool"),
    ],
)
def test_bad_input_gives_a_clear_message(args, message, tmp_path, capsys):
    argv = ["run", *FAST, "--out", str(tmp_path), *args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unwritable_out_is_refused_before_running(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert main(["run", *FAST, "--out", str(blocker)]) == 2
    assert "cannot write results to" in capsys.readouterr().err


def test_missing_dataset_files_are_explained(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(fmnist, "DEBIAN_DIR", tmp_path / "none")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("HITLBENCH_DATA", raising=False)
    fmnist._load.cache_clear()
    assert main(["run", "--dataset", "fmnist", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Fashion-MNIST files not found" in err and "HITLBENCH_DATA" in err


def test_parse_set_reads_values_as_yaml():
    got = parse_set(
        ["sampler.gamma=0.5", "classifier.warm_start=true", "rounds=3", "effort.rating=2"]
    )
    assert got == [
        ("sampler.gamma", 0.5),
        ("classifier.warm_start", True),
        ("rounds", 3),
        ("effort.rating", 2),
    ]
    with pytest.raises(HitlbenchError):
        parse_set(["=3"])
