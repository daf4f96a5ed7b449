"""BB on a CPU: the one-box regressor's holdout IoU, round by round, beside Faster R-CNN's.

`holmes2023_asl` retrains its detector every round (BB) with `box_regressor`, a ridge regression
on frozen EfficientNet-Lite0 feature maps, because torchvision's Faster R-CNN (`frcnn`) costs
too much per round on 2 cores. This script runs the suite's Random BB cell (grouped split, one
seed) once with each detector and prints, for every round, the holdout IoU of its boxes, the
share of holdout images it found no box for (`frcnn` only; the loop then crops to the whole
image), the whole image's IoU for reference, and each run's wall time.

Run (needs the ASL letters: HITLBENCH_DATA=../shared/data; about an hour on 2 cores, most of it
Faster R-CNN's):

    HITLBENCH_DATA=../shared/data .venv/bin/python benchmarks/asl_detectors.py --seed 0
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time

from hitlbench.harness.runner import execute
from hitlbench.harness.suites import load_suite

SUITE = "holmes2023_asl"
DETECTORS = {  # the suite's BB, and Faster R-CNN at a size that suits a hand in a 320 px photo
    "box_regressor": {"name": "box_regressor", "params": {"update": "every"}},
    "frcnn": {"name": "frcnn", "params": {"update": "every", "resize": 160}},
}


def random_bb_spec(seed: int) -> dict:
    """The suite's Random BB cell on the grouped split."""
    for cell in load_suite(SUITE).cells():
        grouped = cell.setting.get("dataset", {}).get("params", {}).get("split") == "grouped"
        if cell.method == "Random BB" and grouped and cell.seed == seed:
            return cell.spec
    raise SystemExit(f"{SUITE} has no Random BB cell on the grouped split with seed {seed}")


def run_with(spec: dict, detector: dict) -> tuple[list[dict], float]:
    """The rounds of `spec` run with `detector`, and the wall time in seconds."""
    spec = copy.deepcopy(spec)
    spec["detector"] = detector
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        record = execute(spec, out=out)[0]
    return record["rounds"], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    spec = random_bb_spec(args.seed)
    runs = {name: run_with(spec, detector) for name, detector in DETECTORS.items()}
    names = list(DETECTORS)
    print(f"{SUITE}, Random BB, grouped split, seed {args.seed}: holdout IoU by round")
    print("| round | labeled | " + " | ".join(names) + " | frcnn: no box found | whole image |")
    print("|---" * (len(names) + 4) + "|")
    rounds = zip(*(runs[name][0] for name in names), strict=True)
    for index, rows in enumerate(rounds):
        metrics = [row["metrics"] for row in rows]
        ious = " | ".join(f"{m.get('iou', float('nan')):.3f}" for m in metrics)
        fallback = metrics[names.index("frcnn")].get("fallback_rate", float("nan"))
        print(
            f"| {index} | {rows[0]['n_labeled']} | {ious} | {fallback:.3f} "
            f"| {metrics[0].get('iou_whole_image', float('nan')):.3f} |"
        )
    print("wall time: " + ", ".join(f"{name} {runs[name][1] / 60:.1f} min" for name in names))


if __name__ == "__main__":
    main()
