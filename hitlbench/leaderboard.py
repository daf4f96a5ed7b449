"""Leaderboards: run records as markdown, mean and 95 % interval over seeds (DESIGN §5).

Everything printed comes from the records, never from the clock or the checkout, and every set
is sorted, so regenerating a leaderboard from the same records gives the same bytes.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from tabulate import tabulate

from .results import canonical_json, write_text_atomic
from .types import HitlbenchError

CEILING = "ceiling"
LABEL_EVERYTHING = "label everything"
DASH = "–"
NOT_RUN = "not run"
DAGGER = " †"
P_THRESHOLD = 0.05
KIND_ORDER = ("dataset", "sampler", "detector", "classifier", "oracle", "feedback")
PLAIN_METHOD_KINDS = ("sampler", "detector", "classifier", "oracle", "feedback")
HIGHER_IS_BETTER = ("accuracy", "f1", "iou", "dice", "auc")
LOWER_IS_BETTER = ("correction", "effort", "zero_map")
# Explanations should avoid the decoy: less Grad-CAM on the spurious region is better.
LOWER_FIRST = ("spurious", "fallback")
INTEGER_LIKE = ("total_corrections", "effort_s_total", "n_labeled", "rounds", "effort_budget_s")
_MISSING = object()


class LeaderboardError(HitlbenchError, ValueError):
    """Records that cannot make a leaderboard: unreadable, or without the baseline."""


class Records(list[dict]):
    """Loaded run records; `failed` maps the file of each failed cell to its error."""

    def __init__(self, records: Iterable[dict] = (), failed: Mapping[str, str] | None = None):
        super().__init__(records)
        self.failed: dict[str, str] = dict(failed or {})


# --- loading ----------------------------------------------------------------------------------


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
    """Run records from files and folders; failed cells (an `error` key) go to `.failed`."""
    if isinstance(paths_or_dirs, str | os.PathLike):
        paths_or_dirs = [paths_or_dirs]
    records, failed = [], {}
    for path in _record_files(paths_or_dirs):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise LeaderboardError(f"cannot read record {path}: {exc}") from exc
        if not isinstance(record, dict) or not ({"error", "summary"} & set(record)):
            raise LeaderboardError(f"{path} is not a run record (no summary and no error)")
        if "error" in record:
            failed[path.name] = _failure(record)
        else:
            records.append(record)
    return Records(records, failed)


# --- what a record is -------------------------------------------------------------------------


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
    """The values of a setting joined by " / ", in key order (e.g. "digits / small_cnn")."""
    return " / ".join(str(setting[k]) for k in sorted(setting))


def _setting_key(record: Mapping[str, Any]) -> str:
    return canonical_json(setting_of(record))


def lookup(tree: Any, dotted: str) -> Any:
    """`tree[a][b]` for "a.b", keys may hold dots ("effort_s_to.0.80"); _MISSING if absent."""
    if not isinstance(tree, Mapping):
        return _MISSING
    if dotted in tree:
        return tree[dotted]
    for i, char in enumerate(dotted):
        if char == "." and dotted[:i] in tree:
            found = lookup(tree[dotted[:i]], dotted[i + 1 :])
            if found is not _MISSING:
                return found
    return _MISSING


def _setting_value(record: Mapping[str, Any], key: str) -> Any:
    """A grid value of the record: from its setting, else from its spec ("classifier.name")."""
    setting = setting_of(record)
    if key in setting:
        return setting[key]
    found = lookup(record["spec"], key)
    return DASH if found is _MISSING else found


# --- statistics -------------------------------------------------------------------------------


def ci_half_width(values: Sequence[float]) -> float:
    """Half-width of the 95 % t-interval of the mean; 0 for fewer than two values."""
    n = len(values)
    if n < 2:
        return 0.0
    return float(stats.t.ppf(0.975, n - 1) * np.std(values, ddof=1) / np.sqrt(n))


@dataclass(frozen=True)
class Stat:
    """A metric over the seeds of one method: `runs` have the key, `reached` have a value."""

    mean: float | None
    half_width: float
    reached: int
    runs: int


def _number(value: Any, metric: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LeaderboardError(f"metric {metric!r} is not a number in the summary: {value!r}")
    return float(value)


def _stat(records: Sequence[Mapping[str, Any]], metric: str) -> Stat:
    present = [lookup(r["summary"], metric) for r in records]
    present = [v for v in present if v is not _MISSING]
    values = [_number(v, metric) for v in present if v is not None]
    mean = float(np.mean(values)) if values else None
    return Stat(mean, ci_half_width(values), len(values), len(present))


def _decimals(metric: str) -> int:
    return (
        0 if metric in INTEGER_LIKE or metric.startswith(("effort_s_to.", "effort_counts.")) else 3
    )


def _direction(metric: str) -> int:
    """+1 when higher is better, -1 when lower is, 0 when neither."""
    if any(word in metric for word in LOWER_FIRST):
        return -1
    if metric == "aulc_effort" or any(word in metric for word in HIGHER_IS_BETTER):
        return 1
    if any(word in metric for word in LOWER_IS_BETTER):
        return -1
    return 0


def _rounded_mean(stat: Stat, metric: str) -> float | None:
    """The mean as printed, so that equal-looking cells tie; None when it cannot be best."""
    if stat.mean is None or stat.reached < stat.runs:
        return None
    return float(f"{stat.mean:.{_decimals(metric)}f}")


def _format(stat: Stat, metric: str) -> str:
    """Mean ± half-width (the mean alone for one seed), then (k/n) if only k of n seeds have it."""
    d = _decimals(metric)
    if stat.mean is None:
        text = DASH
    elif stat.reached == 1:
        text = f"{stat.mean:.{d}f}"
    else:
        text = f"{stat.mean:.{d}f} ± {stat.half_width:.{d}f}"
    if stat.reached < stat.runs:
        text += f" ({stat.reached}/{stat.runs})"
    return text


def _by_seed(records: Sequence[Mapping[str, Any]], metric: str) -> dict[tuple[str, int], float]:
    values = {}
    for r in records:
        value = lookup(r["summary"], metric)
        if value is not _MISSING and value is not None:
            values[(_setting_key(r), r["spec"]["seed"])] = _number(value, metric)
    return values


def _differs(
    base: Sequence[Mapping[str, Any]], other: Sequence[Mapping[str, Any]], metric: str
) -> bool:
    """Paired t-test on per-seed differences, p < 0.05; False with < 2 pairs or constant ones."""
    a, b = _by_seed(base, metric), _by_seed(other, metric)
    seeds = sorted(set(a) & set(b))
    x, y = np.array([b[s] for s in seeds]), np.array([a[s] for s in seeds])
    diff = x - y
    if len(diff) < 2 or np.ptp(diff) <= 1e-12 * max(1.0, float(np.max(np.abs(diff)))):
        return False
    return bool(stats.ttest_rel(x, y).pvalue < P_THRESHOLD)


# --- tables -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a table: a metric over the runs of each method (ceiling included)."""

    header: str
    metric: str
    runs: Mapping[str, Sequence[Mapping[str, Any]]]


@dataclass(frozen=True)
class Quoted:
    """A column of published numbers beside a metric (a paper's table), by method, as given."""

    header: str
    values: Mapping[str, float]

    def cells(self, methods: Sequence[str]) -> list[str]:
        return [format(self.values[m], "g") if m in self.values else DASH for m in methods]


def _quoted_columns(
    quoted: Mapping[str, Any] | None, setting: Mapping[str, Any], metrics: Sequence[str]
) -> dict[str, Quoted]:
    """The published values that apply to `setting`, one column per metric that has any.

    `quoted`: {"source": name, "rows": [{"setting": {...}, "method": m, "values": {metric: v}}]};
    a row applies when its setting is part of the table's setting.
    """
    if not quoted:
        return {}
    try:
        source, rows = str(quoted["source"]), list(quoted["rows"])
        values: dict[str, dict[str, float]] = defaultdict(dict)
        for row in rows:
            if all(setting.get(k) == v for k, v in dict(row.get("setting") or {}).items()):
                for metric, value in dict(row["values"]).items():
                    values[metric][str(row["method"])] = float(value)
    except (KeyError, TypeError, ValueError) as exc:
        raise LeaderboardError(
            "quoted needs 'source' and 'rows' of {setting, method, values: {metric: number}}, "
            f"got {quoted!r}"
        ) from exc
    unknown = sorted(set(values) - set(metrics))
    if unknown:
        raise LeaderboardError(f"quoted values for metrics not in the table: {', '.join(unknown)}")
    return {m: Quoted(f"{m} ({source})", values[m]) for m in metrics if m in values}


def _method_cells(column: Column, methods: Sequence[str], baseline: str) -> list[str]:
    """The column's cells for the methods: bold for the best printed mean, † against baseline."""
    found = {m: _stat(column.runs.get(m, []), column.metric) for m in methods}
    direction = _direction(column.metric)
    means = {m: _rounded_mean(s, column.metric) for m, s in found.items()}
    candidates = [direction * v for v in means.values() if v is not None]
    best = direction * max(candidates) if direction and candidates else None
    cells = []
    for m in methods:
        text = _format(found[m], column.metric)
        if best is not None and means[m] == best:
            text = f"**{text}**"
        if m != baseline and _differs(
            column.runs.get(baseline, []), column.runs.get(m, []), column.metric
        ):
            text += DAGGER
        cells.append(text)
    return cells


def _ceiling_cell(column: Column) -> str:
    runs = column.runs.get(CEILING, [])
    return _format(_stat(runs, column.metric), column.metric) if runs else NOT_RUN


def _label_everything_cell(column: Column) -> str:
    """Every pool image labeled from scratch, no model: its effort, no corrections, the ceiling."""
    runs = [r for group in column.runs.values() for r in group]
    if column.metric == "effort_s_total" and runs:
        seconds = [r["data"]["n_pool"] * r["spec"]["effort"]["label_scratch"] for r in runs]
        return " / ".join(f"{s:.0f}" for s in sorted(set(seconds)))
    if column.metric == "total_corrections":
        return "0"
    if column.metric.startswith("final_") and column.runs.get(CEILING):
        return _ceiling_cell(column)
    return DASH


def _table(
    columns: Sequence[Column | Quoted], methods: Sequence[str], baseline: str, counts: bool
) -> list[str]:
    """Method rows, then the reference rows, as github markdown lines plus the legend."""

    def cells(c: Column | Quoted) -> list[str]:
        if isinstance(c, Quoted):
            return c.cells(methods)
        return _method_cells(c, methods, baseline)

    def reference(c: Column | Quoted, cell: Callable[[Column], str]) -> str:
        return DASH if isinstance(c, Quoted) else cell(c)

    by_column = [cells(c) for c in columns]
    rows = [[m, *(cells[i] for cells in by_column)] for i, m in enumerate(methods)]
    references = [
        [LABEL_EVERYTHING, *(reference(c, _label_everything_cell) for c in columns)],
        [CEILING, *(reference(c, _ceiling_cell) for c in columns)],
    ]
    rows += [row for row in references if set(row[1:]) - {DASH, NOT_RUN}]  # drop empty rows
    headers = ["method", *(c.header for c in columns)]
    if counts:
        runs = next((c.runs for c in columns if isinstance(c, Column)), {})

        def n(name: str) -> str:
            return DASH if name == LABEL_EVERYTHING else str(len(runs.get(name, [])))

        rows = [[row[0], n(row[0]), *row[1:]] for row in rows]
        headers.insert(1, "n")
    return [
        tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True),
        "",
        f"† differs from {baseline} (paired t-test on per-seed differences, p < {P_THRESHOLD})",
    ]


def _by_method(records: Iterable[Mapping[str, Any]]) -> dict[str, list]:
    groups: dict[str, list] = defaultdict(list)
    for r in records:
        groups[method_of(r)].append(r)
    return dict(groups)


def _group(
    records: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], str]
) -> dict[str, dict[str, list]]:
    """Records by `key(record)`, then by method."""
    groups: dict[str, list] = defaultdict(list)
    for r in records:
        groups[key(r)].append(r)
    return {k: _by_method(runs) for k, runs in groups.items()}


def _setting_tables(
    records: Sequence[Mapping[str, Any]],
    methods: Sequence[str],
    baseline: str,
    metrics: Sequence[str],
    quoted: Mapping[str, Any] | None = None,
) -> list[str]:
    lines = []
    for key, runs in sorted(_group(records, _setting_key).items()):
        setting = json.loads(key)
        title = ", ".join(f"{k}={v}" for k, v in sorted(setting.items())) or "all runs"
        published = _quoted_columns(quoted, setting, metrics)
        columns: list[Column | Quoted] = []
        for m in metrics:
            columns.append(Column(m, m, runs))
            if m in published:
                columns.append(published[m])
        lines += [f"## {title}", "", *_table(columns, methods, baseline, counts=True), ""]
    return lines


def _pivot_table(
    records: Sequence[Mapping[str, Any]], methods: Sequence[str], baseline: str, pivot: Mapping
) -> list[str]:
    """Holmes et al. Table 2: methods × combinations of the `by` setting values."""
    try:
        metric, by = pivot["metric"], list(pivot["by"])
    except (KeyError, TypeError) as exc:
        raise LeaderboardError(f"pivot needs 'metric' and 'by', got {pivot!r}") from exc

    def combo(r: Mapping[str, Any]) -> str:
        return json.dumps([_setting_value(r, k) for k in by], sort_keys=True, default=str)

    columns = [
        Column(" / ".join(map(str, json.loads(key))), metric, runs)
        for key, runs in sorted(_group(records, combo).items())
    ]
    title = f"## {metric} by {' / '.join(by)}"
    return [title, "", *_table(columns, methods, baseline, counts=False), ""]


# --- header, components, warnings ---------------------------------------------------------


def _values(records: Iterable[Mapping[str, Any]], block: str, key: str) -> list[str]:
    return sorted({str(r.get(block, {}).get(key) or "unknown") for r in records})


def _header(records: Sequence[Mapping[str, Any]], suite: str) -> list[str]:
    dates = sorted(d for d in (r.get("env", {}).get("date") for r in records) if d)
    date = f"{dates[0]} .. {dates[-1]}" if dates else "unknown"
    env = {
        k: ", ".join(_values(records, "env", k))
        for k in ("hitlbench", "git", "device", "python", "torch")
    }
    data = sorted(
        {
            (str(d.get("source")), str(d.get("sha256")), d.get("package") or "")
            for d in (r.get("data", {}) for r in records)
        }
    )
    lines = [
        f"# {suite}",
        "",
        f"Generated by `hitlbench leaderboard` from the run records ({len(records)}); "
        "do not edit by hand.",
        "",
        f"- hitlbench: {env['hitlbench']}",
        f"- git: {env['git']}",
        f"- dates: {date}",
        f"- device: {env['device']}",
        f"- python: {env['python']}; torch: {env['torch']}",
    ]
    lines += [
        f"- data: {source} (sha256 {sha}{f'; {package}' if package else ''})"
        for source, sha, package in data
    ]
    lines += [
        "",
        "Cells: mean ± half-width of the 95 % t-interval over seeds (n); (k/n): only k seeds reached "
        "it and the mean is over those; bold: the best mean among the methods.",
        "",
    ]
    return lines


def _component_texts(records: Iterable[Mapping[str, Any]], kind: str) -> dict[str, set[str]]:
    """Per component name of `kind`: the distinct "version (origin)" texts in the records."""
    found: dict[str, set[str]] = defaultdict(set)
    for r in records:
        c = r.get("components", {}).get(kind)
        if c:
            found[c["name"]].add(f"{c.get('version')} ({c.get('origin')})")
    return found


def _kinds(records: Iterable[Mapping[str, Any]]) -> list[str]:
    present = {k for r in records for k in r.get("components", {})}
    return [k for k in KIND_ORDER if k in present] + sorted(present - set(KIND_ORDER))


def _components(
    groups: Mapping[str, Sequence[Mapping[str, Any]]], order: Sequence[str]
) -> list[str]:
    kinds = _kinds(r for runs in groups.values() for r in runs)
    rows = []
    for method in order:
        cells = []
        for kind in kinds:
            found = _component_texts(groups[method], kind)
            versions = sorted(f"{name}@{text}" for name, texts in found.items() for text in texts)
            cells.append(", ".join(versions) or DASH)
        rows.append([method, *cells])
    table = tabulate(rows, headers=["method", *kinds], tablefmt="github", disable_numparse=True)
    return ["## Components", "", table, ""]


def _version_warnings(method: str, runs: Sequence[Mapping[str, Any]]) -> list[str]:
    return [
        f"- WARNING: method {method} mixes versions of {kind} {name}: "
        f"{', '.join(sorted(texts))}; its runs come from different code"
        for kind in _kinds(runs)
        for name, texts in sorted(_component_texts(runs, kind).items())
        if len(texts) > 1
    ]


def _refuse_duplicates(groups: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """One record per (method, setting, seed): two would be averaged as if they were two seeds."""
    for method, runs in sorted(groups.items()):
        ids: dict[tuple[str, int], list[str]] = defaultdict(list)
        for r in runs:
            ids[(_setting_key(r), r["spec"]["seed"])].append(str(r.get("run_id")))
        for (key, seed), found in sorted(ids.items()):
            if len(found) > 1:
                raise LeaderboardError(
                    f"method {method} has {len(found)} records for seed {seed} in setting {key} "
                    f"(runs {', '.join(sorted(found))}); keep the one that backs the table and "
                    "delete the others"
                )


def _warnings(records: Sequence[Mapping[str, Any]], groups: Mapping[str, Sequence]) -> list[str]:
    """Loud lines for changed code among the records compared."""
    lines = []
    for method in sorted(groups):
        lines += _version_warnings(method, groups[method])
    for key in ("hitlbench", "git"):
        found = _values(records, "env", key)
        if len(found) > 1:
            lines.append(
                f"- WARNING: the records come from several {key} versions: {', '.join(found)}"
            )
    return [*lines, ""] if lines else []


def _failed(failed: Mapping[str, str]) -> list[str]:
    if not failed:
        return []
    lines = [f"## Failed cells ({len(failed)}, not in the tables)", ""]
    lines += [f"- `{name}`: {error}" for name, error in sorted(failed.items())]
    return [*lines, ""]


# --- public -----------------------------------------------------------------------------------


def render(
    records: Sequence[Mapping[str, Any]],
    *,
    suite: str,
    baseline: str,
    metrics: Sequence[str],
    pivot: Mapping[str, Any] | None = None,
    quoted: Mapping[str, Any] | None = None,
    notes: str | None = None,
    failed: Mapping[str, str] | None = None,
    method_order: Sequence[str] = (),
) -> str:
    """The leaderboard of `records` as GitHub markdown; the same records give the same bytes.

    `quoted` puts a paper's published numbers in a column beside each metric they exist for.
    Rows: the baseline, then the methods in `method_order` (the suite's), then any other, sorted.
    """
    groups = _by_method(records)
    _refuse_duplicates(groups)
    found = sorted(groups)
    if baseline == CEILING:
        raise LeaderboardError("the ceiling is a reference row; name a method as the baseline")
    if baseline not in groups:
        raise LeaderboardError(
            f"baseline {baseline!r} has no records; methods found: {', '.join(found) or 'none'}"
        )
    ordered = dict.fromkeys([baseline, *method_order, *found])
    methods = [m for m in ordered if m in groups and m != CEILING]
    lines = _header(records, suite) + _warnings(records, groups)
    lines += _setting_tables(records, methods, baseline, metrics, quoted)
    if pivot:
        lines += _pivot_table(records, methods, baseline, pivot)
    lines += _components(groups, methods + ([CEILING] if CEILING in groups else []))
    lines += _failed(failed or {})
    if notes:
        lines += [notes.strip(), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def write(
    records_dir: str | os.PathLike, out_path: str | os.PathLike, **render_kwargs: Any
) -> Path:
    """Render the records in `records_dir` and write the markdown atomically to `out_path`."""
    records = load_records(records_dir)
    return write_text_atomic(
        Path(out_path), render(records, failed=records.failed, **render_kwargs)
    )
