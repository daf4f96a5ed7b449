"""Combinations checked against what the data offers before any work; explicit locations used or
refused, never replaced; strict JSON records; reports of failed cells; the smaller CLI promises."""

import json
import os
import subprocess
import sys

import pytest
import torch

from hitlbench import __version__
from hitlbench.cli import main
from hitlbench.data import fmnist
from hitlbench.harness.results import write_json_atomic
from hitlbench.types import HitlbenchError

FAST = [
    "--set", "dataset.pool_size=100", "--rounds", "1", "--batch-size", "20", "--threads", "1",
    "--device", "cpu", "--quiet", "--set", "classifier.width=4", "--set", "classifier.max_epochs=2",
    "--set", "classifier.min_epochs=1",
]  # fmt: skip


def hitlbench(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hitlbench.cli", *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--detector", "human"], "detector 'human' needs true boxes, which dataset 'digits' does not have; datasets that have them: coco_boxes, cub200, fmnist_clutter,"),
        (["--detector", "frcnn"], "detector 'frcnn' needs true boxes, which dataset 'digits' does not have"),
        (["--feedback", "rrr_gradcam"], "feedback 'rrr_gradcam' needs spurious-region masks, which dataset 'digits' does not have; datasets that have them: decoy_fmnist, decoy_fmnist_classwise"),
        (["--feedback", "rrr_gradcam", "--set", "feedback.region=missing"], "needs object masks"),
    ],
)  # fmt: skip
def test_a_combination_the_data_cannot_serve_is_refused_before_loading(args, message, tmp_path):
    out = hitlbench("run", "--dataset", "digits", *FAST, *args, "--out", str(tmp_path / "out"))
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert message in out.stderr
    assert not (tmp_path / "out").exists()


def test_a_plugin_dataset_that_declares_nothing_is_checked_once_loaded(tmp_path, digits_spec):
    from hitlbench.data.base import datasets
    from hitlbench.data.digits import Digits
    from hitlbench.harness.runner import execute
    from hitlbench.harness.spec import resolve_spec

    @datasets.register("test_undeclared_digits")
    class Undeclared(Digits):
        offers = None  # known only once loaded

    spec = resolve_spec({"dataset": "test_undeclared_digits", "detector": "human", "device": "cpu"})
    with pytest.raises(HitlbenchError, match="detector 'human' needs true boxes, which dataset"):
        execute(spec, out=tmp_path)
    assert not (tmp_path / "runs").exists()


@pytest.fixture
def fmnist_locations(monkeypatch, tmp_path):
    """HITLBENCH_DATA in a scratch folder; the Debian copy stands in for 'the next location'."""
    debian = tmp_path / "debian"
    debian.mkdir()
    for stem in fmnist.FILES.values():
        (debian / f"{stem}.gz").write_bytes(b"")
    monkeypatch.setattr(fmnist, "DEBIAN_DIR", debian)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HITLBENCH_DATA", str(tmp_path / "mine"))
    (tmp_path / "mine").mkdir()
    return tmp_path / "mine", debian


@pytest.mark.parametrize("folder", [".", "fashion-mnist"])
def test_hitlbench_data_with_some_of_the_files_is_refused(folder, fmnist_locations):
    mine, _ = fmnist_locations
    (mine / folder).mkdir(exist_ok=True)
    for stem in list(fmnist.FILES.values())[:3]:
        (mine / folder / f"{stem}.gz").write_bytes(b"")
    with pytest.raises(HitlbenchError, match="holds some of the four files but not t10k-labels"):
        fmnist.locate()


def test_hitlbench_data_with_none_of_the_files_falls_through(fmnist_locations):
    _, debian = fmnist_locations
    assert fmnist.locate()["train_images"].parent == debian


def test_a_failed_cell_record_is_reported_as_failed(tmp_path):
    failed = {"schema": 1, "run_id": "abc", "spec": {}, "error": "RuntimeError: boom\nmore",
              "suite": {"name": "smoke", "method": "Margin", "setting": {}}}  # fmt: skip
    path = tmp_path / "abc.json"
    path.write_text(json.dumps(failed))
    out = hitlbench("report", str(path))
    assert out.returncode == 0 and "Traceback" not in out.stderr
    assert f"{path}: run abc (smoke: Margin) FAILED: RuntimeError: boom" in out.stdout


def test_records_are_strict_json(tmp_path):
    with pytest.raises(HitlbenchError, match=r"rounds\[1\]\.metrics\.accuracy is not a finite"):
        write_json_atomic(
            tmp_path / "r.json", {"rounds": [{}, {"metrics": {"accuracy": float("nan")}}]}
        )
    assert not list(tmp_path.iterdir())


def test_a_refused_run_leaves_no_folder_behind(tmp_path):
    out = hitlbench(
        "run",
        "--dataset",
        "digits",
        *FAST,
        "--batch-size",
        "500",
        "--out",
        str(tmp_path / "a" / "b"),
    )
    assert out.returncode == 2 and "larger than the pool" in out.stderr
    assert not (tmp_path / "a").exists()


def test_version_names_hitlbench_and_torch():
    out = hitlbench("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"hitlbench {__version__} (torch {torch.__version__})"


SUITE = """
name: tiny
settings: {rounds: 1, batch_size: 20, threads: 1, device: cpu}
defaults:
  dataset: {name: digits, params: {pool_size: 100}}
  classifier: {name: small_cnn, params: {width: 4, hidden: 8, max_epochs: 2, min_epochs: 1}}
seeds: [0]
references: []
methods: {Random: {sampler: random}}
margins:
  total_corrections: {value: 3, reason: a test's}
  final_accuracy: {value: 0.02, reason: a test's}
  effort_s_total: {value: 25, reason: a test's}
  aulc_effort: {value: null, reason: a test's}
"""


def test_commands_that_read_records_take_the_root_bench_wrote_or_the_suite_folder(tmp_path):
    suite = tmp_path / "tiny.yaml"
    suite.write_text(SUITE)
    root = tmp_path / "records"
    assert main(["bench", str(suite), "--out", str(root), "--quiet", "--allow-dirty"]) == 0
    for records in (root, root / "tiny"):
        out = tmp_path / f"{records.name}.md"
        assert main(["leaderboard", str(suite), "--records", str(records), "--out", str(out)]) == 0
        assert "| Random " in out.read_text()
        figures = tmp_path / f"figures-{records.name}"
        assert main(["plot", str(suite), "--records", str(records), "--out", str(figures)]) == 0
        assert list(figures.glob("*.png"))
