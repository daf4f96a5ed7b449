"""What a leaderboard says around its tables: the record field behind each column, the versions,
commits, dates, machines and data the records ran with, the suite's replication on this or
another machine, each method's components, loud warnings where records come from changed or
uncommitted code, the suite's methods that have no records, and the cells that failed
(markdown lines, `board_model.Board`'s text parts)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..core.provenance import behaviour_hash, kept_behaviours
from ..explanations.metric_check import CHECKED_MAP
from ..harness.records import row_name, scores_a_map
from ..registries import REGISTRIES
from .comparisons import DASH
from .markdown_tables import table_block
from .metric_names import metric_name

KIND_ORDER = ("dataset", "sampler", "detector", "classifier", "oracle", "feedback")


def column_names(metrics: Sequence[str]) -> list[str]:
    """Which record field each readable column name stands for."""
    named = [f"{metric_name(m)}: `{m}`" for m in metrics if metric_name(m) != m]
    return [f"Columns (record fields): {'; '.join(named)}.", ""] if named else []


def _values(records: Iterable[Mapping[str, Any]], block: str, key: str) -> list[str]:
    return sorted({str(r.get(block, {}).get(key) or "unknown") for r in records})


def provenance(records: Sequence[Mapping[str, Any]]) -> list[str]:
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


def replicated(summary: Mapping[str, Any] | None) -> list[str]:
    """A bullet citing the suite's published replication (`replication.published_summary`):
    the processor model it re-ran the cells on, its date, the cells re-run and the verdicts that
    would change; nothing where there is none."""
    if summary is None:
        return []
    changed = int(summary["verdicts_changed"])
    return [
        f"- replicated on {summary['cpu'] or 'unknown'} ({str(summary['date'])[:10]}, "
        f"{summary['cells_rerun']} cells): {changed} verdict{'' if changed == 1 else 's'} "
        "would change"
    ]


def _map_text(cam: Mapping[str, Any]) -> str:
    """An `evaluation_cam` in words: which map, of which layer, how it is made positive and
    normalised (records from before `method` and `layer` existed drew Grad-CAM at the
    classifier's own `cam_layer`)."""
    method, layer = cam.get("method", "gradcam"), cam.get("layer")
    if method == "input_gradient":
        what = "input gradient (Ross et al. 2017)"
    else:
        where = f"`{layer}`" if layer else "the classifier's `cam_layer`"
        what = f"Grad-CAM at {where} ({cam.get('weights', 'gradcam')} weights)"
    relu = "ReLU, " if cam.get("relu", True) else ""
    return f"{what}, {relu}{cam.get('norm', 'max')}-normalised"


def _scored_maps(records: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """{map in words: number of records} of the records' `evaluation_cam`."""
    cams: dict[str, int] = defaultdict(int)
    for r in records:
        cams[_map_text(r.get("spec", {}).get("evaluation_cam") or {})] += 1
    return dict(cams)


def judged_metrics(records: Sequence[Mapping[str, Any]], metrics: Sequence[str]) -> list[str]:
    """The metrics a board draws verdicts on: all of them where every record scores the map
    the metric check chose (`metric_check.CHECKED_MAP`), else all but those that score a map
    (their means are still shown)."""
    if set(_scored_maps(records)) <= {_map_text(CHECKED_MAP)}:
        return list(metrics)
    return [m for m in metrics if not scores_a_map(m)]


def explanation_maps(records: Sequence[Mapping[str, Any]], metrics: Sequence[str]) -> list[str]:
    """A bullet naming the saliency map the explanation metrics score (the records'
    `evaluation_cam`), and a warning where that is not the checked map or records scored
    different maps (the board then draws no verdict from them); nothing for a board without a
    metric that scores a map."""
    if not any(scores_a_map(m) for m in metrics):
        return []
    cams = _scored_maps(records)
    no_verdicts = "their means are shown, but no verdict is drawn from them"
    if len(cams) == 1:
        scored = f"- explanation map scored: {next(iter(cams))}"
        checked = _map_text(CHECKED_MAP)
        if next(iter(cams)) == checked:
            return [scored]
        return [
            scored,
            "- WARNING: the explanation metrics below score an old, unchecked map, not the one "
            f"the metric check chose on maps of known quality ({checked}; "
            f"docs/explanation-metrics.md): {no_verdicts}",
        ]
    found = "; ".join(
        f"{text} ({n} record{'' if n == 1 else 's'})" for text, n in sorted(cams.items())
    )
    return [f"- WARNING: the records score different explanation maps: {found}; {no_verdicts}"]


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


def components(
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
    return table_block("## Components", ["method", *kinds], rows)


def _version_warnings(method: str, runs: Sequence[Mapping[str, Any]]) -> list[str]:
    return [
        f"- WARNING: method {method} mixes versions of {kind} {name}: "
        f"{', '.join(sorted(texts))}; its runs come from different code"
        for kind in _kinds(runs)
        for name, texts in sorted(_component_texts(runs, kind).items())
        if len(texts) > 1
    ]


def _current_code(kind: str, component: Mapping[str, Any]) -> str:
    """A record's behaviour hash, or the current code's when the registered component of that
    name and version declares the record's hash kept (`same_behaviour_as`)."""
    registry = REGISTRIES.get(kind)
    name, found = component["name"], component["behaviour"]
    if registry is None or name not in registry:
        return found
    cls = registry.get(name)
    if str(cls.version) != str(component.get("version")) or found not in kept_behaviours(cls):
        return found
    return behaviour_hash(cls) or found


def _behaviour_warnings(method: str, runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """A component of one name and version whose records carry different behaviour hashes: its
    code changed without a new version (records without a hash are not compared; hashes the
    current code declares kept count as its own)."""
    hashes: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for r in runs:
        for kind, c in r.get("components", {}).items():
            if c.get("behaviour"):
                key = (kind, c["name"], str(c.get("version")))
                hashes[key].add(_current_code(kind, c))
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


def code_warnings(
    records: Sequence[Mapping[str, Any]], groups: Mapping[str, Sequence]
) -> list[str]:
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


def unrun(
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


def failed_cells(failed: Mapping[str, str]) -> list[str]:
    if not failed:
        return []
    lines = [f"## Failed cells ({len(failed)}, not in the tables)", ""]
    lines += [f"- `{name}`: {error}" for name, error in sorted(failed.items())]
    return [*lines, ""]
