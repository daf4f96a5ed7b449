"""Resolve a spec (names, defaults, seeds), run the loop once, and write its record."""

from __future__ import annotations

import copy
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .effort import seconds_table
from .loop import Components, LoopRngs, LoopSettings, run_loop
from .metrics import aulc_effort, effort_to_reach
from .registries import COMPONENT_KINDS, REGISTRIES
from .registry import parameters_of
from .results import SCHEMA, environment, record_path, run_id, write_json_atomic
from .types import Action, Effort, HitlbenchError

DEFAULT_COMPONENTS = {
    "sampler": "random",
    "detector": "none",
    "classifier": "small_cnn",
    "oracle": "perfect",
    "feedback": "labels",
}
DEFAULT_SETTINGS: dict[str, Any] = {
    "rounds": 10,
    "batch_size": 50,
    "seed": 0,
    "threads": 2,
    "device": "auto",
    "effort": {},
    "effort_budget_s": None,
    "targets": [0.7, 0.8, 0.9],
}
SPEC_KEYS = ("dataset", *COMPONENT_KINDS, *DEFAULT_SETTINGS)


def default_dataset(detector: str) -> str:
    """`fmnist`, or `fmnist_clutter` when the detector needs true boxes (DESIGN §4)."""
    return "fmnist_clutter" if REGISTRIES["detector"].get(detector).needs_boxes else "fmnist"


def _component(kind: str, given: Any, default: str) -> dict[str, Any]:
    """{name, params} with the name resolved and every parameter filled; None name: `default`."""
    if given is None or isinstance(given, str):
        given = {"name": given}
    if not isinstance(given, Mapping):
        raise HitlbenchError(
            f"{kind}: expected a name or {{name: ..., params: {{...}}}}, got {given!r}"
        )
    unknown = set(given) - {"name", "params"}
    if unknown:
        raise HitlbenchError(f"{kind}: unknown keys {sorted(unknown)}; use name and params")
    given = {"name": given.get("name") or default, "params": given.get("params")}
    registry = REGISTRIES[kind]
    name = registry.canonical(str(given["name"]))
    params = dict(given.get("params") or {})
    registry.create(name, **params)  # validates names and values now, not half-way through a run
    full = parameters_of(registry.get(name))
    full.update(params)
    return {"name": name, "params": full}


def _positive_int_or_all(key: str, value: Any) -> int | str:
    if value in ("all", None):
        return "all"
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise HitlbenchError(f"{key} must be a positive integer or 'all', got {value!r}")
    return value


def resolve_device(device: str) -> str:
    """`auto` becomes what this machine has; `cuda` stays `cuda` here too, so a suite's GPU cells
    keep their identity on a machine without one (they are refused when run, not when resolved)."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise HitlbenchError(f"device must be auto, cpu or cuda, got {device!r}")
    return device


def device_available(device: str) -> bool:
    """Whether this machine can run on `device` (a resolved one: cpu or cuda)."""
    return device != "cuda" or torch.cuda.is_available()


def resolve_spec(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Aliases resolved, defaults filled, values checked: the spec that identifies a run."""
    unknown = set(raw) - set(SPEC_KEYS)
    if unknown:
        raise HitlbenchError(f"unknown spec keys {sorted(unknown)}; known: {', '.join(SPEC_KEYS)}")
    spec: dict[str, Any] = {}
    for kind in COMPONENT_KINDS:
        spec[kind] = _component(kind, raw.get(kind), DEFAULT_COMPONENTS[kind])
    spec["dataset"] = _component(
        "dataset", raw.get("dataset"), default_dataset(spec["detector"]["name"])
    )
    settings = {**DEFAULT_SETTINGS, **{k: v for k, v in raw.items() if k in DEFAULT_SETTINGS}}
    spec["rounds"] = _positive_int_or_all("rounds", settings["rounds"])
    spec["batch_size"] = _positive_int_or_all("batch_size", settings["batch_size"])
    for key in ("seed", "threads"):
        value = settings[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < (0 if key == "seed" else 1)
        ):
            raise HitlbenchError(
                f"{key} must be an integer >= {0 if key == 'seed' else 1}, got {value!r}"
            )
        spec[key] = value
    spec["device"] = resolve_device(settings["device"])
    spec["effort"] = seconds_table(settings["effort"] or {})
    budget = settings["effort_budget_s"]
    if budget is not None and (not isinstance(budget, int | float) or budget <= 0):
        raise HitlbenchError(f"effort_budget_s must be a positive number, got {budget!r}")
    spec["effort_budget_s"] = budget
    targets = settings["targets"]
    if not isinstance(targets, list) or not all(
        isinstance(t, int | float) and 0 < t <= 1 for t in targets
    ):
        raise HitlbenchError(f"targets must be a list of accuracies in (0, 1], got {targets!r}")
    spec["targets"] = sorted(float(t) for t in targets)
    check_compatible(spec)
    return spec


def check_compatible(spec: Mapping[str, Any]) -> None:
    """Refuse combinations that cannot run, before any data is loaded."""
    fb = REGISTRIES["feedback"].get(spec["feedback"]["name"])
    clf = REGISTRIES["classifier"].get(spec["classifier"]["name"])
    if fb.needs_cam and clf.cam_layer is None:
        able = [
            n for n in REGISTRIES["classifier"].list() if REGISTRIES["classifier"].get(n).cam_layer
        ]
        raise HitlbenchError(
            f"feedback {spec['feedback']['name']!r} needs Grad-CAM, which classifier "
            f"{spec['classifier']['name']!r} does not support; use one of: {', '.join(able)}"
        )


def build(spec: Mapping[str, Any]) -> tuple[Any, Components]:
    """Instances of the dataset and the five components, from a resolved spec."""

    def make(kind: str):
        return REGISTRIES[kind].create(spec[kind]["name"], **copy.deepcopy(spec[kind]["params"]))

    return make("dataset"), Components(**{kind: make(kind) for kind in COMPONENT_KINDS})


def check_writable(directory: str | os.PathLike) -> None:
    """Fail early, before any work, when results could not be written."""
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise HitlbenchError(f"cannot write results to {directory}: {exc.strerror or exc}") from exc


def _seeds(seed: int) -> dict[str, np.random.SeedSequence]:
    names = ("split", "sampler", "oracle", "classifier_init", "fit", "detector_init")
    return dict(zip(names, np.random.SeedSequence(seed).spawn(len(names)), strict=True))


def summarize(rows: list[dict], spec: Mapping[str, Any], budget: float) -> dict[str, Any]:
    effort_cum = [r["effort_s_cum"] for r in rows]
    acc = [r["metrics"]["accuracy"] for r in rows]
    return {
        "rounds": len(rows),
        "n_labeled": rows[-1]["n_labeled"] if rows else 0,
        "total_corrections": rows[-1]["corrections_cum"] if rows else 0,
        "final_accuracy": acc[-1] if rows else None,
        "final_macro_f1": rows[-1]["metrics"]["macro_f1"] if rows else None,
        "effort_s_total": effort_cum[-1] if rows else 0.0,
        "effort_budget_s": budget,
        "aulc_effort": aulc_effort(effort_cum, acc, budget),
        "effort_s_to": {f"{t:.2f}": effort_to_reach(effort_cum, acc, t) for t in spec["targets"]},
        "effort_counts": sum((Effort(r["effort"]) for r in rows), Effort()).as_dict(),
        "final_metrics": rows[-1]["metrics"] if rows else {},
    }


def execute(
    spec: Mapping[str, Any],
    *,
    out: str | os.PathLike,
    group: str = "runs",
    suite: Mapping[str, Any] | None = None,
    on_start: Callable[[dict], None] | None = None,
    on_round: Callable[[dict], None] | None = None,
) -> tuple[dict, Path]:
    """Run a resolved spec and write its record atomically; returns (record, path).

    `suite` ({name, method, setting}) labels a suite's cell in its record; it is not part of the spec.
    """
    spec = dict(spec)
    if not device_available(spec["device"]):
        raise HitlbenchError(
            f"this run needs device {spec['device']!r} but torch sees no CUDA device here; "
            "run it on a machine with a GPU, or ask for device cpu (a different run)"
        )
    rid = run_id(spec)
    path = record_path(out, group, rid)
    check_writable(path.parent)
    env = environment(spec["device"])  # the checkout as the run starts, not as it ends
    dataset, parts = build(spec)
    seeds = _seeds(spec["seed"])
    torch.set_num_threads(spec["threads"])
    started = time.perf_counter()
    split = dataset.build(np.random.default_rng(seeds["split"]))
    n_pool = len(split.pool)
    batch = None if spec["batch_size"] == "all" else spec["batch_size"]
    rounds = None if spec["rounds"] == "all" else spec["rounds"]
    if batch is not None and batch > n_pool:
        raise HitlbenchError(
            f"batch_size {batch} is larger than the pool ({n_pool} items); "
            f"use a batch of at most {n_pool}, 'all', or a larger pool_size"
        )
    n_planned = n_pool if batch is None or rounds is None else min(n_pool, batch * rounds)
    budget = spec["effort_budget_s"] or n_planned * spec["effort"][Action.LABEL_SCRATCH.value]
    task = split.data.task()
    parts.classifier.bind(
        task, device=spec["device"], seed=int(seeds["classifier_init"].generate_state(1)[0])
    )
    parts.detector.bind(
        device=spec["device"], seed=int(seeds["detector_init"].generate_state(1)[0])
    )
    if on_start is not None:
        on_start(
            {
                "run_id": rid,
                "n_pool": n_pool,
                "n_holdout": len(split.holdout),
                "n_planned": n_planned,
            }
        )
    rows = run_loop(
        split,
        parts,
        LoopSettings(batch_size=batch, rounds=rounds, effort_seconds=spec["effort"]),
        LoopRngs(
            sampler=np.random.default_rng(seeds["sampler"]),
            oracle=np.random.default_rng(seeds["oracle"]),
            fit=np.random.default_rng(seeds["fit"]),
        ),
        on_round=on_round,
    )
    record = {
        "schema": SCHEMA,
        "run_id": rid,
        "spec": spec,
        **({"suite": dict(suite)} if suite else {}),
        "components": {
            kind: {
                "name": spec[kind]["name"],
                "origin": REGISTRIES[kind].origin(spec[kind]["name"]),
                "version": REGISTRIES[kind].get(spec[kind]["name"]).version,
            }
            for kind in ("dataset", *COMPONENT_KINDS)
        },
        "env": env,
        "data": {**split.data.provenance, "n_pool": n_pool, "n_holdout": int(len(split.holdout))},
        "rounds": rows,
        "summary": summarize(rows, spec, budget),
        "time_s": {"total": round(time.perf_counter() - started, 3)},
    }
    return record, write_json_atomic(path, record)
