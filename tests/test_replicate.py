"""`hitlbench replicate`: re-run published cells, compare each value with the published one,
list the verdicts that would change, and the leaderboard's citation of a published replication."""

import contextlib
import io
import json
from pathlib import Path

import pytest
import yaml
from conftest import TINY_SUITE, without_timings

from hitlbench.cli import main
from hitlbench.harness.bench import run_suite
from hitlbench.harness.questions import Claim, Questions
from hitlbench.harness.records import load_records
from hitlbench.harness.replicate import COUNTS, ValueComparison, compare_cells, draw_cells, seed_sd
from hitlbench.harness.suites import load_suite
from hitlbench.publish.leaderboard import render, suite_options
from hitlbench.publish.replication import (
    Replication,
    cell_lines,
    publish,
    published_summary,
    replaced,
    verdicts_of,
)
from hitlbench.publish.verdict_changes import VerdictDiff, outcome, verdict_diff
from hitlbench.types import HitlbenchError

ROOT = Path(__file__).resolve().parent.parent
SUITE = {**TINY_SUITE, "seeds": [0], "references": []}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A suite file and its records, made on this machine: the "published" records."""
    root = tmp_path_factory.mktemp("published")
    path = root / "tiny.yaml"
    path.write_text(yaml.safe_dump(SUITE))
    outcomes = run_suite(load_suite(path), root / "tiny", progress=False, allow_dirty=True)
    assert not [o for o in outcomes if o.error]
    return path, root / "tiny"


@pytest.fixture(scope="module")
def replicated(published, tmp_path_factory):
    """One published cell replicated through the command line: its exit status, what it
    printed and its scratch folder."""
    suite_path, records = published
    out = tmp_path_factory.mktemp("scratch")
    printed = io.StringIO()
    args = ["replicate", str(suite_path), "--records", str(records), "--cells", "1",
            "--seed", "0", "--out", str(out), "--quiet"]  # fmt: skip
    with contextlib.redirect_stdout(printed):
        code = main(args)
    return code, printed.getvalue(), out


def test_a_cell_replicated_where_it_was_recorded_repeats_bit_for_bit(published, replicated):
    code, printed, out = replicated
    assert code == 0, printed
    summary = json.loads((out / "tiny.replication.json").read_text())
    assert summary["cells_rerun"] == 1 and summary["seed"] == 0 and not summary["failed"]
    values = summary["cells"][0]["values"]
    assert set(values) == set(load_suite(published[0]).metrics)
    assert all(v["equal"] and not v["flagged"] for v in values.values()), values
    assert summary["verdicts_compared"] == len(values)  # Margin vs Random on each metric
    assert summary["verdicts_changed"] == 0 and summary["changes"] == []
    run_id = summary["cells"][0]["run_id"]
    rerun = json.loads((out / "tiny" / f"{run_id}.json").read_text())
    original = json.loads((published[1] / f"{run_id}.json").read_text())
    assert without_timings(rerun) == without_timings(original)  # every float, not just the summary
    assert "--seed 0 repeats the draw" in printed
    assert f"{len(values)} of {len(values)} values equal" in printed
    assert "counts that differ: none" in printed
    assert "no verdict would change" in printed


def test_an_altered_published_value_is_a_difference_and_an_altered_count_is_flagged(
    published, replicated
):
    _, _, out = replicated
    reruns = load_records(out / "tiny")
    records = load_records(published[1])
    altered = next(r for r in records if r["run_id"] == reruns[0]["run_id"])
    altered["summary"]["final_accuracy"] += 0.125
    altered["summary"]["total_corrections"] += 1
    (cell,) = compare_cells(records, reruns, ["total_corrections", "final_accuracy"])
    corrections, accuracy = cell.values
    assert not accuracy.equal and accuracy.difference == pytest.approx(-0.125)
    assert not accuracy.flagged  # a float is expected to move across machines
    assert accuracy.in_sd is None  # one seed per method: no seed-to-seed spread
    assert corrections.flagged and corrections.difference == -1
    table = "\n".join(cell_lines(cell))
    assert "COUNT DIFFERS" in table and "-0.125" in table


def record(method, seed, accuracy, corrections=10):
    """The least of a run record that values and verdicts read."""
    return {
        "run_id": f"{method}-{seed}",
        "spec": {"seed": seed},
        "suite": {"method": method, "setting": {"classifier.name": "small_cnn"}},
        "env": {"cpu": "AMD EPYC"},
        "summary": {"final_accuracy": accuracy, "total_corrections": corrections},
    }


def test_differences_are_scaled_by_the_methods_seed_to_seed_spread():
    records = [record("Margin", s, a) for s, a in enumerate([0.7, 0.8, 0.9])]
    records.append(record("Random", 0, 0.1))  # another method's spread does not count
    (cell,) = compare_cells(records, [record("Margin", 0, 0.75)], ["final_accuracy"])
    assert cell.values[0].seed_sd == pytest.approx(0.1)
    assert cell.values[0].in_sd == pytest.approx(0.5)
    assert seed_sd(records, "Random", '{"classifier.name":"small_cnn"}', "final_accuracy") is None
    constant = ValueComparison("total_corrections", 10, 12, 0.0)
    assert constant.in_sd is None and constant.flagged and "total_corrections" in COUNTS


def test_a_verdict_that_flips_is_listed_and_one_that_only_counts_seeds_is_not():
    base = [0.70, 0.72, 0.71, 0.74, 0.73]
    published = [record("Random", s, a) for s, a in enumerate(base)]
    published += [record("Margin", s, a + 0.1 + s / 1000) for s, a in enumerate(base)]
    claim = Claim(method="Margin", reference="Random", metric="final_accuracy", effect=0.1,
                  paper="margin beats random", reason="a test")  # fmt: skip
    options = {"suite": "t", "baseline": "Random", "metrics": ["final_accuracy"],
               "questions": Questions(claims=[claim])}  # fmt: skip
    reruns = [record("Margin", s, a) for s, a in enumerate(base)]  # as Random, seed for seed
    before = verdicts_of(published, options)
    after = verdicts_of(replaced(published, reruns), options)
    diff = verdict_diff(before, after)
    assert diff.compared == 2  # the verdict against the baseline and the claim
    assert {(c.before, c.after) for c in diff.changes} == {
        ("better", "identical"),
        ("as the paper", "smaller than the paper's"),
    }
    assert verdict_diff(before, before) == VerdictDiff(2, [])
    assert outcome("inconclusive (n = 3)") == outcome("inconclusive, underpowered")
    assert outcome("better, within margin") != outcome("better")


def test_cells_are_drawn_by_the_seed_in_the_suites_order(published):
    cells = load_suite(published[0]).cells()
    assert draw_cells(cells, 1, 0) == draw_cells(cells, 1, 0)
    assert draw_cells(cells, 2, 5) == cells
    with pytest.raises(HitlbenchError, match="cannot draw 3 cells"):
        draw_cells(cells, 3, 0)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--cells", "1", "--all"], "--cells and --all exclude each other"),
        (["--seed", "1", "--all"], "--all draws none"),
        (["--publish"], "--publish needs --all"),
        (["--cells", "3"], "cannot draw 3 cells"),
        (["--cells", "0"], "cannot draw 0 cells"),
        (["--out", str(ROOT / "leaderboards" / "scratch")], "holds the published records"),
        (["--records", "EMPTY"], "has no published records"),
    ],
)
def test_bad_requests_are_refused_before_anything_runs(flags, message, published, tmp_path, capsys):
    suite_path, records = published
    flags = [str(tmp_path) if f == "EMPTY" else f for f in flags]
    given = [] if "--records" in flags else ["--records", str(records)]
    out = [] if "--out" in flags else ["--out", str(tmp_path / "out")]
    assert main(["replicate", str(suite_path), *given, *out, *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert not (ROOT / "leaderboards" / "scratch").exists()


def replication(git="abc123", failed=()):
    return Replication(suite="smoke", cpu="Intel(R) Xeon(R) Processor",
                       date="2026-12-08T10:00:00Z", git=git, hitlbench="0.1.0", seed=None,
                       cells=[], failed=list(failed), verdicts=VerdictDiff(5, []),
                       records_dir=Path("scratch"), summary_path=Path("scratch.json"))  # fmt: skip


def test_a_published_replication_is_cited_by_the_leaderboard(tmp_path):
    assert published_summary(tmp_path, "smoke") is None
    path = publish(replication(), tmp_path)
    assert path == tmp_path / "smoke.json"
    summary = published_summary(tmp_path, "smoke")
    records = load_records(ROOT / "leaderboards" / "records" / "smoke")
    options = suite_options(load_suite("smoke"))
    plain = render(records, failed=records.failed, **options)
    cited = render(records, failed=records.failed, replication=summary, **options)
    line = (
        "- replicated on Intel(R) Xeon(R) Processor (2026-12-08, 0 cells): 0 verdicts would change"
    )
    assert cited.replace(f"{line}\n", "", 1) == plain and line in cited
    published = published_summary(ROOT / "leaderboards" / "replications", "smoke")
    board = render(records, failed=records.failed, replication=published, **options)
    assert board == (ROOT / "leaderboards" / "smoke.md").read_text()  # as the CLI renders it


def test_a_replication_from_uncommitted_code_or_with_failed_cells_is_not_published(tmp_path):
    with pytest.raises(HitlbenchError, match="uncommitted changes"):
        publish(replication(git="abc123-dirty"), tmp_path)
    with pytest.raises(HitlbenchError, match="1 cell"):
        publish(replication(failed=["a failed cell"]), tmp_path)
    assert not list(tmp_path.iterdir())
