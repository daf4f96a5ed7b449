"""BB on a CPU: the one-box regressor's holdout IoU, round by round, beside Faster R-CNN's.

`holmes2023_asl` retrains its detector every round (BB) with `box_regressor`, a ridge regression
on frozen EfficientNet-Lite0 feature maps, because torchvision's Faster R-CNN (`frcnn`) costs
too much per round on 2 cores. This script runs the suite's Random BB cell (grouped split, one
seed) for its first `--rounds` rounds once with each detector and prints, for every round, the
holdout IoU of its boxes, the share of holdout images it found no box for (the loop then crops
to the whole image), the whole image's IoU for reference, and each detector's seconds.

The classifier is swapped for a simulated labeler that never trains: with random order and a
person who corrects every box to the true one, what a detector learns from (the labeled items'
true boxes, in the sampler's seeded order) does not depend on the classifier, so the IoU rows
are those of the suite's own cell at a fraction of its cost. The script checks that claim
against the suite's committed record of that cell where there is one.

Run (needs the ASL letters: HITLBENCH_DATA=../shared/data; about 40 minutes on one core for 12
rounds, most of it Faster R-CNN's):

    HITLBENCH_DATA=../shared/data .venv/bin/python benchmarks/asl_detectors.py --seed 0
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from pathlib import Path

from hitlbench.harness.results import record_path
from hitlbench.harness.runner import execute
from hitlbench.harness.spec import resolve_spec
from hitlbench.harness.suites import load_suite

SUITE = "holmes2023_asl"
RECORDS = Path(__file__).resolve().parent.parent / "leaderboards" / "records"
DETECTORS = {  # the suite's BB, and Faster R-CNN at a size that suits a hand in a 224 px photo
    "box_regressor": {"name": "box_regressor", "params": {"update": "every"}},
    "frcnn": {"name": "frcnn", "params": {"update": "every", "resize": 160}},
}
LABELER = {"name": "zero_shot", "params": {"backend": {"name": "simulated"}}}


def random_bb_cell(seed: int):
    """The suite's Random BB cell on the grouped split."""
    for cell in load_suite(SUITE).cells():
        grouped = cell.setting.get("dataset", {}).get("params", {}).get("split") == "grouped"
        if cell.method == "Random BB" and grouped and cell.seed == seed:
            return cell
    raise SystemExit(f"{SUITE} has no Random BB cell on the grouped split with seed {seed}")


def run_with(spec: dict, detector: dict, rounds: int) -> tuple[list[dict], float]:
    """The first `rounds` rounds of `spec` with `detector` and a labeler that never trains, and
    the wall time in seconds."""
    spec = {**copy.deepcopy(spec), "detector": detector, "classifier": LABELER, "rounds": rounds}
    spec = resolve_spec(spec)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        record = execute(spec, out=out)[0]
    return record["rounds"], time.perf_counter() - start


def suite_ious(cell) -> list[float] | None:
    """The holdout IoU by round in the suite's committed record of `cell`, if there is one."""
    path = record_path(RECORDS, SUITE, cell.run_id)
    if not path.exists():
        return None
    return [row["metrics"]["iou"] for row in json.loads(path.read_text())["rounds"]]


def print_table(seed: int, runs: dict[str, tuple[list[dict], float]]) -> None:
    names = list(runs)
    print(f"{SUITE}, Random BB, grouped split, seed {seed}: holdout IoU by round")
    heads = [f"{n} IoU" for n in names] + [f"{n}: no box" for n in names]
    print("| round | labeled | " + " | ".join(heads) + " | whole image |")
    print("|---" * (len(heads) + 3) + "|")
    for index, rows in enumerate(zip(*(runs[n][0] for n in names), strict=True)):
        metrics = [row["metrics"] for row in rows]
        ious = [f"{m['iou']:.3f}" for m in metrics]
        missing = [f"{m['fallback_rate']:.3f}" for m in metrics]
        print(
            f"| {index} | {rows[0]['n_labeled']} | {' | '.join(ious + missing)} "
            f"| {metrics[0]['iou_whole_image']:.3f} |"
        )
    print("seconds: " + ", ".join(f"{n} {runs[n][1]:.0f}" for n in names))


def check_against_suite(cell, rows: list[dict]) -> None:
    """Says whether box_regressor's IoU rows equal those of the suite's own record."""
    recorded = suite_ious(cell)
    if recorded is None:
        print("the suite has no record of this cell to check the IoU rows against")
        return
    ours = [row["metrics"]["iou"] for row in rows]
    same = recorded[: len(ours)] == ours
    print(f"box_regressor's IoU rows {'equal' if same else 'DIFFER FROM'} the suite's record")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    cell = random_bb_cell(args.seed)
    runs = {name: run_with(cell.spec, d, args.rounds) for name, d in DETECTORS.items()}
    print_table(args.seed, runs)
    check_against_suite(cell, runs["box_regressor"][0])


if __name__ == "__main__":
    main()
