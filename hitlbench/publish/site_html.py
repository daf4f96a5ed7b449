"""HTML pieces of the static site: escaping, the page frame, tables whose headers sort them in
the browser (tablesort; numeric columns by each cell's `data-sort`), markdown, facts and
figures. Every function returns text and touches no file; links are relative to the page."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import markdown as markdown_lib

SCRIPTS = ("tablesort.min.js", "tablesort.number.min.js")  # under assets/, in this order
INIT = 'document.querySelectorAll("table.sortable").forEach(function (t) { new Tablesort(t); });'


def esc(value: Any) -> str:
    """`value` as text that is safe inside HTML elements and quoted attributes."""
    return html.escape(str(value), quote=True)


def link(href: str, text: str) -> str:
    """An anchor; `href` relative to the page (or `#id`), `text` escaped."""
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def page(title: str, body: str, root: str) -> str:
    """A whole page: `body` (HTML) under a bar that links to the index; `root` is the relative
    path from the page to the site's root ("" or "../../"), so the site opens from disk."""
    scripts = "".join(f'<script src="{root}assets/{name}"></script>\n' for name in SCRIPTS)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        f'<link rel="stylesheet" href="{root}assets/site.css">\n'
        "</head>\n<body>\n"
        f'<header class="top">{link(f"{root}index.html", "hitlbench")} · leaderboards and '
        "runs, from the committed records</header>\n"
        f"<main>\n{body}</main>\n{scripts}<script>{INIT}</script>\n</body>\n</html>\n"
    )


def markdown(text: str) -> str:
    """Markdown (GitHub-style tables included) as HTML, tables wrapped to scroll sideways."""
    rendered = markdown_lib.markdown(text, extensions=["tables"], output_format="html")
    return rendered.replace("<table>", '<div class="scroll"><table>').replace(
        "</table>", "</table></div>"
    )


@dataclass(frozen=True)
class Td:
    """A table cell: its content as HTML, and the number a numeric column sorts it by."""

    html: str
    sort: float | None = None


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def value_td(value: Any) -> Td:
    """A plain value as a cell: numbers sort as numbers, None shows as a dash."""
    if value is None:
        return Td("–")
    return Td(esc(value), float(value) if is_number(value) else None)


def _sort_text(value: float) -> str:
    """A number as tablesort's number sort reads it: digits, '-' and '.', never an exponent."""
    return f"{value:.10f}"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Td]],
    *,
    numeric: Iterable[int] = (),
    fixed: Iterable[int] = (),
    row_heads: bool = True,
    sortable: bool = True,
) -> str:
    """A table. Columns in `numeric` sort by number (cells without one sort as 0); rows in
    `fixed` (reference rows) keep their place when sorting; with `row_heads` the first cell of
    each row is its header."""
    numeric, fixed = set(numeric), set(fixed)
    by_number = ' data-sort-method="number"'
    heads = "".join(
        f"<th{by_number if j in numeric else ''}>{esc(h)}</th>" for j, h in enumerate(headers)
    )
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, cell in enumerate(row):
            tag = "th" if row_heads and j == 0 else "td"
            attrs = ' scope="row"' if tag == "th" else ""
            if j in numeric:
                attrs += ' class="num"'
                if cell.sort is not None:
                    attrs += f' data-sort="{_sort_text(cell.sort)}"'
            cells.append(f"<{tag}{attrs}>{cell.html}</{tag}>")
        marks = ' class="reference" data-sort-method="none"' if i in fixed else ""
        body.append(f"<tr{marks}>{''.join(cells)}</tr>")
    kind = ' class="sortable"' if sortable else ""
    return (
        f'<div class="scroll"><table{kind}>\n<thead><tr>{heads}</tr></thead>\n<tbody>\n'
        + "\n".join(body)
        + "\n</tbody>\n</table></div>\n"
    )


def dict_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows of {column: value} as a sortable table: the columns in first-seen order, a column
    numeric when every value in it is a number."""
    headers = list(dict.fromkeys(k for row in rows for k in row))
    numeric = [
        j
        for j, h in enumerate(headers)
        if all(is_number(row[h]) for row in rows if row.get(h) is not None)
    ]
    cells = [[value_td(row.get(h)) for h in headers] for row in rows]
    return table(headers, cells, numeric=numeric, row_heads=False)


def facts(pairs: Iterable[tuple[str, Any]]) -> str:
    """A definition list of (name, value) pairs, values escaped."""
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs)
    return f'<dl class="facts">{items}</dl>\n'


def figure(src: str, caption: str) -> str:
    """An SVG figure (`src` relative to the page) that opens full size when clicked."""
    return (
        f'<figure><a href="{esc(src)}"><img src="{esc(src)}" alt="{esc(caption)}" '
        f'loading="lazy"></a><figcaption>{esc(caption)}</figcaption></figure>\n'
    )
