"""A leaderboard's markdown blocks: a heading, a GitHub table of cells as printed (tabulate),
and the legend under it."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate


def github_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells as printed (no number parsing), under `headers`."""
    return tabulate(rows, headers=list(headers), tablefmt="github", disable_numparse=True)


def table_block(
    heading: str, headers: Sequence[str], rows: Sequence[Sequence[str]], legend: str | None = None
) -> list[str]:
    """Markdown lines: the heading, the table, the legend, each followed by a blank line."""
    lines = [heading, "", github_table(headers, rows), ""]
    return [*lines, legend, ""] if legend else lines
