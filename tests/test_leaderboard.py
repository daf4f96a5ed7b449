"""Leaderboard markdown from synthetic run records: numbers, tests, bold, references, bytes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from hitlbench.core.provenance import behaviour_hash
from hitlbench.explanations.metric_check import CHECKED_MAP
from hitlbench.harness.questions import Claim, Control, Margin, Questions
from hitlbench.harness.records import LeaderboardError, load_records, lookup, method_of, setting_of
from hitlbench.harness.verdicts import ci_half_width
from hitlbench.publish.leaderboard import render, write
from hitlbench.publish.metric_names import metric_name
from hitlbench.registries import REGISTRIES

T_975_2 = 4.302652729911275  # scipy.stats.t.ppf(0.975, 2), the 95 % t quantile for 3 seeds
METRICS = ["total_corrections", "final_accuracy", "effort_s_total", "effort_s_to.0.80"]
DIGITS = {"dataset.name": "digits"}


def make_record(
    method,
    seed,
    setting=None,
    *,
    corrections=(0, 5),
    accuracy=(0.6, 0.8),
    effort_s=(300.0, 100.0),
    n_pool=400,
    label_scratch=10.0,
    classifier_version="1",
    suite="smoke",
):
    """A record shaped like `runner.execute`'s, with the summary computed from the rounds."""
    setting = DIGITS if setting is None else setting
    effort_cum = np.cumsum(effort_s).tolist()
    rows = [
        {
            "round": i,
            "n_labeled": 30 * (i + 1),
            "labels_drawn": 30 if i == 0 else 0,
            "corrections": c,
            "corrections_cum": int(sum(corrections[: i + 1])),
            "effort": {"label_scratch": 30} if i == 0 else {"label_correct": c},
            "effort_s": e,
            "effort_s_cum": cum,
            "metrics": {"accuracy": a, "macro_f1": a - 0.05},
        }
        for i, (c, a, e, cum) in enumerate(zip(corrections, accuracy, effort_s, effort_cum))
    ]
    reach = {
        f"{t:.2f}": next((x for x, a in zip(effort_cum, accuracy) if a >= t), None)
        for t in (0.7, 0.8)
    }
    components = {
        kind: {"name": name, "origin": "builtin", "version": "1"}
        for kind, name in [
            ("dataset", setting.get("dataset.name", "digits")),
            ("sampler", method.lower()),
            ("detector", "none"),
            ("classifier", "small_cnn"),
            ("oracle", "perfect"),
            ("feedback", "labels"),
        ]
    }
    components["classifier"]["version"] = classifier_version
    record = {
        "schema": 1,
        "run_id": f"{method}-{seed}-{json.dumps(setting, sort_keys=True)}",
        "spec": {
            "dataset": {"name": components["dataset"]["name"], "params": {}},
            **{
                k: {"name": components[k]["name"], "params": {}}
                for k in components
                if k != "dataset"
            },
            "rounds": len(rows),
            "batch_size": 30,
            "seed": seed,
            "effort": {"label_scratch": label_scratch, "label_correct": 10.0},
        },
        "components": components,
        "env": {
            "hitlbench": "0.1.0",
            "git": "abc123",
            "python": "3.11.7",
            "torch": "2.4.0",
            "numpy": "2.0.0",
            "device": "cpu",
            "platform": "Linux",
            "date": f"2024-05-0{1 + seed % 5}T12:00:00Z",
        },
        "data": {"source": "sklearn digits", "sha256": "f00d", "n_pool": n_pool, "n_holdout": 100},
        "rounds": rows,
        "summary": {
            "rounds": len(rows),
            "n_labeled": rows[-1]["n_labeled"],
            "total_corrections": rows[-1]["corrections_cum"],
            "final_accuracy": accuracy[-1],
            "final_macro_f1": accuracy[-1] - 0.05,
            "effort_s_total": effort_cum[-1],
            "effort_budget_s": 1000.0,
            "aulc_effort": 0.5,
            "effort_s_to": reach,
        },
    }
    if suite is not None:
        margins = {metric: m.value for metric, m in MARGINS.items()}
        record["suite"] = {
            "name": suite, "method": method, "setting": dict(setting), "margins": margins,
        }  # fmt: skip
    return record


def record_fields(markdown):
    """{readable column name: record field} from the leaderboard's "Columns" line."""
    line = next((x for x in markdown.splitlines() if x.startswith("Columns (record fields): ")), "")
    pairs = line.removeprefix("Columns (record fields): ").rstrip(".").split("; ")
    return dict(pair.rsplit(": ", 1) for pair in pairs if pair)


def rows_under(markdown, heading):
    """The rows of the first table under `heading`, each {column header: cell}, with readable
    column names (and the `metric` cells of comparison tables) read back as record fields."""
    fields = {name: path.strip("`") for name, path in record_fields(markdown).items()}

    def field(text):
        if text in fields:
            return fields[text]
        for name, path in fields.items():  # a quoted column: "accuracy (paper)"
            if text.startswith(name + " ("):
                return path + text[len(name) :]
        return text

    lines = markdown.splitlines()
    start = lines.index(heading) + 2
    block = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        block.append([cell.strip() for cell in line.strip("|").split("|")])
    rows = [dict(zip(map(field, block[0]), row)) for row in block[2:]]
    for row in rows:
        if "metric" in row:
            row["metric"] = field(row["metric"])
    return rows


def table(markdown, heading):
    """{row name: {column header: cell}} of the table under `heading`."""
    return {row["method"]: row for row in rows_under(markdown, heading)}


MARGINS = {
    "total_corrections": Margin(value=1.5, reason="a test's margin"),
    "final_accuracy": Margin(value=0.02, reason="a test's margin"),
    "effort_s_total": Margin(value=15, reason="a test's margin"),
    "effort_s_to.0.80": Margin(value=None, reason="no equivalence question"),
}


def board(records, **kwargs):
    kwargs = {
        "suite": "smoke",
        "baseline": "Random",
        "metrics": METRICS,
        "questions": Questions(margins=MARGINS),
        **kwargs,
    }
    return render(records, **kwargs)


def test_mean_and_interval_match_a_hand_computation():
    runs = [
        make_record("Random", s, corrections=(0, c), accuracy=(0.5, a))
        for s, c, a in [(0, 10, 0.80), (1, 12, 0.82), (2, 17, 0.87)]
    ]
    row = table(board(runs), "## dataset.name=digits")["Random"]
    # corrections 10, 12, 17: mean 13, sd sqrt(13); accuracy: mean 0.83, sd sqrt(13) / 100
    half = T_975_2 * np.sqrt(13) / np.sqrt(3)
    assert row["n"] == "3"
    assert row["total_corrections"] == f"**13 ± {half:.0f}**" == "**13 ± 9**"
    assert row["final_accuracy"] == f"**0.830 ± {half / 100:.3f}**" == "**0.830 ± 0.090**"
    assert ci_half_width([10, 12, 17]) == pytest.approx(half)
    assert ci_half_width([7.0]) == 0.0


def test_a_single_seed_shows_just_the_mean():
    row = table(board([make_record("Random", 0)]), "## dataset.name=digits")["Random"]
    assert row["total_corrections"] == "**5**"
    assert row["final_accuracy"] == "**0.800**"


def test_effort_to_a_target_counts_the_seeds_that_reached_it():
    runs = [
        make_record("Random", s, accuracy=(0.6, a), effort_s=(300.0, e))
        for s, a, e in [(0, 0.85, 100.0), (1, 0.75, 100.0), (2, 0.9, 200.0)]
    ]
    row = table(board(runs), "## dataset.name=digits")["Random"]
    half = ci_half_width([400.0, 500.0])
    # mean over the two seeds that reached 0.80; a partial mean is never bold
    assert row["effort_s_to.0.80"] == f"450 ± {half:.0f} (2/3)"


def comparisons(markdown, heading="### Compared with Random"):
    """{(method, metric): {column header: cell}} of the comparison table under `heading`."""
    return {(row["method"], row["metric"]): row for row in rows_under(markdown, heading)}


def test_comparisons_give_paired_intervals_holm_and_verdicts():
    base = [20, 22, 19, 21, 23]
    runs = []
    for seed, c in enumerate(base):
        runs += [
            make_record("Random", seed, corrections=(0, c)),
            make_record("Better", seed, corrections=(0, c - 10 + seed % 2)),
            make_record("Same", seed, corrections=(0, c)),
            make_record("Shifted", seed, corrections=(0, c + 1)),  # +1 on every seed
            make_record("Noisy", seed, corrections=(0, c + (-3, 4, -2, 3, 0)[seed])),
        ]
    md = board(runs)
    rows = comparisons(md)
    better = rows[("Better", "total_corrections")]
    diffs = [-10 + s % 2 for s in range(5)]
    low, high = stats.t.interval(0.95, 4, loc=np.mean(diffs), scale=stats.sem(diffs))
    assert better["Δ mean [95 % CI]"] == f"{np.mean(diffs):.4g} [{low:.4g}, {high:.4g}]"
    p = stats.ttest_rel([c + d for c, d in zip(base, diffs)], base).pvalue
    assert better["p"] == f"{p:.3g}" and better["pairs"] == "5"
    assert better["TOST margin"] == "±1.5"  # the suite's, in corrections
    assert better["verdict"].startswith("better")
    same = rows[("Same", "total_corrections")]
    assert same["verdict"] == "identical" and same["p (Holm)"] == "–"
    assert rows[("Shifted", "total_corrections")]["verdict"].startswith("worse")
    assert rows[("Noisy", "total_corrections")]["verdict"].startswith("inconclusive")
    # identical accuracies: one row for the methods whose differences are the same
    assert rows[("Better, Noisy, Same, Shifted", "final_accuracy")]["verdict"] == "identical"
    ps = [float(rows[(m, "total_corrections")]["p"]) for m in ("Better", "Shifted", "Noisy")]
    assert [float(rows[(m, "total_corrections")]["p (Holm)"]) for m in ("Better", "Noisy")] == [
        # Holm over the 3 methods that differ at all (Same leaves the family): Shifted's p (0)
        # is the smallest (x 3), Better's next (x 2), Noisy's last (x 1)
        pytest.approx(2 * ps[0], rel=1e-2),
        pytest.approx(ps[2], rel=1e-2),
    ]
    assert "†" not in md


def test_pairs_are_matched_by_seed_and_fewer_than_five_are_inconclusive():
    runs = [make_record("Random", s, corrections=(0, 20 + s)) for s in range(3)]
    runs += [
        make_record("Other", 5, corrections=(0, 1)),
        make_record("Other", 0, corrections=(0, 2)),
    ]
    row = comparisons(board(runs))[("Other", "total_corrections")]
    assert row["pairs"] == "1" and row["p"] == "–"  # only seed 0 is in both
    assert row["verdict"] == "inconclusive (n = 1)"


def test_baseline_row_comes_first_and_must_exist():
    runs = [make_record(m, 0) for m in ("Zeta", "Alpha", "Random")]
    rows = list(table(board(runs), "## dataset.name=digits"))
    assert rows == ["Random", "Alpha", "Zeta", "label everything"]  # no ceiling runs
    with pytest.raises(ValueError, match=r"'Uncertainty'.*Alpha, Random, Zeta"):
        board(runs, baseline="Uncertainty")
    with pytest.raises(LeaderboardError):
        board([], baseline="Random")


def test_label_everything_costs_the_pool_labeled_from_scratch():
    runs = [make_record("Random", s, n_pool=400, label_scratch=3.0) for s in range(2)]
    rows = table(board(runs), "## dataset.name=digits")
    everything = rows["label everything"]
    assert everything["effort_s_total"] == "1200"  # 400 images × 3 s
    assert everything["total_corrections"] == "0"
    assert everything["final_accuracy"] == "–"  # no ceiling was run
    assert everything["n"] == "–"
    assert "ceiling" not in rows  # not run: the row is left out


def test_the_one_fit_row_comes_from_ceiling_runs_and_label_everything_has_no_accuracy():
    runs = [make_record("Random", s) for s in range(2)]
    runs += [
        make_record("ceiling", s, corrections=(0,), accuracy=(0.95,), effort_s=(4000.0,))
        for s in range(2)
    ]
    rows = table(board(runs), "## dataset.name=digits")
    assert "ceiling" not in rows  # named for what it is
    assert rows["all labels, one fit"]["final_accuracy"] == "0.950 ± 0.000"
    assert rows["all labels, one fit"]["n"] == "2"
    assert rows["label everything"]["final_accuracy"] == "–"  # a row without runs
    assert rows["Random"]["final_accuracy"] == "**0.800 ± 0.000**"  # references are never bold
    components = board(runs).split("## Components")[1]
    methods = [line.split("|")[1].strip() for line in components.strip().splitlines()[2:]]
    assert methods == ["Random", "all labels, one fit"]


def test_bold_goes_to_the_best_mean_in_each_direction():
    runs = []
    for s in range(3):
        runs += [
            make_record("Random", s, corrections=(0, 20 + s), accuracy=(0.5, 0.90 + s / 100)),
            make_record("Fewer", s, corrections=(0, 5 + s), accuracy=(0.5, 0.70 + s / 100)),
        ]
    md = board(runs, metrics=["total_corrections", "final_accuracy", "aulc_effort"])
    rows = table(md, "## dataset.name=digits")
    assert rows["Fewer"]["total_corrections"].startswith("**")  # lower is better
    assert not rows["Random"]["total_corrections"].startswith("**")
    assert rows["Random"]["final_accuracy"].startswith("**")  # higher is better
    assert not rows["Fewer"]["final_accuracy"].startswith("**")
    assert rows["Random"]["aulc_effort"].startswith("**") and rows["Fewer"][
        "aulc_effort"
    ].startswith("**")  # a tie
    assert "**" not in rows["label everything"]["total_corrections"]


def test_missing_metrics_show_a_dash():
    rows = table(
        board([make_record("Random", 0)], metrics=["box_effort", "effort_s_to.0.99"]),
        "## dataset.name=digits",
    )
    assert rows["Random"]["box_effort"] == "–"
    assert rows["Random"]["effort_s_to.0.99"] == "–"


def test_a_metric_that_is_not_a_number_is_refused():
    with pytest.raises(LeaderboardError, match="'effort_s_to' is not a number"):
        board([make_record("Random", 0)], metrics=["effort_s_to"])


def test_lookup_follows_dotted_names_whose_keys_hold_dots():
    summary = {"effort_s_to": {"0.80": 12.0, "0.70": None}, "box": {"effort": 3}}
    assert lookup(summary, "effort_s_to.0.80") == 12.0
    assert lookup(summary, "effort_s_to.0.70") is None
    assert lookup(summary, "box.effort") == 3


def test_header_comes_from_the_records():
    runs = [make_record("Random", s) for s in range(3)]
    runs[2]["env"]["torch"] = "2.5.0"
    md = board(runs)
    assert md.startswith("# smoke\n")
    assert "- dates: 2024-05-01T12:00:00Z .. 2024-05-03T12:00:00Z" in md
    assert "- python: 3.11.7; torch: 2.4.0, 2.5.0" in md
    assert "- git: abc123" in md
    assert "- data: sklearn digits (sha256 f00d)" in md


def test_rendering_is_byte_identical_and_independent_of_record_order(tmp_path):
    runs = [
        make_record(m, s, corrections=(0, 3 * s + len(m)))
        for m in ("Random", "Margin")
        for s in range(4)
    ]
    first = board(runs, notes="Run on a laptop.")
    shuffled = list(runs)
    random.Random(1).shuffle(shuffled)
    assert board(shuffled, notes="Run on a laptop.") == first
    assert first.endswith("Run on a laptop.\n")
    records = tmp_path / "records"
    records.mkdir()
    for i, r in enumerate(runs):
        (records / f"{i:02d}.json").write_text(json.dumps(r))
    kwargs = {"suite": "smoke", "baseline": "Random", "metrics": METRICS}
    one = write(records, tmp_path / "out" / "smoke.md", **kwargs)
    text = one.read_bytes()
    two = write(records, tmp_path / "out" / "smoke.md", **kwargs)
    assert two.read_bytes() == text
    assert text.decode() == render(load_records(records), **kwargs)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "smoke.md"
    ]  # no temp files left


def test_load_records_skips_temp_files_and_sets_failed_cells_aside(tmp_path):
    (tmp_path / "b.json").write_text(json.dumps(make_record("Random", 1)))
    (tmp_path / "a.json").write_text(json.dumps(make_record("Random", 0)))
    (tmp_path / ".c.json.tmp.json").write_text("{half a fi")
    failure = {"spec": {"seed": 3}, "suite": {"method": "Margin", "setting": DIGITS}}
    (tmp_path / "d.json").write_text(json.dumps({**failure, "error": "OOM\ntraceback"}))
    loaded = load_records(tmp_path)
    assert [r["spec"]["seed"] for r in loaded] == [0, 1]
    assert loaded.failed == {"d.json": "Margin, digits, seed 3: OOM"}
    md = render(loaded, suite="s", baseline="Random", metrics=METRICS, failed=loaded.failed)
    assert "- `d.json`: Margin, digits, seed 3: OOM" in md
    assert [r["spec"]["seed"] for r in load_records([tmp_path / "b.json"])] == [1]
    (tmp_path / "e.json").write_text("{not json")
    with pytest.raises(LeaderboardError, match="e.json"):
        load_records(tmp_path)
    (tmp_path / "e.json").write_text('{"suite": "a manifest, not a record"}')
    with pytest.raises(LeaderboardError, match="e.json is not a run record"):
        load_records(tmp_path)


def test_pivot_has_one_column_per_combination():
    settings = [
        {"dataset.name": "digits", "classifier.name": "small_cnn"},
        {"dataset.name": "digits", "classifier.name": "resnet18"},
        {"dataset.name": "fmnist", "classifier.name": "small_cnn"},
    ]
    runs = []
    for i, setting in enumerate(settings):
        for s in range(3):
            runs += [
                make_record("Random", s, setting, corrections=(0, 30 + 10 * i + s)),
                make_record("Margin", s, setting, corrections=(0, 10 + 10 * i + 2 * s)),
            ]
    pivot = {"metric": "total_corrections", "by": ["dataset.name", "classifier.name"]}
    md = board(runs, pivot=pivot)
    rows = table(md, "## corrections by dataset.name / classifier.name")
    assert list(rows["Random"]) == [
        "method",
        "digits / resnet18",
        "digits / small_cnn",
        "fmnist / small_cnn",
    ]
    half = ci_half_width([10, 12, 14])
    assert rows["Margin"]["digits / small_cnn"] == f"**12 ± {half:.0f}** — inconclusive (n = 3)"
    assert rows["Random"]["fmnist / small_cnn"] == f"51 ± {ci_half_width([50, 51, 52]):.0f}"
    assert rows["label everything"]["digits / resnet18"] == "0"
    assert "## classifier.name=resnet18, dataset.name=digits" in md  # one table per setting too


def test_pivot_by_a_spec_key_outside_the_setting():
    runs = [make_record("Random", s, suite=None) for s in range(2)]
    method = method_of(runs[0])
    md = board(runs, baseline=method, pivot={"metric": "final_accuracy", "by": ["classifier.name"]})
    assert list(table(md, "## accuracy by classifier.name")[method]) == [
        "method",
        "small_cnn",
    ]


def test_records_without_a_suite_are_named_by_their_components():
    record = make_record("Random", 0, suite=None)
    assert method_of(record) == "random/none/small_cnn/perfect/labels"
    assert setting_of(record) == {"dataset.name": "digits"}
    assert method_of(make_record("Random", 0)) == "Random"


def test_mixed_component_versions_are_flagged_loudly():
    runs = [make_record("Random", 0), make_record("Random", 1, classifier_version="2")]
    md = board(runs)
    assert (
        "WARNING: method Random mixes versions of classifier small_cnn: 1 (builtin), 2 (builtin)"
        in md
    )
    components = table(md, "## Components")
    assert components["Random"]["classifier"] == "small_cnn@1 (builtin), small_cnn@2 (builtin)"
    assert "WARNING" not in board([make_record("Random", 0), make_record("Random", 1)])


def test_two_records_of_one_method_setting_and_seed_are_refused():
    twice = [make_record("Random", 0), make_record("Random", 0)]
    with pytest.raises(LeaderboardError, match="method Random has 2 records for seed 0"):
        board(twice)


def test_records_from_several_commits_are_flagged():
    runs = [make_record("Random", 0), make_record("Random", 1)]
    runs[1]["env"]["git"] = "def456"
    md = board(runs)
    assert "WARNING: the records come from several git versions: abc123, def456" in md
    assert "- git: abc123, def456" in md


def test_quoted_paper_values_sit_beside_their_metric_in_matching_settings_only():
    fmnist = {"dataset.name": "fmnist"}
    runs = [
        make_record(m, s, st)
        for m in ("Random", "Margin")
        for s in range(2)
        for st in (DIGITS, fmnist)
    ]
    quoted = {
        "source": "paper",
        "rows": [
            {"setting": DIGITS, "method": "Margin", "values": {"final_accuracy": 0.8765}},
            {"setting": fmnist, "method": "Random", "values": {"final_accuracy": 0.5}},
        ],
    }
    md = board(runs, quoted=quoted)
    digits = table(md, "## dataset.name=digits")
    assert list(digits["Random"])[3:5] == ["final_accuracy", "final_accuracy (paper)"]
    assert digits["Margin"]["final_accuracy (paper)"] == "0.8765"
    assert digits["Random"]["final_accuracy (paper)"] == "–"
    assert "ceiling" not in digits
    assert table(md, "## dataset.name=fmnist")["Random"]["final_accuracy (paper)"] == "0.5"
    with pytest.raises(LeaderboardError, match="not in the table"):
        board(runs, quoted={"source": "p", "rows": [{"method": "Random", "values": {"x": 1}}]})
    with pytest.raises(LeaderboardError, match="quoted needs"):
        board(runs, quoted={"rows": []})


def test_several_quoted_sources_give_a_column_each_in_their_order():
    runs = [make_record(m, s) for m in ("Random", "Margin") for s in range(2)]
    networks = [
        {"source": net, "rows": [{"method": "Random", "values": {"final_accuracy": value}}]}
        for net, value in (("MobileNet", 0.7), ("ResNet50", 0.8))
    ]
    digits = table(board(runs, quoted=networks), "## dataset.name=digits")
    columns = list(digits["Random"])
    at = columns.index("final_accuracy")
    assert columns[at : at + 3] == [
        "final_accuracy", "final_accuracy (MobileNet)", "final_accuracy (ResNet50)"
    ]  # fmt: skip
    assert digits["Random"]["final_accuracy (ResNet50)"] == "0.8"
    assert digits["Margin"]["final_accuracy (MobileNet)"] == "–"


def test_reference_rows_with_nothing_to_show_are_left_out():
    runs = [make_record(m, s) for m in ("Random", "Margin") for s in range(2)]
    rows = table(board(runs, metrics=["final_accuracy"]), "## dataset.name=digits")
    assert list(rows) == ["Random", "Margin"]  # no ceiling runs, no effort column: nothing to say
    rows = table(
        board(runs, metrics=["final_accuracy", "effort_s_total"]), "## dataset.name=digits"
    )
    assert list(rows) == ["Random", "Margin", "label everything"]
    assert rows["label everything"]["n"] == "–"


def test_effort_counts_print_as_whole_numbers():
    runs = [make_record("Random", s) for s in range(3)]
    for s, r in enumerate(runs):
        r["summary"]["effort_counts"] = {"region_mask": 500 + s}
    rows = table(board(runs, metrics=["effort_counts.region_mask"]), "## dataset.name=digits")
    half = ci_half_width([500, 501, 502])
    assert rows["Random"]["effort_counts.region_mask"] == f"**501 ± {half:.0f}**"


def test_less_explanation_on_the_decoy_and_fewer_zero_maps_are_better():
    runs = []
    for s in range(2):
        for method, spurious in (("Random", 0.3), ("Margin", 0.1)):
            r = make_record(method, s)
            r["summary"]["final_metrics"] = {
                "dice_spurious": spurious,
                "dice_object": spurious,
                "zero_map_rate": spurious,
            }
            runs.append(r)
    metrics = [f"final_metrics.{m}" for m in ("dice_spurious", "dice_object", "zero_map_rate")]
    rows = table(board(runs, metrics=metrics), "## dataset.name=digits")
    assert rows["Margin"]["final_metrics.dice_spurious"].startswith("**0.100")
    assert rows["Random"]["final_metrics.dice_object"].startswith("**0.300")
    assert rows["Margin"]["final_metrics.zero_map_rate"].startswith("**0.100")


def test_rows_follow_the_suite_order_after_the_baseline():
    runs = [make_record(m, 0) for m in ("Zeta", "Alpha", "Random", "Mid")]
    rows = list(
        table(board(runs, method_order=["Zeta", "Random", "Alpha"]), "## dataset.name=digits")
    )
    assert rows[:4] == ["Random", "Zeta", "Alpha", "Mid"]  # unlisted methods last, sorted


def test_dirty_records_and_mixed_behaviour_hashes_are_marked():
    runs = [make_record("Random", s) for s in range(2)]
    runs[1]["env"]["git"] = "abc123-dirty"
    for seed, run in enumerate(runs):
        run["components"]["classifier"]["behaviour"] = f"hash{seed}"
    md = board(runs)
    assert "- WARNING: 1 record(s) ran from a checkout with uncommitted changes" in md
    assert "Random (1)" in md
    assert (
        "- WARNING: method Random mixes code of classifier small_cnn version 1: behaviour hashes "
        "hash0, hash1" in md
    )


def test_hashes_a_component_declares_kept_count_as_its_current_code():
    timm = REGISTRIES["classifier"].get("timm")
    earlier = timm.same_behaviour_as[0]
    runs = [make_record("Random", s) for s in range(3)]
    for run, found in zip(runs, (earlier, behaviour_hash(timm), "hash9")):
        run["components"]["classifier"] = {
            "name": "timm",
            "version": timm.version,
            "behaviour": found,
        }
    assert "mixes code" not in board(runs[:2])
    assert f"behaviour hashes {behaviour_hash(timm)}, hash9" in board(runs)


def test_effort_verdicts_carry_their_break_even_unit_costs():
    runs = []
    for seed in range(5):
        base = make_record("Random", seed, effort_s=(300.0, 100.0 + seed))
        boxes = make_record("Boxes", seed, effort_s=(300.0, 50.0 + seed))
        for run, count in ((base, 0), (boxes, 20)):
            run["spec"]["effort"]["box_correct"] = 3.5
            run["summary"]["effort_counts"] = {"box_correct": count}
        runs += [base, boxes]
    md = board(runs)
    rows = table(md, "### Effort: where the verdict would flip")
    # 50 s cheaper now with 20 more box corrections: equal totals at 3.5 + 50 / 20 = 6 s a box
    assert rows["Boxes"]["box_correct (now 3.5 s)"] == "< 6 s"
    assert rows["Boxes"]["effort (s) verdict"] == "better"


def test_contrasts_compare_two_methods_paired_by_seed():
    base = [20, 22, 19, 21, 23]
    runs = []
    for seed, c in enumerate(base):
        runs += [
            make_record("Random", seed, corrections=(0, c)),
            make_record("Crowd", seed, corrections=(0, c - 8 + seed % 2)),
            make_record("Noisy", seed, corrections=(0, c + 3)),
        ]
    md = board(runs, contrasts=[["Crowd", "Noisy"]])
    rows = rows_under(md, "### Contrasts")
    first = next(r for r in rows if r["metric"] == "total_corrections")
    assert (first["method"], first["reference"]) == ("Crowd", "Noisy")
    diffs = [-11 + s % 2 for s in range(5)]
    assert first["Δ mean [95 % CI]"].startswith(f"{np.mean(diffs):.4g} [")
    assert first["verdict"] == "better"


def test_columns_are_named_in_words_with_units_and_traced_to_their_record_fields():
    runs = [make_record("Random", s) for s in range(2)]
    metrics = ["total_corrections", "effort_s_total", "final_accuracy", "effort_counts.box_draw"]
    md = board(runs, metrics=metrics)
    header = next(x for x in md.splitlines() if x.startswith("| method"))
    names = [cell.strip() for cell in header.strip("|").split("|")]
    assert names == ["method", "n", "corrections", "effort (s)", "accuracy", "boxes drawn"]
    assert record_fields(md)["boxes drawn"] == "`effort_counts.box_draw`"
    assert metric_name("final_metrics.iou") == "IoU"
    assert metric_name("round.0.class_tv_distance") == "class TV distance after round 0"
    assert metric_name("final_metrics.dice_object_true") == "dice vs object (true class)"
    assert metric_name("a_new_field") == "a_new_field"  # no entry: the path itself


def test_a_suite_method_without_records_is_named_with_the_contrasts_it_leaves_open():
    runs = [make_record(m, s) for m in ("Random", "Margin") for s in range(2)]
    markdown = board(
        runs, method_order=["Margin", "Margin GPU"], contrasts=[["Margin", "Margin GPU"]]
    )
    assert (
        "Methods with no records (n = 0), in no table: Margin GPU. "
        "Contrasts left `inconclusive (n = 0)`: Margin − Margin GPU." in markdown
    )
    assert "no records" not in board(runs, method_order=["Margin"])


def control_records():
    """Random; Boxes, far fewer corrections on every seed (a control that must be detected);
    KH, a few more with a wide spread (a claim the seeds cannot settle)."""
    runs = []
    for seed, c in enumerate([300, 310, 305, 295, 320]):
        runs += [
            make_record("Random", seed, corrections=(0, c)),
            make_record("Boxes", seed, corrections=(0, c - 40 + seed)),
            make_record("KH", seed, corrections=(0, c + (30, -20, 25, -15, 5)[seed])),
        ]
    return runs


CONTROL = Control(
    method="Boxes", reference="Random", metric="total_corrections", expect="better", why="t"
)
CLAIM = Claim(
    method="KH", reference="Random", metric="total_corrections", effect=12.8, main=True,
    paper="KH needs 4.1 % more corrections", reason="4.1 % of 313",
)  # fmt: skip


def test_a_suite_opens_with_its_control_and_whether_it_could_see_the_paper():
    questions = Questions(margins=MARGINS, claims=[CLAIM], positive_control=CONTROL)
    md = board(control_records(), questions=questions)
    lines = md.splitlines()
    assert lines[2].startswith("positive control: Boxes vs Random on corrections: detected (better")
    # KH's paired differences spread widely: 5 seeds cannot detect +12.8
    assert lines[4].startswith("sensitive to the paper's effect: no (detectable Δ ")
    claims = {row["contrast"]: row for row in rows_under(md, "## The paper's claims")}
    assert claims["KH − Random"]["could this suite have seen it"] == "no"
    assert claims["KH − Random"]["verdict"] == "inconclusive, underpowered"
    # a control that is not detected: the expected direction is the other one
    wrong = Questions(
        margins=MARGINS,
        claims=[CLAIM],
        positive_control=CONTROL.model_copy(update={"expect": "worse"}),
    )
    assert "on corrections: not detected (better" in board(control_records(), questions=wrong)


def test_a_sensitive_suite_says_yes():
    easy = CLAIM.model_copy(update={"effect": 200.0})  # an effect the seeds can see
    questions = Questions(margins=MARGINS, claims=[easy], positive_control=CONTROL)
    md = board(control_records(), questions=questions)
    assert md.splitlines()[4].startswith("sensitive to the paper's effect: yes")


def test_margins_are_printed_with_their_reasons_and_changes_are_flagged():
    md = board(control_records())
    rows = {row["metric"]: row for row in rows_under(md, "## Margins")}
    assert rows["total_corrections"]["margin"] == "±1.5"
    assert rows["total_corrections"]["why this margin"] == "a test's margin"
    assert rows["effort_s_to.0.80"]["margin"] == "none"
    assert "WARNING" not in md
    moved = {**MARGINS, "total_corrections": Margin(value=3, reason="wider")}
    md = board(control_records(), questions=Questions(margins=moved))
    assert "records ran under other margins than the suite's now: total_corrections 1.5" in md
    unstamped = control_records()
    for r in unstamped:
        del r["suite"]["margins"]
    assert "15 of 15 records ran before margins were kept with records" in board(unstamped)


def test_label_everything_on_a_concept_task_costs_a_rating_per_item():
    runs = [make_record("Random", s, n_pool=400, label_scratch=10.0) for s in range(2)]
    for r in runs:
        r["spec"]["dataset"]["params"] = {"concept": "footwear"}
        r["spec"]["effort"]["rating"] = 1.7
    everything = table(board(runs), "## dataset.name=digits")["label everything"]
    assert everything["effort_s_total"] == "680"  # 400 ratings × 1.7 s, not 400 × 10 s


def test_each_claim_says_how_the_verdict_here_stands_to_the_paper():
    fewer = Claim(
        method="Boxes", reference="Random", metric="total_corrections", effect=-30.0,
        paper="boxes save corrections", reason="r",
    )  # fmt: skip
    more = fewer.model_copy(update={"effect": 30.0, "paper": "boxes cost corrections"})
    alike = fewer.model_copy(update={"effect": 0.0, "paper": "boxes change nothing"})
    questions = Questions(
        margins=MARGINS, claims=[fewer, more, alike, CLAIM], positive_control=CONTROL
    )
    rows = rows_under(board(control_records(), questions=questions), "## The paper's claims")
    against = {row["the paper"]: row["here, against the paper"] for row in rows}
    assert against == {
        "boxes save corrections": "as the paper",
        "boxes cost corrections": "the other way",
        "boxes change nothing": "the other way",
        "KH needs 4.1 % more corrections": "not shown",
    }


def test_claims_without_a_control_say_so_and_a_claim_may_apply_to_some_settings():
    runs = control_records()
    for r in runs[:6]:  # seeds 0 and 1 in another setting
        r["suite"]["setting"] = {"dataset.name": "other"}
    here = CLAIM.model_copy(update={"setting": {"dataset.name": "digits"}})
    md = board(runs, questions=Questions(margins=MARGINS, claims=[here]))
    assert (
        md.splitlines()[2] == "positive control: none stated, so no claim here can be called absent"
    )
    rows = rows_under(md, "## The paper's claims")
    assert [row["setting"] for row in rows] == ["dataset.name=digits"]


def test_a_control_known_in_one_setting_leaves_the_others_without_one():
    runs = []
    for name in ("digits", "other"):  # the same five seeds in each setting
        for r in control_records():
            r["suite"]["setting"] = {"dataset.name": name}
            runs.append(r)
    easy = CLAIM.model_copy(update={"effect": 200.0})  # seeds that could see it
    only_digits = CONTROL.model_copy(update={"setting": {"dataset.name": "digits"}})
    questions = Questions(margins=MARGINS, claims=[easy], positive_control=only_digits)
    md = board(runs, questions=questions)
    other = next(line for line in md.splitlines() if "(dataset.name=other)" in line)
    assert other == (
        "positive control (dataset.name=other): none known to differ in this setting, "
        "so no claim here can be called absent"
    )
    assert "positive control (dataset.name=digits): Boxes vs Random on corrections: detected" in md
    seen = {
        r["setting"]: r["could this suite have seen it"]
        for r in rows_under(md, "## The paper's claims")
    }
    assert seen == {"dataset.name=other": "no", "dataset.name=digits": "yes"}


def test_alike_within_less_than_the_papers_effect_is_smaller_than_the_papers():
    runs = []
    for seed in range(5):
        runs += [
            make_record("Random", seed, corrections=(0, 300)),
            make_record("KH", seed, corrections=(0, 300 + (0, 1, -1, 1, 0)[seed])),
        ]
    md = board(runs, questions=Questions(margins=MARGINS, claims=[CLAIM]))
    row = rows_under(md, "## The paper's claims")[0]
    assert row["verdict"] == "equivalent"  # within ±1.5, where the paper reports +12.8
    assert row["here, against the paper"] == "smaller than the paper's"


def test_comparisons_without_pairs_are_not_repeats_of_each_other():
    runs = [make_record("Random", s) for s in range(5)]
    runs += [make_record("A", 7), make_record("B", 8)]  # no seed in common with Random
    rows = comparisons(board(runs))
    assert ("A", "total_corrections") in rows and ("B", "total_corrections") in rows


def test_a_finding_of_no_difference_could_be_seen_where_tost_has_the_seeds():
    alike = CLAIM.model_copy(update={"method": "Boxes", "effect": 0.0, "paper": "alike"})
    wide = {**MARGINS, "total_corrections": Margin(value=60, reason="wide")}
    narrow = {**MARGINS, "total_corrections": Margin(value=0.5, reason="narrow")}
    for margins, seen in ((wide, "yes"), (narrow, "no")):
        questions = Questions(margins=margins, claims=[alike], positive_control=CONTROL)
        row = rows_under(board(control_records(), questions=questions), "## The paper's claims")
        assert row[0]["could this suite have seen it"] == seen


DICE, DECOY, SHARE = (
    f"final_metrics.{m}" for m in ("dice_object", "dice_spurious", "cam_share_object")
)
PRIOR_METRICS = ["final_accuracy", DICE, DECOY, SHARE]
# Per method: (dice against the object, dice against the decoy, share of the map on the
# object) of seed 0; later seeds add `step` per seed to each.
PRIOR_VALUES = {
    "Random": ((0.50, 0.30, 0.40), 0.01),
    "Margin": ((0.80, 0.02, 0.70), -0.005),
    "whole-image map": ((0.62, 0.04, 0.47), 0.002),
    "central square": ((0.69, 0.004, 0.68), 0.001),
    "mean object mask": ((0.72, 0.010, 0.65), -0.001),
    "object mask": ((1.00, 0.0, 1.00), 0.0),  # reads the truth: never a prior
}


def prior_records(methods=tuple(PRIOR_VALUES), seeds=range(5), noise=(0.0, 0.01, -0.02, 0.03, 0)):
    runs = []
    for method in methods:
        (dice, decoy, share), step = PRIOR_VALUES[method]
        for s in seeds:
            r = make_record(method, s)
            r["spec"]["evaluation_cam"] = dict(CHECKED_MAP)  # verdicts on the checked map only
            wobble = noise[s] if method in ("Random", "Margin") else 0.0
            r["summary"]["final_metrics"] = {
                "dice_object": dice + step * s + wobble,
                "dice_spurious": decoy + step * s + wobble / 10,
                "cam_share_object": share + step * s,
            }
            runs.append(r)
    return runs


def prior_value(method, seed, metric):
    (dice, decoy, share), step = PRIOR_VALUES[method]
    return {"dice_object": dice, "dice_spurious": decoy, "cam_share_object": share}[
        metric
    ] + step * seed


PRIOR_MARGINS = {**MARGINS, DICE: Margin(value=0.05, reason="a test's margin")}


def test_the_best_prior_is_picked_per_metric_by_its_mean_and_named():
    md = board(prior_records(), metrics=PRIOR_METRICS, questions=Questions(margins=PRIOR_MARGINS))
    rows = table(md, "## dataset.name=digits")
    assert list(rows)[-2:] == ["object mask", "best prior"]
    best = rows["best prior"]
    assert best["n"] == "–" and best["final_accuracy"] == "–"  # explanation metrics only
    # against the object: the mean object mask (0.724), not the object mask (1.0, the truth)
    mean_object = [prior_value("mean object mask", s, "dice_object") for s in range(5)]
    half = ci_half_width(mean_object)
    assert best[DICE] == f"{np.mean(mean_object):.3f} ± {half:.3f} (mean object mask)"
    assert best[DICE].split(" (")[0] == rows["mean object mask"][DICE]
    # against the decoy, lower is better: the central square (0.006), not the object mask (0)
    assert best[DECOY].endswith("(central square)")
    assert best[DECOY].split(" (")[0] == rows["central square"][DECOY]
    # no better direction: the highest mean, the central square's 0.682 over the mean mask's
    assert best[SHARE].endswith("(central square)")
    assert " — " not in best[DICE] and not best[DICE].startswith("**")  # no verdict, never bold


def test_methods_minus_the_best_prior_match_a_hand_computation():
    runs = prior_records()
    runs = [r for r in runs if not (method_of(r) == "Margin" and r["spec"]["seed"] == 4)]
    md = board(runs, metrics=PRIOR_METRICS, questions=Questions(margins=PRIOR_MARGINS))
    rows = comparisons(md, "### Compared with the best prior")
    assert {metric for _, metric in rows} == {DICE, DECOY, SHARE}  # explanation metrics only
    noise = (0.0, 0.01, -0.02, 0.03, 0)
    ps = {}
    for method, seeds in (("Random", range(5)), ("Margin", range(4))):
        diffs = [
            prior_value(method, s, "dice_object")
            + noise[s]
            - prior_value("mean object mask", s, "dice_object")
            for s in seeds
        ]
        row = rows[(method, DICE)]
        assert row["best prior"] == "mean object mask" and row["pairs"] == str(len(diffs))
        low, high = stats.t.interval(
            0.95, len(diffs) - 1, loc=np.mean(diffs), scale=stats.sem(diffs)
        )
        assert row["Δ mean [95 % CI]"] == f"{np.mean(diffs):.4g} [{low:.4g}, {high:.4g}]"
        ps[method] = stats.ttest_1samp(diffs, 0.0).pvalue
        assert row["p"] == f"{ps[method]:.3g}" and row["TOST margin"] == "±0.05"
    # Holm over the two methods on this metric: the smaller p doubled, the larger kept (or
    # raised to the smaller's adjusted p)
    first, second = sorted(ps, key=ps.get)
    holm = {first: min(1.0, 2 * ps[first])}
    holm[second] = min(1.0, max(holm[first], ps[second]))
    for method in ("Random", "Margin"):
        assert rows[(method, DICE)]["p (Holm)"] == f"{holm[method]:.3g}"
    assert rows[("Random", DICE)]["verdict"] == "worse"  # 0.22 below the mean mask on every seed
    assert rows[("Margin", DICE)]["verdict"] == "inconclusive (n = 4)"  # seed 4 missing
    # against the decoy the prior is the central square, and less is better: Random's 0.30 is
    # further onto the decoy than the prior's 0.006, so worse
    decoy = rows[("Random", DECOY)]
    assert decoy["best prior"] == "central square" and decoy["verdict"] == "worse"
    diffs = [
        prior_value("Random", s, "dice_spurious")
        + noise[s] / 10
        - prior_value("central square", s, "dice_spurious")
        for s in range(5)
    ]
    assert decoy["Δ mean [95 % CI]"].startswith(f"{np.mean(diffs):.4g} [")
    assert (
        "beyond the best prior in the metric's better direction" in md
        and "never the object mask" in md
    )


def test_less_on_the_decoy_than_the_best_prior_is_better():
    runs = prior_records(methods=("Random", "central square", "whole-image map"))
    for r in runs:
        if method_of(r) == "Random":
            r["summary"]["final_metrics"]["dice_spurious"] = 0.001 * r["spec"]["seed"] / 10
    rows = comparisons(board(runs, metrics=[DECOY]), "### Compared with the best prior")
    assert rows[("Random", DECOY)]["best prior"] == "central square"
    assert rows[("Random", DECOY)]["Δ mean [95 % CI]"].startswith("-")
    assert rows[("Random", DECOY)]["verdict"] == "better"


def test_the_object_mask_alone_is_no_prior_and_no_reference_map_means_no_prior_row():
    only_truth = prior_records(methods=("Random", "Margin", "object mask"))
    md = board(only_truth, metrics=PRIOR_METRICS)
    assert list(table(md, "## dataset.name=digits")) == ["Random", "Margin", "object mask"]
    assert "best prior" not in md
    md = board(prior_records(methods=("Random", "Margin")), metrics=PRIOR_METRICS)
    assert list(table(md, "## dataset.name=digits")) == ["Random", "Margin"]
    assert "best prior" not in md


def test_a_board_with_explanation_metrics_names_the_map_they_score():
    runs = [make_record("Random", s) for s in range(3)]
    for run in runs:
        run["spec"]["evaluation_cam"] = {"method": "input_gradient", "relu": True, "norm": "max"}
    metrics = ["final_accuracy", DICE]
    margins = Questions(margins={**MARGINS, DICE: Margin(value=None, reason="r")})
    md = board(runs, metrics=metrics, questions=margins)
    assert "- explanation map scored: input gradient (Ross et al. 2017), ReLU, max-normalised" in md
    assert "explanation map" not in board(runs)  # no metric scores a map
    runs[0]["spec"]["evaluation_cam"] = {"relu": True, "weights": "gradcam", "norm": "max"}
    mixed = board(runs, metrics=metrics, questions=margins)
    assert (
        "- WARNING: the records score different explanation maps: Grad-CAM at the classifier's "
        "`cam_layer` (gradcam weights), ReLU, max-normalised (1 record); input gradient"
    ) in mixed


def test_a_board_scoring_a_map_the_metric_check_did_not_choose_draws_no_verdict_from_it():
    runs = prior_records(methods=("Random", "Margin"))
    metrics = ["final_accuracy", DICE]
    margins = Questions(margins={**MARGINS, DICE: Margin(value=None, reason="r")})
    checked = board(runs, metrics=metrics, questions=margins)
    assert "unchecked map" not in checked
    assert {metric for _, metric in comparisons(checked)} == {"final_accuracy", DICE}
    for run in runs:
        run["spec"]["evaluation_cam"] = {"relu": True, "weights": "gradcam", "norm": "max"}
    md = board(runs, metrics=metrics, questions=margins)
    warning = "- WARNING: the explanation metrics below score an old, unchecked map"
    assert warning in md and md.index(warning) < md.index("## Margins")
    assert {metric for _, metric in comparisons(md)} == {"final_accuracy"}  # no verdict on dice
    assert any(DICE in path for path in record_fields(md).values())  # its means are shown


def test_the_checked_map_is_the_one_the_metric_checks_page_chose():
    page = (Path(__file__).resolve().parent.parent / "docs" / "explanation-metrics.md").read_text()
    block = page.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert yaml.safe_load(block)["settings"]["evaluation_cam"] == CHECKED_MAP


CROWD_CURVE = {"crowd": {"x": "error rate p", "lines": {"Crowd": {"Crowd 0.1": 0.1, "Crowd 0.3": 0.3, "Crowd 0.5": 0.5}}}}  # fmt: skip


def crowd_records(finals):
    """Records of an expert (final accuracy 0.8) and crowds at p with final accuracy `finals[p]`,
    3 seeds each, spread +-0.01 around those means."""
    methods = {"Expert": 0.8, **{f"Crowd {p}": v for p, v in finals.items()}}
    return [
        make_record(m, s, accuracy=(0.5, final + 0.01 * (s - 1)))
        for m, final in methods.items()
        for s in range(3)
    ]


def test_a_break_even_point_along_a_curve_is_where_the_line_meets_the_reference():
    crossing = {
        "curve": "crowd",
        "line": "Crowd",
        "reference": "Expert",
        "metric": "final_accuracy",
    }
    records = crowd_records({0.1: 0.9, 0.3: 0.85, 0.5: 0.7})
    md = board(records, baseline="Expert", curves=CROWD_CURVE, crossings=[crossing])
    rows = rows_under(md, "## Break-even: Crowd against Expert, accuracy")
    (row,) = rows
    assert row["Expert"] == "0.8" and row["Crowd at 0.3"] == "0.85"
    assert row["break-even"] == "0.367"  # 0.3 + 0.2 * (0.85 - 0.8) / (0.85 - 0.7)
    never = board(crowd_records({0.1: 0.9, 0.3: 0.85, 0.5: 0.82}), baseline="Expert",
                  curves=CROWD_CURVE, crossings=[crossing])  # fmt: skip
    (row,) = rows_under(never, "## Break-even: Crowd against Expert, accuracy")
    assert row["break-even"] == "none: above it from 0.1 to 0.5"
    with pytest.raises(LeaderboardError, match="no line 'Crowds'"):
        board(records, baseline="Expert", curves=CROWD_CURVE,
              crossings=[{**crossing, "line": "Crowds"}])  # fmt: skip
