"""A suite's page of the static site (`<suite>.html`): the leaderboard's tables with each method's
verdicts against the baseline and, where the suite quotes a paper (`leaderboard.quoted`), its
numbers in a column beside ours, sortable; the comparisons, components and notes; the committed
figures below the tables; and each method's runs, linked to their pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..harness.records import row_method, setting_of, setting_text, summary_value
from ..harness.suites import Suite
from .board_model import CELLS_LEGEND, Board, Cell, Section, Table
from .metric_names import metric_name
from .round_figures import slug
from .site_html import Td, esc, figure, link, markdown, page, table, value_td

Record = Mapping[str, Any]
RUN_COLUMNS = ("final_accuracy", "total_corrections", "effort_s_total")


def anchor(method: str) -> str:
    """The id of a method's list of runs on the suite page."""
    return f"runs-{slug(method)}"


def _td(cell: Cell) -> Td:
    text = f"<strong>{esc(cell.text)}</strong>" if cell.best else esc(cell.text)
    if cell.verdict:
        text += f' <span class="verdict {esc(cell.verdict.split()[0])}">{esc(cell.verdict)}</span>'
    return Td(text, cell.value)


def board_table(board_table: Table, runs: Mapping[str, Sequence[Record]]) -> str:
    """A leaderboard table as sortable HTML; a row with runs links to them, reference rows stay
    below the methods."""

    def head(name: str) -> Td:
        method = row_method(name)
        return Td(link(f"#{anchor(method)}", name) if runs.get(method) else esc(name))

    rows = [[head(r.name), *map(_td, r.cells)] for r in board_table.rows]
    fixed = [i for i, r in enumerate(board_table.rows) if r.reference]
    numeric = range(1, len(board_table.headers))
    return table(board_table.headers, rows, numeric=numeric, fixed=fixed)


def _section(board: Board, section: Section) -> str:
    parts = [
        f"<h2>{esc(section.title)}</h2>\n",
        board_table(section.table(board.methods, verdicts=True), section.runs),
    ]
    if section.comparisons:
        comparisons = markdown("\n".join(section.comparisons))
        parts.append(f"<details><summary>Comparisons in full</summary>\n{comparisons}</details>\n")
    return "".join(parts)


def _runs(groups: Mapping[str, Sequence[Record]], pages: Mapping[str, str]) -> str:
    """Per method, its runs: setting, seed, a link to the run's page and three summary values."""
    parts = ["<h2>Runs</h2>\n"]
    headers = ["setting", "seed", "run", *(metric_name(m) for m in RUN_COLUMNS)]
    for method, runs in groups.items():
        ordered = sorted(runs, key=lambda r: (setting_text(setting_of(r)), r["spec"]["seed"]))
        rows = [
            [
                Td(esc(setting_text(setting_of(r)) or "–")),
                value_td(r["spec"]["seed"]),
                Td(link(pages[r["run_id"]], r["run_id"])),
                *(value_td(summary_value(r, m)) for m in RUN_COLUMNS),
            ]
            for r in ordered
        ]
        parts.append(f'<h3 id="{anchor(method)}">{esc(method)} ({len(runs)})</h3>\n')
        parts.append(table(headers, rows, numeric=[1, 3, 4, 5], row_heads=False))
    return "".join(parts)


def suite_page(
    suite: Suite,
    board: Board,
    groups: Mapping[str, Sequence[Record]],
    figures: Sequence[str],
    pages: Mapping[str, str],
) -> str:
    """The page of `suite`: `board` its leaderboard, `groups` its records by method (in row
    order), `figures` the paths of its committed SVGs and `pages` each run id's page, both
    relative to the site's root."""
    intro = (
        f"<h1>{esc(suite.name)}</h1>\n"
        + markdown("\n".join(board.opening))
        + markdown(suite.description)
        + markdown("\n".join(board.provenance))
        + f'<p class="muted">{esc(CELLS_LEGEND)} Verdicts: against {esc(suite.baseline)}, '
        "paired by seed (see the comparisons). Click a header to sort; reference rows stay "
        "below the methods.</p>\n" + markdown("\n".join(board.notices))
    )
    tables = "".join(_section(board, s) for s in board.sections)
    if board.pivot:
        pivot = board_table(board.pivot.table, groups)
        tables += f"<h2>{esc(board.pivot.title)}</h2>\n{pivot}"
        tables += f'<p class="muted">{esc(board.pivot.legend)}</p>\n'
    tables += markdown("\n".join(board.crossings))
    aside = "".join(figure(p, p.rsplit("/", 1)[-1][:-4].replace("_", " ")) for p in figures)
    body = [
        intro,
        f'<div class="board"><div>\n{tables}</div>\n<h2>Figures</h2>\n<aside>\n{aside}</aside></div>\n',
        markdown("\n".join(board.claims + board.margins + board.components + board.failed)),
        f"<h2>Notes</h2>\n{markdown(board.notes)}" if board.notes else "",
        _runs(groups, pages),
    ]
    return page(f"{suite.name} · hitlbench", "".join(body), "")
