"""Leaderboards: run records as tables of mean and 95 % interval over seeds, with each method's
paired comparison with the baseline and its verdict (`harness.verdicts`, DESIGN §5).

`build` groups the records by setting and method into a `board_model.Board`: the tables
(`board_model`, their cells' statistics in `table_stats`), the comparisons (`comparisons`), and
the provenance, components and warnings around them (`board_provenance`); `board_markdown`
prints it and the static site (`site_suite`) renders it as HTML. Everything printed comes from
the records, never from the clock or the checkout, and every set is sorted, so regenerating a
leaderboard from the same records gives the same bytes.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.storage import cannot_write, write_text_atomic
from ..harness.questions import Margin, Questions
from ..harness.records import (
    BEST_PRIOR_ROW,
    CEILING,
    MISSING,
    REFERENCE_MAP_ROWS,
    LeaderboardError,
    load_records,
    lookup,
    method_of,
    setting_key,
    setting_of,
    setting_text,
)
from ..harness.verdicts import Comparison
from .board_markdown import board_markdown
from .board_model import Board, Column, Pivot, Quoted, Section, make_table
from .board_provenance import (
    code_warnings,
    column_names,
    components,
    explanation_maps,
    failed_cells,
    judged_metrics,
    provenance,
    replicated,
    unrun,
)
from .board_questions import (
    claim_lines,
    claimed_effects,
    margin_lines,
    margin_warnings,
    opening_lines,
    with_question_pairs,
)
from .comparisons import (
    DASH,
    EFFORT_TOTAL,
    Pair,
    break_even_lines,
    compare_runs,
    comparison_lines,
    contrast_lines,
    prior_lines,
)
from .crossings import crossing_lines
from .metric_names import metric_name

if TYPE_CHECKING:
    from ..harness.suites import Suite

Runs = Mapping[str, Sequence[Mapping[str, Any]]]  # by method
Quotes = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None  # `_quoted_columns`


def _setting_value(record: Mapping[str, Any], key: str) -> Any:
    """A grid value of the record: from its setting, else from its spec ("classifier.name")."""
    setting = setting_of(record)
    if key in setting:
        return setting[key]
    found = lookup(record["spec"], key)
    return DASH if found is MISSING else found


def _quoted_columns(
    quoted: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
    setting: Mapping[str, Any],
    metrics: Sequence[str],
) -> dict[str, list[Quoted]]:
    """The published values that apply to `setting`: per metric, one column for each source
    that gives any (e.g. a paper's rows for each of its networks).

    `quoted`: {"source": name, "rows": [{"setting": {...}, "method": m, "values": {metric: v}}]},
    or a list of them; a row applies when its setting is part of the table's setting.
    """
    sources = [quoted] if isinstance(quoted, Mapping) else list(quoted or [])
    columns: dict[str, list[Quoted]] = defaultdict(list)
    for source in sources:
        for metric, column in _quoted_source(source, setting, metrics).items():
            columns[metric].append(column)
    return dict(columns)


def _quoted_source(
    quoted: Mapping[str, Any], setting: Mapping[str, Any], metrics: Sequence[str]
) -> dict[str, Quoted]:
    """One source's column per metric it gives values of (`_quoted_columns`)."""
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


def _title(setting: Mapping[str, Any]) -> str:
    """A setting as its keys and values; a mapping value as its leaves: "concept=shirt"."""
    return ", ".join(
        setting_text({k: v}) if isinstance(v, Mapping) else f"{k}={v}"
        for k, v in sorted(setting.items())
    )


def _columns(
    runs: Runs, metrics: Sequence[str], published: Mapping[str, Sequence[Quoted]]
) -> list[Column | Quoted]:
    columns: list[Column | Quoted] = []
    for m in metrics:
        columns.append(Column(metric_name(m), m, runs))
        columns.extend(published.get(m, ()))
    return columns


def _section(
    setting: dict[str, Any],
    runs: Runs,
    methods: Sequence[str],
    baseline: str,
    metrics: Sequence[str],
    questions: Questions,
    quoted: Quotes,
    contrasts: Sequence[Sequence[str]],
    judged: Sequence[str],
) -> Section:
    """One setting: the means of `metrics`, the comparisons with the baseline, where effort
    verdicts flip, every method against the best prior on the explanation metrics (where the
    setting has reference maps that ignore the image), and the suite's own contrasts (with the
    claims' and the control's pairs), the comparisons on the `judged` metrics only."""
    margins, effects = questions.margins, claimed_effects(questions, setting)
    lines: list[str] = []
    found: dict[str, dict[Pair, Comparison]] = {}
    if baseline in runs:
        compared, found = comparison_lines(runs, methods, baseline, judged, margins, effects)
        lines += compared
        if EFFORT_TOTAL in found:
            by_method = {m: c for (m, _), c in found[EFFORT_TOTAL].items()}
            lines += break_even_lines(runs, methods, baseline, by_method)
    prior_compared, priors = prior_lines(runs, methods, baseline, judged, margins)
    contrasted, other = contrast_lines(runs, contrasts, judged, margins, effects)
    return Section(
        title=_title(setting) or "all runs",
        setting=setting,
        runs=runs,
        columns=_columns(runs, metrics, _quoted_columns(quoted, setting, metrics)),
        comparisons=lines + prior_compared + contrasted,
        verdicts={metric: {m: c for (m, _), c in cs.items()} for metric, cs in found.items()},
        contrasts=other,
        priors=priors,
    )


def _sections(
    records: Sequence[Mapping[str, Any]],
    methods: Sequence[str],
    baseline: str,
    metrics: Sequence[str],
    questions: Questions,
    quoted: Quotes = None,
    contrasts: Sequence[Sequence[str]] = (),
) -> list[Section]:
    """One `Section` per setting, sorted; verdicts on `judged_metrics` only."""
    judged = judged_metrics(records, metrics)
    return [
        _section(
            json.loads(key), runs, methods, baseline, metrics, questions, quoted, contrasts, judged
        )
        for key, runs in sorted(_group(records, setting_key).items())
    ]


def _pivot(
    records: Sequence[Mapping[str, Any]],
    methods: Sequence[str],
    baseline: str,
    pivot: Mapping,
    margins: Mapping[str, Margin] | None = None,
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
    title = f"{metric_name(metric)} by {' / '.join(by)}"
    legend = (
        f"Verdict against {baseline} in the same column (as in the comparison tables; Holm over "
        f"this table's {len(found)} comparison{'' if len(found) == 1 else 's'})."
    )
    return Pivot(title, make_table(columns, methods, counts=False), legend)


def refuse_duplicates(groups: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
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


def build(
    records: Sequence[Mapping[str, Any]],
    *,
    suite: str,
    baseline: str,
    metrics: Sequence[str],
    questions: Questions | None = None,
    pivot: Mapping[str, Any] | None = None,
    quoted: Quotes = None,
    notes: str | None = None,
    failed: Mapping[str, str] | None = None,
    method_order: Sequence[str] = (),
    contrasts: Sequence[Sequence[str]] = (),
    curves: Mapping[str, Mapping[str, Any]] | None = None,
    crossings: Sequence[Mapping[str, Any]] = (),
    replication: Mapping[str, Any] | None = None,
) -> Board:
    """The leaderboard of `records`; raises `LeaderboardError` when the baseline has no records,
    names a reference row, or a method has two records of one seed in one setting.

    `questions` (`harness.questions`): the margin of each metric with its reason, the paper's
    claims and the positive control; `quoted` puts a paper's published numbers in a column
    beside each metric they exist for (a list of sources: a column each); `contrasts` lists [method, reference] pairs compared like
    a method with the baseline (the claims' and the control's pairs are added); `crossings`
    the break-even points along `curves` (`crossings.crossing_lines`); `replication` the suite's
    published replication (`replication.published_summary`), cited under the provenance. Rows: the
    baseline, then the methods in `method_order` (the suite's), then any other, sorted.
    """
    questions = questions or Questions()
    groups = _by_method(records)
    refuse_duplicates(groups)
    methods = _method_rows(groups, baseline, method_order)
    contrasts = with_question_pairs(contrasts, questions, baseline)
    sections = _sections(records, methods, baseline, metrics, questions, quoted, contrasts)
    references = (CEILING, *REFERENCE_MAP_ROWS)
    return Board(
        suite=suite,
        n_records=len(records),
        methods=methods,
        opening=opening_lines(sections, questions, baseline),
        provenance=provenance(records)
        + replicated(replication)
        + explanation_maps(records, metrics),
        notices=column_names(metrics)
        + unrun(method_order, groups, contrasts)
        + code_warnings(records, groups)
        + margin_warnings(records, questions.margins),
        margins=margin_lines(questions.margins, metrics),
        claims=claim_lines(sections, questions, baseline),
        sections=sections,  # first: it checks the contrasts' form
        pivot=_pivot(records, methods, baseline, pivot, questions.margins) if pivot else None,
        crossings=crossing_lines(sections, curves or {}, crossings),
        components=components(groups, methods + [r for r in references if r in groups]),
        failed=failed_cells(failed or {}),
        notes=notes,
    )


def _method_rows(
    groups: Mapping[str, Sequence[Mapping[str, Any]]], baseline: str, method_order: Sequence[str]
) -> list[str]:
    """The method rows in order: the baseline, the suite's, any other sorted; refuses a
    baseline without records or one that is a reference row."""
    found = sorted(groups)
    references = (CEILING, *REFERENCE_MAP_ROWS, BEST_PRIOR_ROW)
    if baseline in references:
        raise LeaderboardError(f"{baseline!r} is a reference row; name a method as the baseline")
    if baseline not in groups:
        raise LeaderboardError(
            f"baseline {baseline!r} has no records; methods found: {', '.join(found) or 'none'}"
        )
    ordered = dict.fromkeys([baseline, *method_order, *found])
    return [m for m in ordered if m in groups and m not in references]


def render(records: Sequence[Mapping[str, Any]], **build_kwargs: Any) -> str:
    """The leaderboard of `records` as GitHub markdown (`build`'s arguments); the same records
    give the same bytes."""
    return board_markdown(build(records, **build_kwargs))


def suite_options(suite: Suite) -> dict[str, Any]:
    """`build`'s arguments from a suite file: its questions, `leaderboard` block, baseline and
    method order."""
    options = suite.leaderboard
    return {
        "suite": suite.name,
        "baseline": suite.baseline,
        "metrics": suite.metrics,
        "questions": suite.questions,
        "pivot": options.get("pivot"),
        "quoted": options.get("quoted"),
        "notes": options.get("notes"),
        "method_order": list(suite.methods),
        "contrasts": options.get("contrasts") or (),
        "curves": options.get("curves"),
        "crossings": options.get("crossings") or (),
    }


def write(
    records_dir: str | os.PathLike, out_path: str | os.PathLike, **render_kwargs: Any
) -> Path:
    """Render the records in `records_dir` and write the markdown atomically to `out_path`:
    the whole board is rendered first, so a record it refuses leaves the old file as it was.

    Raises `LeaderboardError` for records it refuses (`load_records`, `build`) and
    `HitlbenchError` naming `out_path` when it cannot be written (a folder that cannot be
    created, a read-only or pseudo file system, a folder in its place)."""
    records = load_records(records_dir)
    text = render(records, failed=records.failed, **render_kwargs)
    try:
        return write_text_atomic(Path(out_path), text)
    except OSError as exc:
        raise cannot_write("the leaderboard", out_path, exc) from exc
