"""Leaderboards: run records as markdown: mean and 95 % interval over seeds, and each method's
paired comparison with the baseline and its verdict (`hitlbench.verdicts`, DESIGN §5).

`build` turns records into a `Board` (tables of `Cell`s, with the comparisons' markdown beside
them) that `Board.markdown()` prints and the static site (`publish.site`) renders as HTML.
Everything printed comes from the records, never from the clock or the checkout, and every set
is sorted, so regenerating a leaderboard from the same records gives the same bytes.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tabulate import tabulate

from ..core.storage import write_text_atomic
from ..harness.records import (
    CEILING,
    CEILING_ROW,
    MISSING,
    REFERENCE_MAP_ROWS,
    LeaderboardError,
    direction,
    is_explanation_metric,
    load_records,
    lookup,
    method_of,
    number,
    row_method,
    row_name,
    setting_key,
    setting_of,
    setting_text,
    summary_value,
)
from ..harness.verdicts import Comparison, ci_half_width
from .comparisons import (
    DASH,
    EFFORT_TOTAL,
    break_even_lines,
    compare_runs,
    comparison_lines,
    contrast_lines,
)
from .metric_names import metric_name

if TYPE_CHECKING:
    from ..harness.suites import Suite

DEFAULT_METRICS = ("total_corrections", "final_accuracy", "effort_s_total", "aulc_effort")
LABEL_EVERYTHING = "label everything"
NOT_RUN = "not run"
KIND_ORDER = ("dataset", "sampler", "detector", "classifier", "oracle", "feedback")
INTEGER_LIKE = (
    "total_corrections", "effort_s_total", "n_labeled", "rounds", "effort_budget_s",
    "label_errors", "missed_corrections", "unsure",
)  # fmt: skip


# --- statistics -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stat:
    """A metric over the seeds of one method: `runs` have the key, `reached` have a value."""

    mean: float | None
    half_width: float
    reached: int
    runs: int


def _stat(records: Sequence[Mapping[str, Any]], metric: str) -> Stat:
    present = [summary_value(r, metric) for r in records]
    present = [v for v in present if v is not MISSING]
    values = [number(v, metric) for v in present if v is not None]
    mean = float(np.mean(values)) if values else None
    return Stat(mean, ci_half_width(values), len(values), len(present))


def _decimals(metric: str) -> int:
    return (
        0 if metric in INTEGER_LIKE or metric.startswith(("effort_s_to.", "effort_counts.")) else 3
    )


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


def _setting_value(record: Mapping[str, Any], key: str) -> Any:
    """A grid value of the record: from its setting, else from its spec ("classifier.name")."""
    setting = setting_of(record)
    if key in setting:
        return setting[key]
    found = lookup(record["spec"], key)
    return DASH if found is MISSING else found


# --- tables -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One table cell: its text as printed, the number it shows (a mean, a count, a published
    value; None for none) to sort by, whether it is its column's best mean, and the verdict
    against the baseline printed beside it."""

    text: str
    value: float | None = None
    best: bool = False
    verdict: str | None = None

    def markdown(self) -> str:
        """`text`, bold when best, then " — verdict"."""
        text = f"**{self.text}**" if self.best else self.text
        return f"{text} — {self.verdict}" if self.verdict else text


@dataclass(frozen=True)
class Row:
    """A table row: the method (or reference row) it is about and its cells, one per header
    after the first; `reference` for the rows that are not methods (label everything, the
    ceiling, the reference maps)."""

    name: str
    cells: list[Cell]
    reference: bool = False


@dataclass(frozen=True)
class Table:
    """A leaderboard table: `headers[0]` heads the row names, the others the cells."""

    headers: list[str]
    rows: list[Row]

    def markdown(self) -> str:
        """The table as GitHub markdown (tabulate, cells as printed)."""
        body = [[row.name, *(c.markdown() for c in row.cells)] for row in self.rows]
        return tabulate(body, headers=self.headers, tablefmt="github", disable_numparse=True)


@dataclass(frozen=True)
class Column:
    """One column of a table: a metric over the runs of each method (ceiling included), and the
    verdicts to print beside the methods' cells, if any."""

    header: str
    metric: str
    runs: Mapping[str, Sequence[Mapping[str, Any]]]
    verdicts: Mapping[str, Comparison] = field(default_factory=dict)


@dataclass(frozen=True)
class Quoted:
    """A column of published numbers beside a metric (a paper's table), by method, as given."""

    header: str
    values: Mapping[str, float]

    def cells(self, methods: Sequence[str]) -> list[Cell]:
        return [
            Cell(format(self.values[m], "g"), self.values[m]) if m in self.values else Cell(DASH)
            for m in methods
        ]


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
    return {m: Quoted(f"{metric_name(m)} ({source})", values[m]) for m in metrics if m in values}


def _stat_cell(stat: Stat, metric: str) -> Cell:
    return Cell(_format(stat, metric), stat.mean)


def _method_cells(column: Column, methods: Sequence[str]) -> list[Cell]:
    """The column's cells for the methods: best for the best printed mean, and the verdict
    against the baseline where the column carries verdicts."""
    found = {m: _stat(column.runs.get(m, []), column.metric) for m in methods}
    sign = direction(column.metric)
    means = {m: _rounded_mean(s, column.metric) for m, s in found.items()}
    candidates = [sign * v for v in means.values() if v is not None]
    best = sign * max(candidates) if sign and candidates else None
    return [
        Cell(
            _format(found[m], column.metric),
            found[m].mean,
            best=best is not None and means[m] == best,
            verdict=column.verdicts[m].verdict if m in column.verdicts else None,
        )
        for m in methods
    ]


def _ceiling_cell(column: Column) -> Cell:
    runs = column.runs.get(CEILING, [])
    return _stat_cell(_stat(runs, column.metric), column.metric) if runs else Cell(NOT_RUN)


def _label_everything_cell(column: Column) -> Cell:
    """Every pool image labeled from scratch, no model: its effort and no corrections; it has no
    runs, so no accuracy (the one fit on every label is the row below it)."""
    runs = [r for group in column.runs.values() for r in group]
    if column.metric == "effort_s_total" and runs:
        seconds = sorted({r["data"]["n_pool"] * r["spec"]["effort"]["label_scratch"] for r in runs})
        value = float(seconds[0]) if len(seconds) == 1 else None
        return Cell(" / ".join(f"{s:.0f}" for s in seconds), value)
    if column.metric == "total_corrections":
        return Cell("0", 0.0)
    return Cell(DASH)


def _reference_map_cell(column: Column, name: str) -> Cell:
    """A fixed map's explanation metrics; its other metrics mean nothing (it answers no item)."""
    runs = column.runs.get(name, [])
    if not runs or not is_explanation_metric(column.metric):
        return Cell(DASH)
    return _stat_cell(_stat(runs, column.metric), column.metric)


def _table(columns: Sequence[Column | Quoted], methods: Sequence[str], counts: bool) -> Table:
    """Method rows, then the reference rows that have any value; with `counts`, the number of
    runs (n) after the row name."""

    def cells(c: Column | Quoted) -> list[Cell]:
        if isinstance(c, Quoted):
            return c.cells(methods)
        return _method_cells(c, methods)

    def reference(c: Column | Quoted, cell: Callable[[Column], Cell]) -> Cell:
        return Cell(DASH) if isinstance(c, Quoted) else cell(c)

    by_column = [cells(c) for c in columns]
    rows = [Row(m, [cells[i] for cells in by_column]) for i, m in enumerate(methods)]
    references = [
        Row(LABEL_EVERYTHING, [reference(c, _label_everything_cell) for c in columns], True),
        Row(CEILING_ROW, [reference(c, _ceiling_cell) for c in columns], True),
    ]
    references += [
        Row(
            name, [reference(c, lambda c, n=name: _reference_map_cell(c, n)) for c in columns], True
        )
        for name in REFERENCE_MAP_ROWS
    ]
    rows += [r for r in references if {c.text for c in r.cells} - {DASH, NOT_RUN}]  # drop empty
    headers = ["method", *(c.header for c in columns)]
    if counts:
        runs = next((c.runs for c in columns if isinstance(c, Column)), {})

        def n(name: str) -> Cell:
            if name == LABEL_EVERYTHING:
                return Cell(DASH)
            count = len(runs.get(row_method(name), []))
            return Cell(str(count), float(count))

        rows = [Row(r.name, [n(r.name), *r.cells], r.reference) for r in rows]
        headers.insert(1, "n")
    return Table(headers, rows)


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


@dataclass(frozen=True)
class Section:
    """One setting of a leaderboard: its title, grid point and runs by method, its columns (a
    metric each, and the published values beside them), the markdown of its comparisons (with
    the baseline, where effort verdicts flip, the suite's contrasts) and the comparisons with
    the baseline by metric and method."""

    title: str
    setting: dict[str, Any]
    runs: Mapping[str, Sequence[Mapping[str, Any]]]  # by method
    columns: list[Column | Quoted]
    comparisons: list[str]
    verdicts: Mapping[str, Mapping[str, Comparison]]

    def table(self, methods: Sequence[str], *, verdicts: bool = False) -> Table:
        """The setting's table; with `verdicts`, each method cell with its verdict against the
        baseline (as the markdown's comparison table gives it)."""
        columns = [
            Column(c.header, c.metric, c.runs, self.verdicts.get(c.metric, {}))
            if verdicts and isinstance(c, Column)
            else c
            for c in self.columns
        ]
        return _table(columns, methods, counts=True)


def _sections(
    records: Sequence[Mapping[str, Any]],
    methods: Sequence[str],
    baseline: str,
    metrics: Sequence[str],
    quoted: Mapping[str, Any] | None = None,
    margins: Mapping[str, Any] | None = None,
    contrasts: Sequence[Sequence[str]] = (),
) -> list[Section]:
    """Per setting, sorted: the means, the comparisons with the baseline, where effort verdicts
    flip, and the suite's own contrasts."""
    sections = []
    for key, runs in sorted(_group(records, setting_key).items()):
        setting = json.loads(key)
        title = ", ".join(
            setting_text({k: v}) if isinstance(v, Mapping) else f"{k}={v}"
            for k, v in sorted(setting.items())
        )  # a mapping value as its leaves: "concept=shirt"
        published = _quoted_columns(quoted, setting, metrics)
        columns: list[Column | Quoted] = []
        for m in metrics:
            columns.append(Column(metric_name(m), m, runs))
            if m in published:
                columns.append(published[m])
        lines: list[str] = []
        found: dict[str, dict[str, Comparison]] = {}
        if baseline in runs:
            compared, found = comparison_lines(runs, methods, baseline, metrics, margins)
            lines += compared
            if EFFORT_TOTAL in found:
                lines += break_even_lines(runs, methods, baseline, found[EFFORT_TOTAL])
        lines += contrast_lines(runs, contrasts, metrics, margins)
        sections.append(Section(title or "all runs", setting, runs, columns, lines, found))
    return sections


@dataclass(frozen=True)
class Pivot:
    """Holmes et al. Table 2's layout: methods x combinations of setting values, each cell with
    its verdict against the baseline of its column."""

    title: str
    table: Table
    legend: str

    def markdown(self) -> list[str]:
        return [self.title, "", self.table.markdown(), "", self.legend, ""]


def _pivot(
    records: Sequence[Mapping[str, Any]],
    methods: Sequence[str],
    baseline: str,
    pivot: Mapping,
    margins: Mapping[str, Any] | None = None,
) -> Pivot:
    """The suite's `pivot` {metric, by}: a column per combination of the `by` setting values
    (Holm over the whole table)."""
    try:
        metric, by = pivot["metric"], list(pivot["by"])
    except (KeyError, TypeError) as exc:
        raise LeaderboardError(f"pivot needs 'metric' and 'by', got {pivot!r}") from exc

    def combo(r: Mapping[str, Any]) -> str:
        return json.dumps([_setting_value(r, k) for k in by], sort_keys=True, default=str)

    groups = sorted(_group(records, combo).items())
    pairs = {
        (key, m): (runs[baseline], runs[m])
        for key, runs in groups
        if baseline in runs
        for m in methods
        if m != baseline and m in runs
    }
    found = compare_runs(pairs, metric, margins)
    columns = [
        Column(
            " / ".join(map(str, json.loads(key))),
            metric,
            runs,
            {m: c for (k, m), c in found.items() if k == key},
        )
        for key, runs in groups
    ]
    title = f"## {metric_name(metric)} by {' / '.join(by)}"
    legend = (
        f"Verdict against {baseline} in the same column (as in the comparison tables; Holm over "
        f"this table's {len(found)} comparison{'' if len(found) == 1 else 's'})."
    )
    return Pivot(title, _table(columns, methods, counts=False), legend)


# --- header, components, warnings ---------------------------------------------------------


def _column_names(metrics: Sequence[str]) -> list[str]:
    """Which record field each readable column name stands for."""
    named = [f"{metric_name(m)}: `{m}`" for m in metrics if metric_name(m) != m]
    return [f"Columns (record fields): {'; '.join(named)}.", ""] if named else []


def _values(records: Iterable[Mapping[str, Any]], block: str, key: str) -> list[str]:
    return sorted({str(r.get(block, {}).get(key) or "unknown") for r in records})


CELLS_LEGEND = (
    "Cells: mean ± half-width of the 95 % t-interval over seeds (n); (k/n): only k seeds reached "
    "it and the mean is over those; bold: the best mean among the methods."
)


def _provenance(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Markdown bullets: the versions, commits, dates, machines and data the records ran with."""
    dates = sorted(d for d in (r.get("env", {}).get("date") for r in records) if d)
    date = f"{dates[0]} .. {dates[-1]}" if dates else "unknown"
    env = {
        k: ", ".join(_values(records, "env", k))
        for k in ("hitlbench", "git", "device", "cpu", "python", "torch")
    }
    data = sorted(
        {
            (str(d.get("source")), str(d.get("sha256")), d.get("package") or "")
            for d in (r.get("data", {}) for r in records)
        }
    )
    lines = [
        f"- hitlbench: {env['hitlbench']}",
        f"- git: {env['git']}",
        f"- dates: {date}",
        f"- device: {env['device']}; cpu: {env['cpu']}",
        f"- python: {env['python']}; torch: {env['torch']}",
    ]
    return lines + [
        f"- data: {source} (sha256 {sha}{f'; {package}' if package else ''})"
        for source, sha, package in data
    ]


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
        rows.append([row_name(method), *cells])
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


def _behaviour_warnings(method: str, runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """A component of one name and version whose records carry different behaviour hashes: its
    code changed without a new version (records without a hash are not compared)."""
    hashes: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for r in runs:
        for kind, c in r.get("components", {}).items():
            if c.get("behaviour"):
                hashes[(kind, c["name"], str(c.get("version")))].add(c["behaviour"])
    return [
        f"- WARNING: method {method} mixes code of {kind} {name} version {version}: behaviour "
        f"hashes {', '.join(sorted(found))}; its module changed without a new version"
        for (kind, name, version), found in sorted(hashes.items())
        if len(found) > 1
    ]


def _dirty_warning(groups: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[str]:
    """Records that ran from a checkout with uncommitted changes (`bench --allow-dirty`)."""
    dirty = {
        m: sum(str(r.get("env", {}).get("git") or "").endswith("-dirty") for r in runs)
        for m, runs in groups.items()
    }
    dirty = {m: n for m, n in sorted(dirty.items()) if n}
    if not dirty:
        return []
    return [
        f"- WARNING: {sum(dirty.values())} record(s) ran from a checkout with uncommitted changes "
        f"(git ...-dirty), so no commit holds the code they ran: "
        + ", ".join(f"{m} ({n})" for m, n in dirty.items())
    ]


def _refuse_duplicates(groups: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """One record per (method, setting, seed): two would be averaged as if they were two seeds."""
    for method, runs in sorted(groups.items()):
        ids: dict[tuple[str, int], list[str]] = defaultdict(list)
        for r in runs:
            ids[(setting_key(r), r["spec"]["seed"])].append(str(r.get("run_id")))
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
        lines += _version_warnings(method, groups[method]) + _behaviour_warnings(
            method, groups[method]
        )
    lines += _dirty_warning(groups)
    for key in ("hitlbench", "git"):
        found = _values(records, "env", key)
        if len(found) > 1:
            lines.append(
                f"- WARNING: the records come from several {key} versions: {', '.join(found)}"
            )
    return [*lines, ""] if lines else []


def _unrun(
    method_order: Sequence[str], groups: Mapping[str, Sequence], contrasts: Sequence[Sequence[str]]
) -> list[str]:
    """A line naming the suite's methods that have no records, and the contrasts they leave
    without a comparison: a reader sees n = 0 rather than a method that silently is not there."""
    missing = [m for m in method_order if m not in groups]
    if not missing:
        return []
    open_pairs = [f"{m} − {ref}" for m, ref in contrasts if m in missing or ref in missing]
    line = f"Methods with no records (n = 0), in no table: {', '.join(missing)}."
    if open_pairs:
        line += f" Contrasts left `inconclusive (n = 0)`: {', '.join(open_pairs)}."
    return [line, ""]


def _failed(failed: Mapping[str, str]) -> list[str]:
    if not failed:
        return []
    lines = [f"## Failed cells ({len(failed)}, not in the tables)", ""]
    lines += [f"- `{name}`: {error}" for name, error in sorted(failed.items())]
    return [*lines, ""]


# --- public -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Board:
    """A leaderboard before it is printed: the tables as `Table`s, the rest as markdown lines."""

    suite: str
    n_records: int
    methods: list[str]  # the method rows, in order: the baseline, the suite's, any other
    provenance: list[str]  # `_provenance`
    notices: list[str]  # which record field each column is, and warnings about changed code
    sections: list[Section]
    pivot: Pivot | None
    components: list[str]
    failed: list[str]
    notes: str | None

    def markdown(self) -> str:
        """The leaderboard as GitHub markdown; the same board gives the same bytes."""
        lines = [
            f"# {self.suite}",
            "",
            f"Generated by `hitlbench leaderboard` from the run records ({self.n_records}); "
            "do not edit by hand.",
            "",
            *self.provenance,
            "",
            CELLS_LEGEND,
            "",
            *self.notices,
        ]
        for section in self.sections:
            table = section.table(self.methods).markdown()
            lines += [f"## {section.title}", "", table, "", *section.comparisons]
        if self.pivot:
            lines += self.pivot.markdown()
        lines += self.components + self.failed
        if self.notes:
            lines += [self.notes.strip(), ""]
        return "\n".join(lines).rstrip("\n") + "\n"


def build(
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
    margins: Mapping[str, Any] | None = None,
    contrasts: Sequence[Sequence[str]] = (),
) -> Board:
    """The leaderboard of `records`; raises `LeaderboardError` when the baseline has no records,
    names a reference row, or a method has two records of one seed in one setting.

    `quoted` puts a paper's published numbers in a column beside each metric they exist for.
    `margins` gives the TOST equivalence margin per metric (a number, or "N%" of the baseline's
    mean; key `default` for the others; 3 % when absent); `contrasts` lists [method, reference]
    pairs compared like a method with the baseline. Rows: the baseline, then the methods in
    `method_order` (the suite's), then any other, sorted.
    """
    groups = _by_method(records)
    _refuse_duplicates(groups)
    found = sorted(groups)
    if baseline in (CEILING, *REFERENCE_MAP_ROWS):
        raise LeaderboardError(f"{baseline!r} is a reference row; name a method as the baseline")
    if baseline not in groups:
        raise LeaderboardError(
            f"baseline {baseline!r} has no records; methods found: {', '.join(found) or 'none'}"
        )
    ordered = dict.fromkeys([baseline, *method_order, *found])
    references = (CEILING, *REFERENCE_MAP_ROWS)
    methods = [m for m in ordered if m in groups and m not in references]
    sections = _sections(records, methods, baseline, metrics, quoted, margins, contrasts)
    return Board(
        suite=suite,
        n_records=len(records),
        methods=methods,
        provenance=_provenance(records),
        notices=_column_names(metrics)
        + _unrun(method_order, groups, contrasts)
        + _warnings(records, groups),
        sections=sections,  # first: it checks the contrasts' form
        pivot=_pivot(records, methods, baseline, pivot, margins) if pivot else None,
        components=_components(groups, methods + [r for r in references if r in groups]),
        failed=_failed(failed or {}),
        notes=notes,
    )


def render(records: Sequence[Mapping[str, Any]], **build_kwargs: Any) -> str:
    """The leaderboard of `records` as GitHub markdown (`build`'s arguments); the same records
    give the same bytes."""
    return build(records, **build_kwargs).markdown()


def suite_options(suite: Suite) -> dict[str, Any]:
    """`build`'s arguments from a suite file's `leaderboard` block, baseline and method order
    (`DEFAULT_METRICS` where it names none)."""
    options = suite.leaderboard
    return {
        "suite": suite.name,
        "baseline": suite.baseline,
        "metrics": list(options.get("metrics", DEFAULT_METRICS)),
        "pivot": options.get("pivot"),
        "quoted": options.get("quoted"),
        "notes": options.get("notes"),
        "method_order": list(suite.methods),
        "margins": options.get("margins"),
        "contrasts": options.get("contrasts") or (),
    }


def write(
    records_dir: str | os.PathLike, out_path: str | os.PathLike, **render_kwargs: Any
) -> Path:
    """Render the records in `records_dir` and write the markdown atomically to `out_path`."""
    records = load_records(records_dir)
    return write_text_atomic(
        Path(out_path), render(records, failed=records.failed, **render_kwargs)
    )
