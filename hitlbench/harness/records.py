"""Run records as the leaderboards and plots read them: loading, what a record is, its values.

A record's method is its suite cell's method label (else its component names joined), its
setting the suite's grid point; per-seed values are keyed by (setting, seed), since a seed fixes
the split, the pool and the initial weights for every method of a setting.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..core.storage import canonical_json, loads_finite
from ..types import HitlbenchError
from .record_metrics import derived_value, is_derived

CEILING = "ceiling"  # the method name of the reference cells that fit once on every pool label
CEILING_ROW = "all labels, one fit"  # how tables and figures name those cells
# Reference rows whose "explainer" is a fixed map (`classifiers.reference_map`): they show the
# explanation metrics only, are compared with nothing and are not drawn.
REFERENCE_MAP_ROWS = ("whole-image map", "central square", "mean object mask", "object mask")
# The reference maps that ignore the image they explain (the object mask reads the truth), and
# the row that shows, per explanation metric, the one of them with the best mean.
PRIOR_ROWS = ("whole-image map", "central square", "mean object mask")
BEST_PRIOR_ROW = "best prior"
EXPLANATION_METRICS = ("dice", "cam_share", "mask_share", "zero_map_rate")
MAP_SCORES = ("dice", "cam_share")
PLAIN_METHOD_KINDS = ("sampler", "detector", "classifier", "oracle", "feedback")
HIGHER_IS_BETTER = ("accuracy", "f1", "iou", "dice", "auc", "auroc")
LOWER_IS_BETTER = (
    "correction", "effort", "zero_map", "error", "wait_s", "expert_s_total", "tv_distance"
)  # fmt: skip
# Explanations should avoid the decoy: less Grad-CAM on the spurious region is better.
LOWER_FIRST = ("spurious", "fallback")
MISSING = object()


def is_explanation_metric(metric: str) -> bool:
    """Whether a (dotted) metric comes from `explanation_metrics` (a map's score against a
    mask, a mask's share of the image, or the share of empty maps)."""
    return any(word in metric for word in EXPLANATION_METRICS)


def scores_a_map(metric: str) -> bool:
    """Whether a (dotted) metric scores a saliency map against a mask (dice, soft dice, the
    map's share on a mask): the metrics a map that ignores the image can be compared on."""
    return any(word in metric for word in MAP_SCORES)


def row_name(method: str) -> str:
    """How tables and figures name a method's row: the one-fit cells as `CEILING_ROW`."""
    return CEILING_ROW if method == CEILING else method


def row_method(name: str) -> str:
    """The method whose records a table row shows (`row_name`'s inverse)."""
    return CEILING if name == CEILING_ROW else name


class LeaderboardError(HitlbenchError, ValueError):
    """Records that cannot make a leaderboard: unreadable, or without the baseline."""


class Records(list[dict]):
    """Loaded run records; `failed` maps the file of each failed cell to its error."""

    def __init__(self, records: Iterable[dict] = (), failed: Mapping[str, str] | None = None):
        super().__init__(records)
        self.failed: dict[str, str] = dict(failed or {})


def _record_files(paths_or_dirs: Iterable[str | os.PathLike]) -> list[Path]:
    """The *.json files named or inside the folders named (sorted by name), without dot-files."""
    files: list[Path] = []
    for item in map(Path, paths_or_dirs):
        if item.is_dir():
            files.extend(sorted(item.glob("*.json"), key=lambda p: p.name))
        elif item.is_file():
            files.append(item)
        else:
            raise LeaderboardError(f"no such record file or folder: {item}")
    return [f for f in files if not f.name.startswith(".")]


def _failure(record: Mapping[str, Any]) -> str:
    """What failed where: method, setting, seed and the first line of the error."""
    suite = record.get("suite") or {}
    where = [str(suite.get("method", "?")), setting_text(suite.get("setting") or {})]
    where.append(f"seed {record.get('spec', {}).get('seed', '?')}")
    lines = str(record["error"]).strip().splitlines()
    return f"{', '.join(w for w in where if w)}: {lines[0] if lines else '(no message)'}"


def load_records(paths_or_dirs: str | os.PathLike | Iterable[str | os.PathLike]) -> Records:
    """Run records from files and folders; failed cells (an `error` key) go to `.failed`.

    Raises `LeaderboardError` naming the file for a record that cannot be read, is not JSON,
    holds NaN or an infinity (naming the field too: hitlbench writes neither, so such a
    record was made or edited elsewhere) or is not a run record."""
    if isinstance(paths_or_dirs, str | os.PathLike):
        paths_or_dirs = [paths_or_dirs]
    records, failed = [], {}
    for path in _record_files(paths_or_dirs):
        try:
            record = loads_finite(path.read_text())
        except (OSError, ValueError) as exc:
            raise LeaderboardError(f"cannot read record {path}: {exc}") from exc
        if not isinstance(record, dict) or not ({"error", "summary"} & set(record)):
            raise LeaderboardError(f"{path} is not a run record (no summary and no error)")
        if "error" in record:
            failed[path.name] = _failure(record)
        else:
            records.append(record)
    return Records(records, failed)


def class_name(record: Mapping[str, Any], index: int) -> str:
    """The name of class `index` in the record's dataset (`data.class_names`); the index as text
    where the record has no names for it."""
    names = record.get("data", {}).get("class_names") or ()
    return str(names[index]) if 0 <= index < len(names) else str(index)


def label_cost(record: Mapping[str, Any]) -> float:
    """Seconds one label from scratch costs in the record's run: a rating on a concept task
    (every answer there is a yes/no rating), else `label_scratch`."""
    effort = record["spec"]["effort"]
    concept = (record["spec"]["dataset"].get("params") or {}).get("concept")
    return float(effort["rating"] if concept is not None else effort["label_scratch"])


def method_of(record: Mapping[str, Any]) -> str:
    """The suite's method label, else the component names joined, e.g. random/none/small_cnn/…."""
    suite = record.get("suite")
    if suite and "method" in suite:
        return str(suite["method"])
    return "/".join(record["spec"][kind]["name"] for kind in PLAIN_METHOD_KINDS)


def setting_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The suite's grid point, else {"dataset.name": the spec's dataset}."""
    suite = record.get("suite")
    if suite and "setting" in suite:
        return dict(suite["setting"])
    return {"dataset.name": record["spec"]["dataset"]["name"]}


def setting_text(setting: Mapping[str, Any]) -> str:
    """The values of a setting joined by " / ", in key order (e.g. "digits / small_cnn"); a
    mapping value as its leaves' `key=value`, e.g. {params: {concept: shirt}} as "concept=shirt"."""
    return " / ".join(_value_text(setting[k]) for k in sorted(setting))


def _value_text(value: Any) -> str:
    if not isinstance(value, Mapping):
        return str(value)
    return ", ".join(
        _value_text(v) if isinstance(v, Mapping) else f"{k}={v}" for k, v in value.items()
    )


def by_setting_and_method(
    records: Iterable[Mapping[str, Any]],
) -> dict[str, dict[str, list[Mapping[str, Any]]]]:
    """{setting text (`setting_text`): {method: its records}}, settings in sorted order, for
    figures drawn one per setting."""
    grouped: dict[str, dict[str, list]] = {}
    for r in records:
        grouped.setdefault(setting_text(setting_of(r)), {}).setdefault(method_of(r), []).append(r)
    return dict(sorted(grouped.items()))


def setting_key(record: Mapping[str, Any]) -> str:
    return canonical_json(setting_of(record))


def lookup(tree: Any, dotted: str) -> Any:
    """`tree[a][b]` for "a.b", keys may hold dots ("effort_s_to.0.80"); MISSING if absent."""
    if not isinstance(tree, Mapping):
        return MISSING
    if dotted in tree:
        return tree[dotted]
    for i, char in enumerate(dotted):
        if char == "." and dotted[:i] in tree:
            found = lookup(tree[dotted[:i]], dotted[i + 1 :])
            if found is not MISSING:
                return found
    return MISSING


def summary_value(record: Mapping[str, Any], metric: str) -> Any:
    """`metric` of a record: a summary key (dotted paths allowed) or one computed from its
    rounds (`hitlbench.harness.record_metrics`); MISSING if absent."""
    if is_derived(metric):
        return derived_value(record, metric, MISSING)
    return lookup(record["summary"], metric)


def number(value: Any, metric: str) -> float:
    """A summary value as a float; `LeaderboardError` when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LeaderboardError(f"metric {metric!r} is not a number in the summary: {value!r}")
    return float(value)


def direction(metric: str) -> int:
    """+1 when higher is better, -1 when lower is, 0 when neither."""
    if any(word in metric for word in LOWER_FIRST):
        return -1
    if metric == "aulc_effort" or any(word in metric for word in HIGHER_IS_BETTER):
        return 1
    if any(word in metric for word in LOWER_IS_BETTER):
        return -1
    return 0


def by_seed(records: Sequence[Mapping[str, Any]], metric: str) -> dict[tuple[str, int], float]:
    """{(setting key, seed): value} of `metric` in the records' summaries (absent and null left out)."""
    values = {}
    for r in records:
        value = summary_value(r, metric)
        if value is not MISSING and value is not None:
            values[(setting_key(r), r["spec"]["seed"])] = number(value, metric)
    return values
