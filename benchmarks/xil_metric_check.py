"""Check the explanation metrics on maps of known quality, on both decoy Fashion-MNIST datasets,
and write docs/explanation-metrics.md.

    python benchmarks/xil_metric_check.py [--n 500] [--seed 0] [--out docs/explanation-metrics.md]

No model is trained: the maps are the holdout's own object masks degraded by known amounts, the
decoy mask, and input-independent priors (`hitlbench.explanations`), each seen through the grid
of every convolution of keras_cnn and at full resolution. The page names the evaluation map the
choice rule selects (`metric_check.choose_map`) and the `evaluation_cam` block that draws it.
About half a minute on one core.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from hitlbench.classifiers.keras_cnn import KerasCNN, KerasCNNNet
from hitlbench.data.decoy_fmnist import ClasswiseDecoyFashionMNIST, DecoyFashionMNIST
from hitlbench.explanations.known_maps import (
    FAMILIES,
    KnownMap,
    best_square_side,
    central_square,
    constant_prior,
    degraded_maps,
    mean_mask_prior,
    noise_prior,
    true_iou,
)
from hitlbench.explanations.metric_check import (
    CHECKED_MAP,
    METRICS,
    MapChoice,
    MapScores,
    Verdict,
    check,
    choose_map,
)
from hitlbench.harness.spec import resolve_evaluation_cam

ROOT = Path(__file__).resolve().parent.parent
DATASETS = {"decoy_fmnist": DecoyFashionMNIST, "decoy_fmnist_classwise": ClasswiseDecoyFashionMNIST}
SIZE = (28, 28)


def conv_grids(size: tuple[int, int] = SIZE) -> dict[str, tuple[int, int]]:
    """The h x w of each convolution's output in keras_cnn for one input of `size`, read by
    running the net once on zeros."""
    return {name: grid for name, (grid, _) in conv_layers(size).items()}


def conv_layers(size: tuple[int, int] = SIZE) -> dict[str, tuple[tuple[int, int], str]]:
    """Each convolution of keras_cnn -> (its output's h x w, the layer Grad-CAM explains at that
    grid: the activation that runs next, as `features.act3` follows the last convolution), read
    by running the net once on zeros."""
    net = KerasCNNNet(1, size, 10).eval()
    ran: list[tuple[str, torch.nn.Module, tuple[int, int]]] = []
    hooks = [
        module.register_forward_hook(
            lambda m, _i, out, name=name: ran.append((name, m, tuple(out.shape[-2:])))
        )
        for name, module in net.named_modules()
        if isinstance(module, torch.nn.Conv2d | torch.nn.ReLU)
    ]
    with torch.no_grad():
        net(torch.zeros(1, 1, *size))
    for hook in hooks:
        hook.remove()
    out = {}
    for i, (name, module, grid) in enumerate(ran):
        if isinstance(module, torch.nn.Conv2d):
            act = next(n for n, m, g in ran[i + 1 :] if isinstance(m, torch.nn.ReLU) and g == grid)
            out[name] = (grid, act)
    return out


FULL = "28x28 (full)"


def resolutions() -> dict[str, tuple[int, int] | None]:
    """Label -> grid: full resolution first, then keras_cnn's convolutions, finest first."""
    out: dict[str, tuple[int, int] | None] = {FULL: None}
    for name, (h, w) in conv_grids().items():
        out[f"{h}x{w} ({name.split('.')[-1]})"] = (h, w)
    return out


def evaluation_cams() -> dict[str, dict]:
    """Label -> the `evaluation_cam` that draws a map of that resolution, resolved by the spec
    code for keras_cnn: the input gradient (Ross et al. 2017) at full resolution, Grad-CAM
    (Selvaraju et al. 2017) at the activation after each convolution (null at the last: the
    classifier's own `cam_layer`)."""
    blocks = {FULL: {"method": "input_gradient"}}
    for name, ((h, w), act) in conv_layers().items():
        blocks[f"{h}x{w} ({name.split('.')[-1]})"] = {"method": "gradcam", "layer": act}
    return {label: resolve_evaluation_cam(b, KerasCNN.cam_layer) for label, b in blocks.items()}


def holdout_and_pool(dataset: str, n: int, seed: int) -> tuple[dict, np.ndarray]:
    """`n` holdout images' masks (drawn with `seed`) and the pool's object masks."""
    split = DATASETS[dataset](seed=seed).build(np.random.default_rng(seed))
    chosen = np.sort(np.random.default_rng(seed).choice(split.holdout, n, replace=False))
    masks = {name: split.data.masks[name][chosen] for name in ("object", "spurious")}
    return masks, split.data.masks["object"][split.pool]


def known_maps(masks: dict, pool_object: np.ndarray, seed: int) -> tuple[list[KnownMap], int]:
    """The degraded object masks, the priors and the decoy mask; the central square's side."""
    obj, n = masks["object"], len(masks["object"])
    side = best_square_side(pool_object)
    priors = {
        "uniform (= whole image)": constant_prior(n, SIZE),
        f"central square {side}x{side}": central_square(n, SIZE, side),
        "mean pool object": mean_mask_prior(pool_object, n),
        "noise": noise_prior(n, SIZE, np.random.default_rng(seed)),
    }
    maps = degraded_maps(obj)
    maps += [KnownMap(name, "prior", 0, m, true_iou(m, obj)) for name, m in priors.items()]
    decoy = masks["spurious"].astype(np.float32)
    maps.append(KnownMap("decoy mask", "decoy", 0, decoy, true_iou(decoy, obj)))
    return maps, side


def quantus_agreement(known: list[KnownMap], masks: dict) -> str:
    """The largest difference between the mean cam_share and the mean of Quantus's relevance
    mass accuracy over every full-resolution map, or why it was not computed. Quantus refuses
    a constant map (the uniform prior is left out) and gives nan where hitlbench gives 0 (images
    with an empty map are left out)."""
    try:
        import quantus
    except ImportError:
        return "not computed, quantus is not installed"
    from hitlbench.core.metrics import explanation_metrics

    worst, compared = 0.0, 0
    rma = quantus.RelevanceMassAccuracy(disable_warnings=True, normalise=False)
    for name in ("object", "spurious"):
        for k in known:
            keep = k.maps.reshape(len(k.maps), -1).sum(axis=1) > 0
            maps, mask = k.maps[keep], masks[name][keep]
            if np.ptp(maps) == 0:
                continue
            ours = explanation_metrics(maps, {name: mask})[f"cam_share_{name}"]
            a = maps[:, None].astype(np.float64)
            s = mask[:, None].astype(np.float64)
            theirs = rma(model=None, x_batch=a, y_batch=np.zeros(len(a), int), a_batch=a, s_batch=s)
            worst = max(worst, abs(ours - float(np.mean(theirs))))
            compared += 1
    return (
        f"quantus {quantus.__version__}'s mean relevance mass accuracy differs from the mean "
        f"`cam_share` by at most {worst:.1e} over {compared} (map, mask) pairs of the first "
        "dataset at full resolution (the uniform map and images with an empty map left out)"
    )


def fmt(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.3f}"


def verdict_rows(verdicts: list[Verdict]) -> list[str]:
    families = [t.family for t in verdicts[0].trends]
    head = ["metric", "resolution", *(f"rho {f}" for f in families)]
    head += ["decoy rank, object question", "decoy rank, decoy question", "best prior (object)"]
    head += ["object mask", "IoU no better than best prior", "verdict"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for v in verdicts:
        rhos = [fmt(t.rho) + ("" if t.monotone else " ✗") for t in v.trends]
        cells = [f"`{v.metric}`", v.resolution, *rhos]
        cells += [f"{v.decoy_rank_object}/{v.n_maps}", f"{v.decoy_rank_decoy}/{v.n_maps}"]
        cells += [f"{fmt(v.best_prior_score)} ({v.best_prior})", fmt(v.perfect_score)]
        cells += [fmt(v.iou_no_better_than_prior)]
        cells += ["**pass**" if v.passes else "fail: " + "; ".join(v.reasons)]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def room_lines(verdicts: list[Verdict], metric: str = "dice") -> list[str]:
    """How much room `metric` leaves at each resolution between the object mask and the best
    prior, in words."""
    out = []
    for v in (v for v in verdicts if v.metric == metric):
        out.append(
            f"`{metric}` at {v.resolution}: the object mask {fmt(v.perfect_score)}, the best "
            f"prior ({v.best_prior}) {fmt(v.best_prior_score)}; degraded maps of mean IoU up to "
            f"{fmt(v.iou_no_better_than_prior)} score no more than that prior."
        )
    return out


def decoy_ceiling_line(tables: dict[str, list[MapScores]], metric: str = "cam_share") -> str:
    """What a map that is exactly the decoy mask scores on the decoy question at each
    resolution: the most a map can show of a decoy there."""
    got = [
        f"{fmt(s.scores[metric, 'spurious'])} at {label}"
        for label, scored in tables.items()
        for s in scored
        if s.family == "decoy"
    ]
    return (
        f"A map that is exactly the decoy mask gets `{metric}` on the decoy " + ", ".join(got) + "."
    )


def reference_rows(tables: dict[str, list[MapScores]], question: str = "object") -> list[str]:
    """The `question`'s (a mask name) score of the object mask, the decoy and every prior."""
    first = next(iter(tables.values()))
    names = [s.name for s in first if s.family in ("object", "prior", "decoy")]
    ious = {s.name: s.iou for s in first}
    head = ["metric", "resolution", *(f"{n} (IoU {ious[n]:.2f})" for n in names)]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for metric in METRICS:
        for label, scored in tables.items():
            by_name = {s.name: s.scores[metric, question] for s in scored}
            rows.append(
                f"| `{metric}` | {label} | " + " | ".join(fmt(by_name[n]) for n in names) + " |"
            )
    return rows


def iou_rows(tables: dict[str, list[MapScores]]) -> list[str]:
    """Each degradation level's mean true IoU with the object mask."""
    first = next(iter(tables.values()))
    rows = ["| family | level | mean IoU |", "|---|---|---|"]
    for family in FAMILIES:
        unit = "sigma, px" if family == "blur" else "px"
        rows += [
            f"| {family} | {s.level:g} {unit} | {s.iou:.3f} |" for s in first if s.family == family
        ]
    return rows


INTRO = """# Explanation metrics checked on maps of known quality

Generated by `python benchmarks/xil_metric_check.py --n {n} --seed {seed}`; do not edit by hand.

hitlbench scores saliency maps against masks with `core.metrics.explanation_metrics`: `dice` of
the region >= 0.5 of the max-normalised map, `dice_t0.2` at >= 0.2, `dice_t0` of the region
> 0, `soft_dice` of the normalised map itself, and `cam_share`, the share of the map's positive
mass inside the mask. This page asks which of them, at which map resolution, can tell a good
map from a bad one, using only maps whose quality is known (no trained model):

- **Degraded object masks** of {n} holdout images per dataset (seed {seed}): the object mask
  shifted right by k pixels, dilated and eroded by k pixels (4-connected), and blurred with a
  Gaussian of sigma pixels (the soft blurred mask is the map). Each map's true quality is its
  IoU with the object mask; for a soft map, the IoU of its region >= 0.5 of its maximum.
- **The decoy mask** (the square of the decoy datasets), IoU 0 with the object.
- **Input-independent priors**: uniform (any constant map; after max normalisation it is the
  whole-image map), a centred square whose side maximises the mean IoU with the pool's object
  masks, the mean object mask over the pool (never the scored images), and uniform noise.

Every map is first passed through a Grad-CAM layer's resolution: average-pooled to the grid of
one of keras_cnn's convolutions (26x26, 11x11, 3x3 for a 28x28 input, read by running the net
on zeros; `features.act3`, 3x3, is keras_cnn's own `cam_layer`, the layer the XIL suites
explain by default) and upsampled back bilinearly with `align_corners=False`, as `core.explain`
upsamples Grad-CAM; or kept at 28x28, the resolution of input-gradient maps (Ross et al.'s
RRR). Average pooling stands for the coarseness of the grid only, not for a layer's receptive
field.

Libraries: scipy.ndimage makes the degradations (shift, binary dilation and erosion, Gaussian
filter) and scipy.stats gives Spearman's rho; torch pools and upsamples. Quantus (Hedström et
al. 2023) is the reference for the one metric it shares with hitlbench: its relevance mass
accuracy equals `cam_share` on non-negative maps (`tests/test_metric_check.py` asserts it on
random cases; on this page's maps: {quantus}). Quantus's pointing game and relevance rank
accuracy are not hitlbench metrics and are not checked here.

**Pass rule.** A (metric, resolution) pair passes when (i) on the object question, within each
degradation family (the object mask itself as its level 0), the mean score rises strictly with
the mean true IoU: with the levels ordered by mean IoU, each level of higher IoU scores strictly
higher (levels of equal mean IoU may tie; none do here). Spearman's rho between the levels' mean
IoU and mean score is reported; ✗ marks a family where the strict rule fails (rho can still be
high when one step ties or reverses). And (ii) the decoy mask scores strictly below every other
map on the object question (rank n of n) and strictly above every other map on the decoy
question (rank 1 of n); a tie counts against it. The n maps are the object mask, every degraded
level, the four priors and the decoy.

Two more columns say how much room a metric leaves between maps that look and maps that do
not: the object mask's own score at that resolution (the most any map can get there), and the
highest mean IoU of a degraded map that scores no more than the best prior (maps up to that
IoU are worth no more, by that metric, than one that ignores the input; – when every degraded
level beats the best prior). Note that the priors' own IoU is far from 0: Fashion-MNIST items
are large and centred, so the mean object mask has an IoU near 0.58 with the object.

**Choice rule.** The map a suite scores (its `evaluation_cam`) is chosen here, on maps of known
quality, before any model is scored (`metric_check.choose_map`): among the resolutions where
`dice` passes on both datasets, the one whose map gap (the object mask's `dice` minus the best
prior's, on the object question; the smaller of the two datasets') is largest at the three
decimals reported; ties go to the finer map. A resolution is then a concrete map of keras_cnn:
full resolution is the input gradient (`method: input_gradient`, Ross et al. 2017), a
convolution's grid is Grad-CAM (Selvaraju et al. 2017) at the activation that follows it
(`method: gradcam`, `layer: features.actK`; `null` for the last, keras_cnn's own `cam_layer`).
"""


def choice_lines(choice: MapChoice, cams: dict[str, dict]) -> list[str]:
    """The chosen evaluation map in words, the gap of every resolution where the metric passes,
    and the `evaluation_cam` block (YAML under a suite's `settings`) that draws it."""
    datasets = list(next(iter(choice.gaps.values())))
    head = ["resolution", "map (`evaluation_cam`)", *(f"gap, `{d}`" for d in datasets), "gap"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, per in choice.gaps.items():
        cam = cams[label]
        drawn = "input gradient" if cam["method"] == "input_gradient" else "Grad-CAM"
        where = f" at `{cam['layer'] or KerasCNN.cam_layer}`" if cam["method"] == "gradcam" else ""
        mark = " **chosen**" if label == choice.resolution else ""
        cells = [label + mark, drawn + where, *(fmt(per[d]) for d in datasets)]
        rows.append("| " + " | ".join([*cells, fmt(min(per.values()))]) + " |")
    failed = (
        f" (not at {', '.join(choice.failed)}: it fails on a dataset there)"
        if choice.failed
        else ""
    )
    ordered = {
        k: cams[choice.resolution][k] for k in ("method", "layer", "relu", "weights", "norm")
    }
    block = yaml.safe_dump({"settings": {"evaluation_cam": ordered}}, sort_keys=False)
    chosen = cams[choice.resolution]
    what = (
        "the input gradient (Ross et al. 2017)"
        if chosen["method"] == "input_gradient"
        else f"Grad-CAM at `{chosen['layer'] or KerasCNN.cam_layer}`"
    )
    return [
        f"`{choice.metric}` passes on both datasets at {len(choice.gaps)} of "
        f"{len(choice.gaps) + len(choice.failed)} resolutions{failed}. Its map gap at each, the "
        "object mask's score minus the best prior's on the object question:",
        "",
        *rows,
        "",
        f"The largest gap, {fmt(choice.gap)}, is at {choice.resolution}, so the evaluation map is "
        f"{what}, scored by `{choice.metric}`. The rule compares resolutions only: how a trained "
        "network's maps look at each is not checked here. A suite copies this block, the form "
        "`spec.resolve_evaluation_cam` gives it for keras_cnn:",
        "",
        "```yaml",
        *block.rstrip("\n").splitlines(),
        "```",
        "",
        "A leaderboard whose records score another map shows its explanation metrics' means but "
        "draws no verdict from them (`publish.board_provenance.judged_metrics`).",
    ]


def write(out: Path, n: int, seed: int) -> None:
    started = time.perf_counter()
    parts = []
    quantus_line = None
    findings = []
    all_verdicts: dict[str, list[Verdict]] = {}
    for dataset in DATASETS:
        masks, pool_object = holdout_and_pool(dataset, n, seed)
        known, side = known_maps(masks, pool_object, seed)
        if quantus_line is None:
            quantus_line = quantus_agreement(known, masks)
        verdicts, tables = check(known, masks, resolutions())
        all_verdicts[dataset] = verdicts
        passed = [f"`{v.metric}` at {v.resolution}" for v in verdicts if v.passes]
        findings.append(f"- `{dataset}`: " + (", ".join(passed) if passed else "none") + ".")
        findings += [f"  - {line}" for line in room_lines(verdicts)]
        findings.append(f"  - {decoy_ceiling_line(tables)}")
        parts += [f"## `{dataset}`", "", "### Verdicts", "", *verdict_rows(verdicts), ""]
        parts += [
            "### What the object mask, the decoy and each prior score on the object question",
            "",
        ]
        parts += [
            f"The central square's side, {side} px, maximises the mean IoU with the pool's object masks.",
            "",
        ]
        parts += [*reference_rows(tables), ""]
        parts += [
            "### The same maps on the decoy question",
            "",
            *reference_rows(tables, "spurious"),
            "",
        ]
        parts += ["### The degradation levels", "", *iou_rows(tables), ""]
        print(f"{dataset}: {len(passed)} of {len(verdicts)} pairs pass", flush=True)
    head = INTRO.format(n=n, seed=seed, quantus=quantus_line)
    choice = choose_map(all_verdicts, list(resolutions()))
    summary = ["## The evaluation map this check selects", ""]
    summary += [*choice_lines(choice, evaluation_cams()), ""]
    summary += ["## Pairs that pass, and the room `dice` leaves above the priors", ""]
    summary += [*findings, ""]
    print(f"chosen: {choice.metric} at {choice.resolution} (gap {choice.gap:.3f})", flush=True)
    out.write_text(head + "\n" + "\n".join(summary + parts), encoding="utf-8")
    print(f"wrote {out} in {time.perf_counter() - started:.0f} s")
    chosen = evaluation_cams()[choice.resolution]
    if {k: chosen[k] for k in CHECKED_MAP} != CHECKED_MAP:
        sys.exit(
            f"the check now chooses {chosen}, not metric_check.CHECKED_MAP {CHECKED_MAP}: set "
            "CHECKED_MAP to it and re-run the suites that score explanations"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="holdout images per dataset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "explanation-metrics.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    write(args.out, args.n, args.seed)


if __name__ == "__main__":
    main()
