"""Metrics a leaderboard reads from a record's rounds rather than from its summary.

Names (a suite's `leaderboard.metrics`, contrasts and curves take them like summary keys):

- `round.K.M`: holdout metric M after round K (0 = the first model), e.g. `round.1.auc_pr`, or
  the round's own field M where no holdout metric has that name, e.g. `round.0.classes_labeled`.
- `wait_s_total`: seconds the person waited for the machine, measured: each round's selection
  and training (`time_s.select` + `time_s.fit`), summed. Wall-clock, so it varies from machine
  to machine, unlike the deterministic `effort_s_total`.
- `expert_s_total`: `effort_s_total` + `wait_s_total`, the person's whole time.
- `at_expert_s.T.M`: holdout metric M of the last round finished within T seconds of the
  person's time (effort plus measured waits; None when the first round is not); with
  `at_expert_s.T.wait.W.M` each round's wait is W seconds instead of the measured one (e.g.
  Stretcu et al. 2023's Table 1: 58.6 s of selection plus 23.1 s of training over 10M images).
- `presumed_positive_share`: of all presumed negatives trained on (`embedding_mlp`), the share
  that were in fact positives; None where there were none.
- `round_mean.M`: holdout metric M averaged over every round, the area under the learning curve
  divided by its width when each round adds the same number of labels (rectangle rule: the
  first model's point counts as much as the last), e.g. `round_mean.accuracy`; None where a
  round lacks M.
- `oracle_mean.F`: the mean over rounds of the field F an oracle reports per round (its
  `oracle` block), e.g. a crowd's `oracle_mean.error_correlation`; rounds where F is absent or
  None are left out, and the value is None where no round has it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

ROUND = re.compile(r"round\.(\d+)\.(\w+)")
AT_EXPERT = re.compile(r"at_expert_s\.(\d+(?:\.\d+)?)(?:\.wait\.(\d+(?:\.\d+)?))?\.(\w+)")
ORACLE_MEAN = re.compile(r"oracle_mean\.(\w+)")
ROUND_MEAN = re.compile(r"round_mean\.(\w+)")
DERIVED = ("wait_s_total", "expert_s_total", "presumed_positive_share")


def is_derived(metric: str) -> bool:
    """Whether `metric` is one of this module's names rather than a summary key."""
    return metric in DERIVED or any(
        pattern.fullmatch(metric) for pattern in (ROUND, AT_EXPERT, ORACLE_MEAN, ROUND_MEAN)
    )


def round_waits(rounds: list[Mapping[str, Any]]) -> np.ndarray:
    """Seconds waited per round: the measured selection plus training."""
    return np.array([r["time_s"].get("select", 0.0) + r["time_s"].get("fit", 0.0) for r in rounds])


def derived_value(record: Mapping[str, Any], metric: str, missing: Any) -> Any:
    """The value of a derived `metric` (see the module docstring) in `record`; `missing` when
    the record does not have it (fewer rounds, no such holdout metric)."""
    rounds = record["rounds"]
    if found := ROUND.fullmatch(metric):
        k, name = int(found[1]), found[2]
        if k >= len(rounds):
            return missing
        return rounds[k]["metrics"].get(name, rounds[k].get(name, missing))
    if metric == "wait_s_total":
        return round(float(round_waits(rounds).sum()), 4)
    if metric == "expert_s_total":
        return round(record["summary"]["effort_s_total"] + float(round_waits(rounds).sum()), 4)
    if metric == "presumed_positive_share":
        presumed = sum(r.get("presumed_negatives", 0) for r in rounds)
        positive = sum(r.get("presumed_negatives_positive", 0) for r in rounds)
        return round(positive / presumed, 6) if presumed else None
    if found := ORACLE_MEAN.fullmatch(metric):
        return oracle_mean(rounds, found[1])
    if found := ROUND_MEAN.fullmatch(metric):
        return round_mean(rounds, found[1])
    found = AT_EXPERT.fullmatch(metric)
    budget, name = float(found[1]), found[3]
    waits = round_waits(rounds) if found[2] is None else np.full(len(rounds), float(found[2]))
    spent = np.array([r["effort_s_cum"] for r in rounds]) + np.cumsum(waits)
    within = np.flatnonzero(spent <= budget)
    if not len(within):
        return None
    return rounds[int(within[-1])]["metrics"].get(name, missing)


def oracle_mean(rounds: list[Mapping[str, Any]], field: str) -> float | None:
    """The mean of `field` over the rounds' `oracle` blocks that report it; None where none do."""
    values = [r.get("oracle", {}).get(field) for r in rounds]
    values = [v for v in values if v is not None]
    return round(float(np.mean(values)), 6) if values else None


def round_mean(rounds: list[Mapping[str, Any]], name: str) -> float | None:
    """The mean of holdout metric `name` over all rounds; None where any round lacks it."""
    values = [r["metrics"].get(name) for r in rounds]
    if not values or any(v is None for v in values):
        return None
    return round(float(np.mean(values)), 6)
