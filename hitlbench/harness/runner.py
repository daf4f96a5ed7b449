"""Run a resolved spec through the loop once, and write its record."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.explain import CamSpec
from ..core.metrics import aulc_effort, effort_to_reach
from ..core.provenance import behaviour_hash
from ..core.storage import write_json_atomic
from ..data.base import SplitData
from ..data.splits import stratified_take
from ..oracles.base import Oracle
from ..registries import COMPONENT_KINDS, REGISTRIES
from ..simulation.loop import run_loop
from ..simulation.parts import Components, LoopRngs, LoopSettings
from ..types import Action, Effort, Gold, HitlbenchError
from ..zero_shot.base import Labeler
from .results import SCHEMA, environment, record_path
from .spec import SPEC_KINDS, check_annotations, device_available, instantiate, run_id


def component_block(kind: str, name: str) -> dict[str, Any]:
    """What a record says of one component: name, origin, `version` and behaviour hash."""
    cls = REGISTRIES[kind].get(name)
    return {
        "name": name,
        "origin": REGISTRIES[kind].origin(name),
        "version": cls.version,
        "behaviour": behaviour_hash(cls),
    }


def build(spec: Mapping[str, Any]) -> tuple[Any, Components]:
    """Instances of the dataset and the five components, from a resolved spec."""
    parts = Components(**{kind: instantiate(spec, kind) for kind in COMPONENT_KINDS})
    return instantiate(spec, "dataset"), parts


def check_writable(directory: str | os.PathLike) -> None:
    """Fail early, before any work, when results could not be written there; creates nothing
    (the folder is made when the record is written, so a refused run leaves no folder behind)."""
    existing = Path(directory).absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise HitlbenchError(f"cannot write results to {directory}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise HitlbenchError(f"cannot write results to {directory}: {existing} is not writable")


def carve_gold(
    split: SplitData, oracle: Oracle, rng: np.random.Generator
) -> tuple[SplitData, Gold | None]:
    """The pool without the hidden gold items the oracle asks for (a stratified draw from the
    pool, never from the holdout), and those items."""
    n_gold = oracle.gold_size(len(split.pool))
    if not n_gold:
        return split, None
    picked = stratified_take(split.data.labels, split.pool, n_gold, rng)
    pool = np.setdiff1d(split.pool, picked)
    return SplitData(split.data, pool, split.holdout), Gold(picked, split.data.labels[picked])


def _seeds(seed: int) -> dict[str, np.random.SeedSequence]:
    names = (
        "split",
        "sampler",
        "oracle",
        "classifier_init",
        "fit",
        "detector_init",
        "oracle_init",
        "gold",
        "first_batch",
    )  # fmt: skip  (a new stream goes last: spawn keys keep the earlier streams' draws)
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
        "label_errors": rows[-1]["label_errors"] if rows else 0,
        "label_error_rate": rows[-1]["label_error_rate"] if rows else 0.0,
        "missed_corrections": rows[-1]["missed_corrections_cum"] if rows else 0,
        "unsure": rows[-1]["unsure_cum"] if rows else 0,
        **_proposal_summary(rows),
    }


def _proposal_summary(rows: list[dict]) -> dict[str, Any]:
    """The pre-labels over the whole run: their accuracy (None if the model never proposed)
    and how many the model could not answer."""
    proposed = sum(r["proposed"] for r in rows)
    right = sum(round(r["proposal_accuracy"] * r["proposed"]) for r in rows if r["proposed"])
    return {
        "proposal_accuracy": round(right / proposed, 6) if proposed else None,
        "unparseable": rows[-1]["unparseable_cum"] if rows else 0,
    }


def labeler_summary(classifier: Any) -> dict[str, Any]:
    """What a zero-shot classifier's labeler adds to the record's summary
    (`Labeler.record_summary`; the `openai` labeler: its replies counted by kind, and how far a
    run against a live server repeats); nothing for another classifier."""
    labeler = getattr(classifier, "labeler", None)
    return dict(labeler.record_summary()) if isinstance(labeler, Labeler) else {}


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
    check_annotations(  # what the data turned out to hold (a plugin may not declare it)
        spec["dataset"]["name"],
        split.data.offers(),
        detector=parts.detector,
        feedback=parts.feedback,
        oracle=parts.oracle,
    )
    split, gold = carve_gold(split, parts.oracle, np.random.default_rng(seeds["gold"]))
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
    parts.sampler.check_classifier(parts.classifier)  # features, MC dropout: before any work
    cam = CamSpec(**spec["evaluation_cam"])
    parts.classifier.check_cam(cam)  # a layer the network lacks, before any training
    parts.classifier.reveal(split.data.labels)  # read by simulated labelers only
    prepared = [  # classifier first: an embedding pass the sampler needs runs on the run's device
        part.prepare(split.data, progress=on_start is not None)
        for part in (parts.classifier, parts.sampler, parts.oracle)
    ]
    parts.detector.bind(
        device=spec["device"], seed=int(seeds["detector_init"].generate_state(1)[0])
    )
    parts.oracle.bind(task, gold=gold, rng=np.random.default_rng(seeds["oracle_init"]))
    if on_start is not None:
        on_start(
            {
                "run_id": rid,
                "n_pool": n_pool,
                "n_holdout": len(split.holdout),
                "n_planned": n_planned,
                "prepared": "\n".join(line for line in prepared if line) or None,
            }
        )
    rows, errors = run_loop(
        split,
        parts,
        LoopSettings(
            batch_size=batch,
            rounds=rounds,
            effort_seconds=spec["effort"],
            cam=cam,
            first_batch=spec["first_batch"],
        ),
        LoopRngs(
            sampler=np.random.default_rng(seeds["sampler"]),
            oracle=np.random.default_rng(seeds["oracle"]),
            fit=np.random.default_rng(seeds["fit"]),
            first_batch=np.random.default_rng(seeds["first_batch"]),
        ),
        on_round=on_round,
    )
    record = {
        "schema": SCHEMA,
        "run_id": rid,
        "spec": spec,
        **({"suite": dict(suite)} if suite else {}),
        "components": {kind: component_block(kind, spec[kind]["name"]) for kind in SPEC_KINDS},
        "env": env,
        "data": {
            **split.data.provenance,
            "n_pool": n_pool,
            "n_holdout": int(len(split.holdout)),
            "class_names": list(split.data.class_names),
            **({"n_gold": int(len(gold.indices))} if gold is not None else {}),
        },
        "rounds": rows,
        "summary": {
            **summarize(rows, spec, budget),
            **labeler_summary(parts.classifier),
            "error_analysis": errors.as_record(),
        },
        "time_s": {"total": round(time.perf_counter() - started, 3)},
    }
    return record, write_json_atomic(path, record)
