"""A run's page of the static site (`records/<suite>/<run_id>.html`): what ran (the resolved
spec, each component's origin, version and behaviour hash), on what data and machine, the
per-round table, the summary, the error analysis, its figures and its JSON record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from ..harness.records import class_name, method_of, setting_of, setting_text
from ..simulation import error_analysis
from .comparisons import number
from .metric_names import metric_name
from .round_table import round_rows
from .site_html import Td, dict_table, esc, facts, figure, link, markdown, page, table

Record = Mapping[str, Any]
ROOT = "../../"  # from records/<suite>/ to the site's root


def _flat(tree: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, leaf) pairs of a nested mapping, in its order."""
    pairs: list[tuple[str, Any]] = []
    for key, value in tree.items():
        if isinstance(value, Mapping) and value:
            pairs += _flat(value, f"{prefix}{key}.")
        else:
            pairs.append((f"{prefix}{key}", value))
    return pairs


def _named(key: str) -> str:
    """A summary path with its readable name, where it has one: "corrections (total_corrections)"."""
    name = metric_name(key)
    return key if name == key else f"{name} ({key})"


def _shown(value: Any) -> Any:
    """A summary value as the tables show it: floats to 4 significant digits."""
    return number(value) if isinstance(value, float) else value


def _components(record: Record) -> str:
    rows = [
        [Td(esc(kind)), *(Td(esc(c.get(k) or "–")) for k in ("name", "origin", "version"))]
        + [Td(f"<code>{esc(c.get('behaviour') or '–')}</code>")]
        for kind, c in record.get("components", {}).items()
    ]
    return table(["kind", "name", "origin", "version", "behaviour hash"], rows, sortable=False)


def _data(record: Record) -> list[tuple[str, Any]]:
    data = dict(record.get("data", {}))
    names = data.pop("class_names", None)
    return list(data.items()) + ([("class names", ", ".join(map(str, names)))] if names else [])


def _error_analysis(record: Record) -> str:
    analysis = record["summary"].get("error_analysis")
    if not analysis:
        return ""
    n = len(analysis["corrections_by_class"])
    names = [class_name(record, c) for c in range(n)]
    body = markdown(error_analysis.markdown(analysis, names))
    return f"<details><summary>Error analysis (counts)</summary>\n{body}</details>\n"


def run_page(record: Record, suite: str, figures: Mapping[str, str]) -> str:
    """The page of `record` in `suite`; `figures` maps each figure's file name (beside the
    page) to its caption."""
    rid = str(record["run_id"])
    summary = {k: v for k, v in record["summary"].items() if k != "error_analysis"}
    setting = setting_text(setting_of(record)) or "–"
    head = (
        f"<h1>Run {esc(rid)}</h1>\n"
        f'<p class="lead">Suite {link(f"{ROOT}{suite}.html", suite)}, method '
        f"<strong>{esc(method_of(record))}</strong>, setting {esc(setting)}, seed "
        f"{esc(record['spec']['seed'])}. Record: {link(f'{rid}.json', f'{rid}.json')}</p>\n"
    )
    drawn = "".join(figure(name, caption) for name, caption in figures.items())
    spec = yaml.safe_dump(record["spec"], sort_keys=False, allow_unicode=True, width=100)
    body = [
        head,
        drawn,
        "<h2>Rounds</h2>\n",
        dict_table(round_rows(record["rounds"])),
        "<h2>Summary</h2>\n",
        facts((_named(key), _shown(value)) for key, value in _flat(summary)),
        _error_analysis(record),
        "<h2>Components</h2>\n",
        _components(record),
        "<h2>Resolved spec</h2>\n",
        f"<pre>{esc(spec)}</pre>\n",
        "<h2>Data</h2>\n",
        facts(_data(record)),
        "<h2>Environment</h2>\n",
        facts(record.get("env", {}).items()),
        facts(_flat({"time_s": record.get("time_s", {})})),
    ]
    return page(f"{suite} · run {rid}", "".join(body), ROOT)
