"""Suites: expansion, resume after SIGKILL, executors that agree, failing cells."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import NO_MARGINS, TINY_SUITE, without_timings

from hitlbench.harness.bench import run_suite
from hitlbench.harness.runner import execute
from hitlbench.harness.spec import apply_override
from hitlbench.harness.suites import load_suite, parse_suite
from hitlbench.types import HitlbenchError

SUITE = TINY_SUITE


def write_suite(folder: Path, doc=SUITE) -> Path:
    path = folder / f"{doc['name']}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def records(folder: Path) -> dict[str, dict]:
    return {
        p.name: without_timings(json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))
    }


@pytest.fixture(scope="module")
def serial_records(tmp_path_factory):
    root = tmp_path_factory.mktemp("serial")
    suite = load_suite(write_suite(root))
    outcomes = run_suite(suite, root / "out" / "tiny", progress=False, allow_dirty=True)
    assert not [o for o in outcomes if o.error]
    return records(root / "out" / "tiny")


def test_grid_expands_settings_methods_seeds_and_ceiling():
    doc = {**SUITE, "grid": {"dataset.pool_size": [150, 200], "classifier.width": [4, 8]}}
    cells = parse_suite(doc, "g").cells()
    assert len(cells) == 4 * (2 * 2 + 2)  # 4 grid points x (2 methods x 2 seeds + 2 ceilings)
    ceiling = [c for c in cells if c.method == "ceiling"]
    assert all(c.spec["batch_size"] == "all" and c.spec["rounds"] == 1 for c in ceiling)
    assert {c.spec["dataset"]["params"]["pool_size"] for c in cells} == {150, 200}
    assert cells[0].setting == {"dataset.pool_size": 150, "classifier.width": 4}


def test_suite_errors_are_clear():
    with pytest.raises(HitlbenchError, match="unknown keys"):
        parse_suite({**SUITE, "sedes": 3}, "x")
    with pytest.raises(HitlbenchError, match="baseline 'Nope'"):
        parse_suite({**SUITE, "baseline": "Nope"}, "x")
    with pytest.raises(HitlbenchError, match="unknown sampler"):
        parse_suite({**SUITE, "methods": {"A": {"sampler": "nope"}}, "baseline": "A"}, "x")
    twins = {"A": {"sampler": "random"}, "B": {"sampler": "uniform"}}
    with pytest.raises(HitlbenchError, match="same spec"):
        parse_suite({**SUITE, "methods": twins, "baseline": "A"}, "x")


def test_a_suite_states_its_questions_before_it_runs():
    no_margin = {k: v for k, v in NO_MARGINS.items() if k != "aulc_effort"}
    with pytest.raises(HitlbenchError, match="no margin stated for aulc_effort"):
        parse_suite({**SUITE, "margins": no_margin}, "x")
    claim = {"method": "Nope", "reference": "Random", "metric": "total_corrections",
             "effect": 3, "paper": "p", "reason": "r"}  # fmt: skip
    with pytest.raises(HitlbenchError, match=r"unknown methods \['Nope'\]"):
        parse_suite({**SUITE, "claims": [claim]}, "x")
    with pytest.raises(HitlbenchError, match="kind"):
        parse_suite({**SUITE, "kind": "anecdote"}, "x")
    margins = {**NO_MARGINS, "total_corrections": {"value": 4, "reason": "why"}}
    cell = parse_suite({**SUITE, "margins": margins}, "x").cells()[0]
    block = cell.suite_block(parse_suite({**SUITE, "margins": margins}, "x"))
    assert block["margins"]["total_corrections"] == 4  # what the record will keep
    assert block["margins"]["aulc_effort"] is None


def test_overrides_accept_every_form():
    raw = {}
    apply_override(raw, "sampler", "margin")
    apply_override(raw, "sampler.cold_start", "random")
    apply_override(raw, "detector", {"name": "none"})
    apply_override(raw, "effort.rating", 2.0)
    apply_override(raw, "rounds", 4)
    assert raw == {
        "sampler": {"name": "margin", "params": {"cold_start": "random"}},
        "detector": {"name": "none", "params": {}},
        "effort": {"rating": 2.0},
        "rounds": 4,
    }
    with pytest.raises(HitlbenchError, match="unknown key"):
        apply_override(raw, "colour", 1)


def test_finished_cells_are_skipped_and_stale_records_reported(tmp_path, capsys):
    suite = load_suite(write_suite(tmp_path, {**SUITE, "seeds": [0], "references": []}))
    first = run_suite(suite, tmp_path / "out", progress=False, allow_dirty=True)
    assert len(first) == 2
    assert run_suite(suite, tmp_path / "out", progress=False, allow_dirty=True) == []
    assert (
        len(run_suite(suite, tmp_path / "out", progress=False, force=True, allow_dirty=True)) == 2
    )
    (tmp_path / "out" / "0123456789abcdef.json").write_text("{}")
    run_suite(suite, tmp_path / "out", progress=False, allow_dirty=True)
    assert "1 record(s)" in capsys.readouterr().err


def test_sigkill_loses_only_cells_in_flight(tmp_path, serial_records):
    path = write_suite(tmp_path)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "hitlbench.cli", "bench", str(path), "--out", str(out), "--quiet",
           "--allow-dirty"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and len(list((out / "tiny").glob("*.json"))) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = records(out / "tiny")
    assert 2 <= len(partial) < len(serial_records), "the kill should land mid-suite"
    for name, record in partial.items():  # what was written before the kill is complete
        assert record == serial_records[name]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{len(partial)} already done" in done.stderr
    assert records(out / "tiny") == serial_records


def test_process_executor_gives_the_serial_records(tmp_path, serial_records):
    suite = load_suite(write_suite(tmp_path))
    run_suite(suite, tmp_path / "out", executor="process", jobs=2, progress=False, allow_dirty=True)
    assert records(tmp_path / "out") == serial_records


def test_ray_executor_gives_the_serial_records(tmp_path, serial_records):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    suite = load_suite(write_suite(tmp_path))
    outcomes = run_suite(
        suite, tmp_path / "out", executor="ray", jobs=2, progress=False, allow_dirty=True
    )
    assert not [o for o in outcomes if o.error]
    assert records(tmp_path / "out") == serial_records


def test_a_failing_cell_is_recorded_and_the_others_go_on(tmp_path):
    doc = {
        **SUITE,
        "seeds": [0],
        "references": [],
        "methods": {
            "Random": {"sampler": "random"},
            "Huge": {"sampler": "random", "dataset.pool_size": 5000},
        },
    }
    path = write_suite(tmp_path, doc)
    cmd = [
        sys.executable,
        "-m",
        "hitlbench.cli",
        "bench",
        str(path),
        "--out",
        str(tmp_path),
        "--quiet",
        "--allow-dirty",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "FAILED: Huge seed 0" in done.stderr and "pool_size 5000" in done.stderr
    saved = [json.loads(p.read_text()) for p in (tmp_path / "tiny").glob("*.json")]
    failed = [r for r in saved if "error" in r]
    assert len(saved) == 2 and len(failed) == 1
    assert "Traceback" in failed[0]["traceback"] and failed[0]["suite"]["method"] == "Huge"


def test_cells_that_need_an_absent_gpu_are_skipped_and_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    doc = {**SUITE, "seeds": [0], "settings": {**SUITE["settings"], "rounds": 1}}
    doc["methods"] = {
        "Random": {"sampler": "random"},
        "GPU": {"sampler": "random", "device": "cuda"},
    }
    suite = parse_suite(doc, "gpu")
    assert {c.method: c.spec["device"] for c in suite.cells()} == {
        "Random": "cpu",
        "GPU": "cuda",
        "ceiling": "cpu",
    }
    outcomes = run_suite(suite, tmp_path / "gpu", progress=False, allow_dirty=True)
    assert sorted(o.method for o in outcomes) == ["Random", "ceiling"]
    assert not [o for o in outcomes if o.error]
    assert "1 cell(s) need a GPU" in capsys.readouterr().err
    gpu = next(c for c in suite.cells() if c.method == "GPU")
    with pytest.raises(HitlbenchError, match="needs device 'cuda'"):
        execute(gpu.spec, out=tmp_path)
