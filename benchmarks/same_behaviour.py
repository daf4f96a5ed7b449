"""Shows that a change kept the loop's behaviour: run a fixed list of specs and the smoke suite
with one checkout, again with another, and compare the records.

Records are paired by run id (the same spec, parameters added since at their defaults aside)
and must be equal in everything but `env` (the checkout, the date), `time_s` (wall-clock
times) and each component's `behaviour` hash (a fingerprint of the code, which a refactor
changes: this script is what shows that the behaviour did not). The specs cover every kind of
component the loop treats differently: detectors that learn (BB, BB-1) and boxes the person
draws, Grad-CAM feedback on both regions, single noisy people, crowds with Dawid–Skene and gold
screening, automation bias on zero-shot pre-labels, a binary concept task on cached embeddings
with presumed negatives, and a model-based sampler.

    python benchmarks/same_behaviour.py run OUT          # the records of this checkout
    python benchmarks/same_behaviour.py compare A B      # exit 1 and the first differences
    PYTHONPATH=/path/to/other/checkout python benchmarks/same_behaviour.py run OUT_OTHER

(with PYTHONPATH, the other checkout's package and smoke suite run).
About 2.5 minutes on 2 cores (1.5 once the embedding cache holds the digits); needs Debian's
dataset-fashion-mnist (or HITLBENCH_DATA).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import hitlbench
from hitlbench.harness.bench import run_suite
from hitlbench.harness.results import record_path
from hitlbench.harness.runner import execute
from hitlbench.harness.spec import resolve_spec, run_id
from hitlbench.harness.suites import load_suite

ROOT = Path(hitlbench.__file__).resolve().parent.parent  # the checkout whose code runs
IGNORED = ("env", "time_s", "behaviour")
# Records are paired by run id, which already says their specs are the same; a spec's text may
# still gain a parameter or setting added since, at the default that keeps the old behaviour
# (left out of the run id), so the `spec` field itself is not compared.
PAIRED_BY_RUN_ID = "spec"
TINY_CNN = {
    "name": "small_cnn",
    "params": {"width": 4, "hidden": 8, "max_epochs": 3, "min_epochs": 1},
}
DIGITS_CNN = {"name": "small_cnn", "params": {"width": 8, "hidden": 32, "max_epochs": 30}}
TINY_FRCNN = {"resize": 64, "epochs": 1, "fpn_channels": 16}
EMBEDDER = {"name": "timm", "params": {"arch": "efficientnet_lite0", "input_px": 64}}
SIMULATED = {"name": "zero_shot", "params": {"backend": {"name": "simulated", "params": {"accuracy": 0.7}}}}  # fmt: skip
CROWD = {"name": "crowd", "params": {"k": 3, "accuracies": [0.9, 0.75, 0.6]}}
DIGITS = {"name": "digits", "params": {"pool_size": 400}}
CLUTTER = {"name": "fmnist_clutter", "params": {"size": 300}}
DECOY = {"pool_size": 300, "holdout": 0.01}
SPECS: dict[str, dict[str, Any]] = {
    "kernel_herding_noisy_unsure": {
        "dataset": DIGITS, "classifier": DIGITS_CNN, "sampler": "kernel_herding",
        "oracle": {"name": "noisy", "params": {"p": 0.2, "unsure": 0.1}},
    },
    "margin_crowd_dawid_skene": {
        "dataset": DIGITS, "classifier": DIGITS_CNN, "sampler": "margin",
        "oracle": {"name": "crowd", "params": {"k": 5, "accuracies": [0.9, 0.9, 0.6, 0.3, 0.3],
                                               "aggregation": "dawid_skene"}},
    },
    "gold_screening": {
        "dataset": DIGITS, "classifier": DIGITS_CNN,
        "oracle": {"name": "gold_screening", "params": {"crowd": CROWD, "gold_items": 40,
                                                        "gold_rate": 0.2, "min_answers": 5}},
    },
    "automation_bias_on_zero_shot": {
        "dataset": DIGITS, "classifier": SIMULATED, "sampler": "entropy",
        "oracle": {"name": "automation_bias", "params": {"p": 0.5, "annotator": "noisy"}},
    },
    "concept_embedding_mlp_positive_mining": {
        "dataset": {"name": "digits", "params": {
            "pool_size": 400, "concept": {"name": "even", "positives": ["0", "2", "4", "6", "8"]}}},
        "classifier": {"name": "embedding_mlp", "params": {
            "embedder": EMBEDDER, "presumed_negatives": 100, "epochs": 5}},
        "sampler": "margin_positive_mining",
    },
    "frcnn_bb": {
        "dataset": CLUTTER, "classifier": TINY_CNN,
        "detector": {"name": "frcnn", "params": {"update": "every", **TINY_FRCNN}},
    },
    "frcnn_bb1_margin": {
        "dataset": CLUTTER, "classifier": TINY_CNN, "sampler": "margin",
        "detector": {"name": "frcnn", "params": {"update": "first", **TINY_FRCNN}},
    },
    "timm_head_box_regressor_bb": {
        "dataset": CLUTTER, "detector": {"name": "box_regressor", "params": {"resize": 64}},
        "classifier": {"name": "timm", "params": {"input_size": 32, "max_epochs": 3, "min_epochs": 1}},
    },
    "human_boxes_zero_shot": {"dataset": CLUTTER, "classifier": SIMULATED, "detector": "human"},
    "rrr_gradcam_spurious": {
        "dataset": {"name": "decoy_fmnist", "params": DECOY}, "classifier": TINY_CNN,
        "feedback": {"name": "rrr_gradcam", "params": {"region": "spurious"}},
    },
    "rrr_gradcam_missing_classwise": {
        "dataset": {"name": "decoy_fmnist_classwise", "params": DECOY}, "classifier": TINY_CNN,
        "feedback": {"name": "rrr_gradcam", "params": {"region": "missing"}},
    },
}  # fmt: skip
SETTINGS = {"rounds": 3, "batch_size": 20, "threads": 1, "device": "cpu", "seed": 1}


def run(out: Path) -> None:
    """The fixed specs' records under `out/specs`, the smoke suite's under `out/smoke`; a
    record already there is kept, so an interrupted run resumes."""
    for name, raw in SPECS.items():
        spec = resolve_spec({**SETTINGS, **raw})
        if record_path(out, f"specs/{name}", run_id(spec)).exists():
            continue
        print(f"spec {name}", flush=True)
        execute(spec, out=out, group=f"specs/{name}")
    print("suite smoke", flush=True)
    run_suite(load_suite(ROOT / "benchmarks" / "smoke.yaml"), out / "smoke", allow_dirty=True)


def comparable(obj: Any) -> Any:
    """`obj` without the fields that may differ between equal runs."""
    if isinstance(obj, Mapping):
        return {k: comparable(v) for k, v in obj.items() if k not in IGNORED}
    if isinstance(obj, list):
        return [comparable(v) for v in obj]
    return obj


def _without_spec(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != PAIRED_BY_RUN_ID}


def differences(a: Any, b: Any, where: str = "") -> Iterator[str]:
    """Where two comparable records differ, as `path: a != b`."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b)):
            yield from differences(a.get(key), b.get(key), f"{where}.{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from differences(x, y, f"{where}[{i}]")
    elif a != b:
        yield f"{where}: {a!r} != {b!r}"


def compare(first: Path, second: Path) -> int:
    """0 when both folders hold the same records (by relative path) that compare equal."""
    paths = {p.relative_to(first) for p in first.rglob("*.json")}
    other = {p.relative_to(second) for p in second.rglob("*.json")}
    if paths != other:
        print(f"different records: only in {first}: {sorted(map(str, paths - other))}; "
              f"only in {second}: {sorted(map(str, other - paths))}")  # fmt: skip
        return 1
    failed = 0
    for path in sorted(paths):
        a, b = (
            comparable(_without_spec(json.loads((d / path).read_text()))) for d in (first, second)
        )
        found = list(differences(a, b))
        if found:
            failed += 1
            print(f"{path}: {len(found)} difference(s), first: " + "; ".join(found[:5]))
    ignored = ", ".join((*IGNORED, f"{PAIRED_BY_RUN_ID} (paired by run id)"))
    print(f"{len(paths) - failed} of {len(paths)} records equal but for {ignored}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run").add_argument("out", type=Path)
    both = commands.add_parser("compare")
    both.add_argument("first", type=Path)
    both.add_argument("second", type=Path)
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.out)
        return 0
    return compare(args.first, args.second)


if __name__ == "__main__":
    sys.exit(main())
