"""The static site's front page: every suite, the paper it reproduces or is an analogue of, the
regime it runs in, and a link to its page."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..harness.suites import Suite
from .site_html import Td, esc, link, markdown, page, table

# "Holmes et al. (2023)", "Hagos et al. 2024", "Zhang et al. (2024/2025)"; "the X whitepaper"
CITATION = re.compile(r"\b([A-Z][\w-]+ et al\.)(?:(?:'s)?,? \(?(\d{4}(?:/\d{4})?)\)?)?")
WHITEPAPER = re.compile(r"\bthe ([A-Z][\w ]*? whitepaper)\b")


@dataclass(frozen=True)
class SuiteEntry:
    """A suite as the index lists it; `page` is None when it has no records yet. `kind`: what
    the evidence is (the paper's data, an analogue, ...); `control`: whether its positive
    control was detected; `claims`: each of the paper's claims with its verdict here."""

    name: str
    paper: str
    regime: str
    records: int
    methods: int
    page: str | None
    kind: str = "–"
    control: str = "–"
    claims: tuple[str, ...] = ()


def opening_comment(path: Path) -> str:
    """The suite file's leading `#` comment as one line: what it reproduces, in which regime."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(lines)


def seed_papers(suite: Suite, comment: str) -> str:
    """The works a suite's opening comment and description cite ("Holmes et al. 2023"), else a
    dash."""
    text = f"{comment} {suite.description}"
    years: dict[str, str] = {}  # each work once, with the first year given for it
    for name, year in CITATION.findall(text):
        years[name] = years.get(name) or year
    found = [f"{name} {year}".strip() for name, year in years.items()]
    found += [f"the {name}" for name in WHITEPAPER.findall(text)]
    return "; ".join(found) or "–"


def entry(
    suite: Suite,
    path: Path,
    records: int,
    page_name: str | None,
    found: tuple[str, list[str]] = ("–", []),
) -> SuiteEntry:
    """The index entry of `suite` (file `path`) with `records` run records; `found`, the
    control's outcome and the claims' verdicts (`board_questions.glance`)."""
    comment = opening_comment(path)
    regime = comment or suite.description.split(". ")[0]
    return SuiteEntry(
        name=suite.name,
        paper=seed_papers(suite, comment),
        regime=regime,
        records=records,
        methods=len(suite.methods),
        page=page_name,
        kind=suite.questions.kind or "–",
        control=found[0],
        claims=tuple(found[1]),
    )


def index_page(entries: Sequence[SuiteEntry]) -> str:
    """The front page: a sortable table of the suites."""
    rows = [
        [
            Td(link(e.page, e.name) if e.page else f"{esc(e.name)} (no records)"),
            Td(esc(e.paper)),
            Td(esc(e.kind)),
            Td(markdown(e.regime).removeprefix("<p>").removesuffix("</p>")),
            Td(esc(e.control)),
            Td("<br>".join(esc(c) for c in e.claims) or "–"),
            Td(str(e.records), float(e.records)),
            Td(str(e.methods), float(e.methods)),
        ]
        for e in entries
    ]
    headers = [
        "suite", "seed paper", "data", "what it runs, in which regime", "positive control",
        "the paper's claims here", "records", "methods",
    ]  # fmt: skip
    body = (
        "<h1>hitlbench leaderboards</h1>\n"
        '<p class="lead">Each suite is a grid of methods x settings x seeds; its page has the '
        "leaderboard (mean ± 95 % interval over seeds, verdicts against the baseline), the "
        "suite's notes and figures, and a page per run. Everything here is built by "
        "<code>hitlbench site</code> from the committed run records. Data: the paper's own data, or "
        "an analogue (other data or models in the paper's regime); positive control: whether a "
        "method known to differ was told apart, without which no claim can be called absent; "
        "the paper's claims: the verdict here and in how many settings the suite could have "
        "seen the paper's effect.</p>\n" + table(headers, rows, numeric=[6, 7])
    )
    return page("hitlbench leaderboards", body, "")
