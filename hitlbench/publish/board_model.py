"""A leaderboard before it is printed: tables of cells, the settings' sections, the pivot and
the board, as data that `board_markdown` prints as markdown and `site_suite` as HTML."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..harness.records import (
    BEST_PRIOR_ROW,
    CEILING,
    CEILING_ROW,
    REFERENCE_MAP_ROWS,
    direction,
    is_explanation_metric,
    label_cost,
    row_method,
)
from ..harness.verdicts import Comparison
from .comparisons import DASH, best_prior
from .table_stats import rounded_mean, stat, stat_text

LABEL_EVERYTHING = "label everything"
NOT_RUN = "not run"
CELLS_LEGEND = (
    "Cells: mean ± half-width of the 95 % t-interval over seeds (n); (k/n): only k seeds reached "
    "it and the mean is over those; bold: the best mean among the methods."
)


@dataclass(frozen=True)
class Cell:
    """One table cell: its text as printed, the number it shows (a mean, a count, a published
    value; None for none) to sort by, whether it is its column's best mean, and the verdict
    against the baseline printed beside it."""

    text: str
    value: float | None = None
    best: bool = False
    verdict: str | None = None


@dataclass(frozen=True)
class Row:
    """A table row: the method (or reference row) it is about and its cells, one per header
    after the first; `reference` for the rows that are not methods (label everything, the
    ceiling, the reference maps, the best prior)."""

    name: str
    cells: list[Cell]
    reference: bool = False


@dataclass(frozen=True)
class Table:
    """A leaderboard table: `headers[0]` heads the row names, the others the cells."""

    headers: list[str]
    rows: list[Row]


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


def _stat_cell(runs: Sequence[Mapping[str, Any]], metric: str) -> Cell:
    found = stat(runs, metric)
    return Cell(stat_text(found, metric), found.mean)


def _method_cells(column: Column, methods: Sequence[str]) -> list[Cell]:
    """The column's cells for the methods: best for the best printed mean, and the verdict
    against the baseline where the column carries verdicts."""
    found = {m: stat(column.runs.get(m, []), column.metric) for m in methods}
    sign = direction(column.metric)
    means = {m: rounded_mean(s, column.metric) for m, s in found.items()}
    candidates = [sign * v for v in means.values() if v is not None]
    best = sign * max(candidates) if sign and candidates else None
    return [
        Cell(
            stat_text(found[m], column.metric),
            found[m].mean,
            best=best is not None and means[m] == best,
            verdict=column.verdicts[m].label if m in column.verdicts else None,
        )
        for m in methods
    ]


def _ceiling_cell(column: Column) -> Cell:
    runs = column.runs.get(CEILING, [])
    return _stat_cell(runs, column.metric) if runs else Cell(NOT_RUN)


def _label_everything_cell(column: Column) -> Cell:
    """Every pool image labeled from scratch, no model, at the suite's own unit cost (a rating
    on a concept task): its effort and no corrections; it has no runs, so no accuracy (the one
    fit on every label is the row below it)."""
    runs = [r for group in column.runs.values() for r in group]
    if column.metric == "effort_s_total" and runs:
        seconds = sorted({r["data"]["n_pool"] * label_cost(r) for r in runs})
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
    return _stat_cell(runs, column.metric)


def _best_prior_cell(column: Column) -> Cell:
    """The best prior's mean and interval on an explanation metric (`comparisons.best_prior`:
    the image-ignoring reference map with the best mean), and which map it is."""
    prior = best_prior(column.runs, column.metric)
    if prior is None:
        return Cell(DASH)
    found = stat(column.runs[prior], column.metric)
    return Cell(f"{stat_text(found, column.metric)} ({prior})", found.mean)


def _reference_rows(columns: Sequence[Column | Quoted]) -> list[Row]:
    """Label everything, the ceiling, the reference maps and the best prior among them, where
    any of their cells has a value."""

    def cells(cell: Callable[[Column], Cell]) -> list[Cell]:
        return [Cell(DASH) if isinstance(c, Quoted) else cell(c) for c in columns]

    rows = [
        Row(LABEL_EVERYTHING, cells(_label_everything_cell), True),
        Row(CEILING_ROW, cells(_ceiling_cell), True),
    ]
    rows += [
        Row(name, cells(lambda c, n=name: _reference_map_cell(c, n)), True)
        for name in REFERENCE_MAP_ROWS
    ]
    rows.append(Row(BEST_PRIOR_ROW, cells(_best_prior_cell), True))
    return [r for r in rows if {c.text for c in r.cells} - {DASH, NOT_RUN}]  # drop empty


def _with_counts(table: Table, runs: Mapping[str, Sequence[Mapping[str, Any]]]) -> Table:
    """`table` with the number of runs (n) after each row name."""

    def n(name: str) -> Cell:
        if name in (LABEL_EVERYTHING, BEST_PRIOR_ROW):  # no runs of its own
            return Cell(DASH)
        count = len(runs.get(row_method(name), []))
        return Cell(str(count), float(count))

    rows = [Row(r.name, [n(r.name), *r.cells], r.reference) for r in table.rows]
    return Table([table.headers[0], "n", *table.headers[1:]], rows)


def make_table(columns: Sequence[Column | Quoted], methods: Sequence[str], counts: bool) -> Table:
    """Method rows, then the reference rows that have any value; with `counts`, the number of
    runs (n) after the row name."""
    by_column = [
        c.cells(methods) if isinstance(c, Quoted) else _method_cells(c, methods) for c in columns
    ]
    rows = [Row(m, [cells[i] for cells in by_column]) for i, m in enumerate(methods)]
    table = Table(["method", *(c.header for c in columns)], rows + _reference_rows(columns))
    if not counts:
        return table
    runs = next((c.runs for c in columns if isinstance(c, Column)), {})
    return _with_counts(table, runs)


@dataclass(frozen=True)
class Section:
    """One setting of a leaderboard: its title, grid point and runs by method, its columns (a
    metric each, and the published values beside them), the markdown of its comparisons (with
    the baseline, where effort verdicts flip, with the best prior, the suite's contrasts), the
    comparisons with the baseline by metric and method, the contrasts' by metric and (method,
    reference), and those with the best prior by metric and (method, prior)."""

    title: str
    setting: dict[str, Any]
    runs: Mapping[str, Sequence[Mapping[str, Any]]]  # by method
    columns: list[Column | Quoted]
    comparisons: list[str]
    verdicts: Mapping[str, Mapping[str, Comparison]]
    contrasts: Mapping[str, Mapping[tuple[str, str], Comparison]] = field(default_factory=dict)
    priors: Mapping[str, Mapping[tuple[str, str], Comparison]] = field(default_factory=dict)

    def comparison(
        self, method: str, reference: str, metric: str, baseline: str
    ) -> Comparison | None:
        """`method` against `reference` on `metric`, from the baseline's table or the
        contrasts'; None where this setting has no such comparison."""
        if reference == baseline and method in self.verdicts.get(metric, {}):
            return self.verdicts[metric][method]
        return self.contrasts.get(metric, {}).get((method, reference))

    def table(self, methods: Sequence[str], *, verdicts: bool = False) -> Table:
        """The setting's table; with `verdicts`, each method cell with its verdict against the
        baseline (as the markdown's comparison table gives it)."""
        columns = [
            Column(c.header, c.metric, c.runs, self.verdicts.get(c.metric, {}))
            if verdicts and isinstance(c, Column)
            else c
            for c in self.columns
        ]
        return make_table(columns, methods, counts=True)


@dataclass(frozen=True)
class Pivot:
    """Holmes et al. Table 2's layout: methods x combinations of setting values, each cell with
    its verdict against the baseline of its column."""

    title: str
    table: Table
    legend: str


@dataclass(frozen=True)
class Board:
    """A leaderboard before it is printed: the tables as `Table`s, the rest as markdown lines."""

    suite: str
    n_records: int
    methods: list[str]  # the method rows, in order: the baseline, the suite's, any other
    opening: list[str]  # the positive control and the sensitivity to the paper's effect
    provenance: list[str]  # `board_provenance.provenance`
    notices: list[str]  # which record field each column is, and warnings about changed code
    margins: list[str]  # each metric's equivalence margin and its reason
    claims: list[str]  # the paper's claims, each with its verdict here
    sections: list[Section]
    pivot: Pivot | None
    crossings: list[str]  # break-even points along the suite's curves (`crossings`)
    components: list[str]
    failed: list[str]
    notes: str | None
