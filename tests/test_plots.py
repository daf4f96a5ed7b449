"""Figures from synthetic run records: files, determinism, lines, bands and the ceiling."""

from __future__ import annotations

import numpy as np
import pytest

from hitlbench.harness.verdicts import ci_half_width
from hitlbench.publish.cam_figure import cam_figure
from hitlbench.publish.plots import FIGURES, _figure, _metric_vs, plot

NAMES = [
    "accuracy_per_round",
    "corrections_per_round",
    "cumulative_corrections",
    "accuracy_vs_effort",
    "accuracy_vs_corrections",
]
COLORS = ["C0", "C1"]


def make_record(
    method, seed, setting=None, *, accuracy=(0.5, 0.7, 0.8), effort_s=(300.0, 100.0, 80.0)
):
    """Just what the plots read: suite block, rounds and the final accuracy."""
    corrections = [0, 4 + seed, 2 + seed][: len(accuracy)]
    effort_cum = np.cumsum(effort_s).tolist()
    rows = [
        {
            "round": i,
            "n_labeled": 30 * (i + 1),
            "corrections": c,
            "corrections_cum": int(sum(corrections[: i + 1])),
            "effort_s_cum": e,
            "metrics": {"accuracy": a},
        }
        for i, (c, a, e) in enumerate(zip(corrections, accuracy, effort_cum))
    ]
    return {
        "spec": {"seed": seed, "dataset": {"name": "digits"}},
        "suite": {"name": "smoke", "method": method, "setting": setting or {}},
        "rounds": rows,
        "summary": {"final_accuracy": accuracy[-1]},
    }


@pytest.fixture
def records():
    runs = [
        make_record(m, s, accuracy=(0.5, 0.6 + s / 20, 0.8))
        for m in ("Random", "Margin")
        for s in range(3)
    ]
    return runs + [make_record("ceiling", 0, accuracy=(0.93,), effort_s=(4000.0,))]


def test_every_figure_as_png_and_svg(tmp_path, records):
    paths = plot(records, tmp_path, title="smoke")
    assert [p.name for p in paths] == [f"{n}.{ext}" for n in NAMES for ext in ("png", "svg")]
    assert list(FIGURES) == NAMES
    for path in paths:
        assert path.parent == tmp_path and path.stat().st_size > 1000
    assert paths[0].read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in paths[1].read_bytes()


def test_two_runs_give_identical_files(tmp_path, records):
    first = plot(records, tmp_path / "a", title="smoke")
    second = plot(records, tmp_path / "b", title="smoke")
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert b"<dc:date>" not in first[1].read_bytes()


def test_one_line_per_method_and_a_dashed_ceiling_on_accuracy_plots(records):
    fig = _figure("accuracy_per_round", records, "smoke", COLORS)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["Margin", "Random", "all labels, one fit"]
    ceiling = ax.lines[-1]
    assert ceiling.get_linestyle() == "--" and ceiling.get_ydata()[0] == pytest.approx(0.93)
    assert len(ax.collections) == 2  # a band for each method
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    half = ci_half_width([0.6, 0.65, 0.7])
    assert np.isclose(band, 0.65 + half).any() and np.isclose(band, 0.65 - half).any()
    corrections = _figure("corrections_per_round", records, "smoke", COLORS).axes[0]
    assert [line.get_label() for line in corrections.lines] == ["Margin", "Random"]


def test_mean_line_values_and_no_band_for_one_seed():
    ax = _figure("cumulative_corrections", [make_record("Random", 0)], "t", COLORS).axes[0]
    (line,) = ax.lines
    assert line.get_xdata().tolist() == [30, 60, 90]
    assert line.get_ydata().tolist() == [0, 4, 6]
    assert not ax.collections


def test_labels_name_the_setting_when_there_are_several():
    runs = [make_record("Random", 0, {"dataset.name": d}) for d in ("digits", "fmnist")]
    ax = _figure("accuracy_vs_effort", runs, "t", COLORS).axes[0]
    assert [line.get_label() for line in ax.lines] == ["Random · digits", "Random · fmnist"]


def test_effort_curves_are_interpolated_onto_a_common_grid():
    runs = [
        make_record("Random", 0, accuracy=(0.5, 0.7), effort_s=(100.0, 100.0)),  # x 100, 200
        make_record("Random", 1, accuracy=(0.6, 0.8), effort_s=(150.0, 150.0)),  # x 150, 300
    ]
    x, values = _metric_vs("effort_s_cum")(runs)
    assert x.tolist() == [150.0, 200.0, 300.0]  # from the latest first point on
    # seed 0 holds 0.7 past its last point; seed 1 interpolates 0.6 -> 0.8 over 150..300
    assert values == [
        pytest.approx([0.6, 0.6]),
        pytest.approx([0.7, 0.6 + 0.2 / 3]),
        pytest.approx([0.7, 0.8]),
    ]


def with_explanations(record, shift):
    """The record with explanation metrics and Grad-CAM examples in each round."""
    image = np.zeros((2, 4, 4), int)
    image[:, 1:3, 1:3] = 255
    cam = np.zeros((2, 4, 4), int)
    cam[:, shift, shift] = 255
    for row in record["rounds"]:
        row["metrics"] |= {"accuracy_clean": 0.5, "dice_object": 0.25 * shift}
        row["cam_examples"] = {
            "items": [7, 9],
            "labels": [0, 1],
            "predicted": [0, 0],
            "image": image.tolist(),
            "cam": cam.tolist(),
        }
    return record


def test_explanation_records_add_effort_curves_and_an_example_figure(tmp_path):
    runs = [
        with_explanations(make_record(m, s), k)
        for k, m in enumerate(("none", "spurious"))
        for s in range(2)
    ]
    names = [p.name for p in plot(runs, tmp_path, title="xil", baseline="spurious")]
    for name in ("clean_accuracy_vs_effort", "dice_object_vs_effort", "cam_examples"):
        assert f"{name}.png" in names and f"{name}.svg" in names
    fig = cam_figure(runs, "xil", baseline="spurious")
    axes = np.array(fig.axes).reshape(2, 3)  # two examples; input, then one column per method
    assert [ax.get_title() for ax in axes[0]] == ["input", "spurious", "none"]
    overlay = axes[0, 2].images[1].get_array()
    assert overlay[0, 0] == 1.0 and overlay.sum() == 1.0  # "none" (shift 0): its own map
    assert axes[1, 1].images[1].get_array()[1, 1] == 1.0
    assert "class 1" in axes[1, 0].get_ylabel()


def test_the_example_figure_names_classes_where_the_record_has_names():
    runs = [with_explanations(make_record("none", 0), 0)]
    runs[0]["data"] = {"class_names": ["T-shirt/top", "Trouser"]}
    fig = cam_figure(runs, "xil")
    axes = np.array(fig.axes).reshape(2, 2)
    assert axes[1, 0].get_ylabel().endswith("class Trouser")
    assert axes[1, 1].get_xlabel() == "predicted T-shirt/top"
    text = " ".join(ax.get_ylabel() + ax.get_xlabel() for ax in fig.axes)
    assert "class 1" not in text and "predicted 0" not in text


def test_total_effort_is_drawn_against_each_unsourced_unit_cost(tmp_path):
    from hitlbench.publish.plots import _cost_figures

    runs = []
    for seed, (total, count) in enumerate([(1000.0, 10), (1200.0, 30)]):
        runs.append(
            {
                "spec": {"seed": seed, "effort": {"box_correct": 3.5}},
                "summary": {"effort_s_total": total, "effort_counts": {"box_correct": count}},
            }
        )
    figures = _cost_figures(runs, {"box_correct": [0.0, 10.0]})
    assert list(figures) == ["effort_vs_box_correct_cost"]
    curve, xlabel, _, _, now = figures["effort_vs_box_correct_cost"]
    x, values = curve(runs)
    assert x[0] == 0.0 and x[-1] == 10.0 and now == 3.5
    assert values[0] == [1000.0 - 35.0, 1200.0 - 105.0]  # at 0 s a box correction
    assert _cost_figures(runs[:0] + [{**runs[0], "summary": {"effort_s_total": 1.0}}], {}) == {}


def test_a_suites_curves_draw_a_summary_metric_against_a_parameter(tmp_path):
    from hitlbench.publish.plots import _curve_figures

    runs = [
        {
            "suite": {"method": m, "setting": {}},
            "spec": {"seed": s},
            "summary": {"final_accuracy": acc + s / 100},
        }
        for m, acc in (("perfect", 0.8), ("noisy 0.1", 0.7), ("noisy 0.3", 0.5))
        for s in range(3)
    ]
    curves = {"noise": {"x": "p", "lines": {"Random": {"perfect": 0.0, "noisy 0.1": 0.1,
                                                       "noisy 0.3": 0.3}},
                        "metrics": ["final_accuracy"]}}  # fmt: skip
    figures = _curve_figures(runs, curves, "t", ["C0"])
    line = figures["noise_final_accuracy"].axes[0].lines[0]
    assert line.get_xdata().tolist() == [0.0, 0.1, 0.3]
    assert np.allclose(line.get_ydata(), [0.81, 0.71, 0.51])
