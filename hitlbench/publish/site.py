"""`hitlbench site`: a static HTML site of every suite, built from the committed records alone.

Layout (every link relative, so the site opens from disk and serves from any static host):

    index.html                          the suites
    <suite>.html                        its leaderboard, notes, figures and runs
    figures/<suite>/<name>.svg          the committed figures (leaderboards/figures/<suite>/)
    records/<suite>/<run_id>.html       a run: spec, components, data, rounds, figures
    records/<suite>/<run_id>.json       the record itself, copied
    records/<suite>/<run_id>.svg        accuracy and effort per round (and holdout confusion)
    records/<suite>/<run_id>.cam.svg    Grad-CAM examples, where the record has them
    assets/                             site.css, tablesort (publish/site_assets/)

Every set is iterated sorted and nothing reads the clock, so two builds from the same records
give byte-identical trees.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..harness.records import CEILING, REFERENCE_MAP_ROWS, Records, load_records, method_of
from ..harness.suites import SUITE_DIR, Suite, find_suite, load_suite
from ..types import HitlbenchError
from .board_questions import glance
from .leaderboard import build, suite_options
from .site_figures import has_cam_figure, run_cam_figure, run_figure, svg
from .site_index import SuiteEntry, entry, index_page
from .site_runs import run_page
from .site_suite import suite_page

ASSETS = Path(__file__).with_name("site_assets")
MARKER = ".hitlbench-site"  # marks a folder this command built, and may replace


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def _clear(out: Path) -> None:
    """Empty `out` for a new build: a site built before is removed; any other non-empty folder
    is refused (HitlbenchError), so a mistyped --out deletes nothing."""
    if out.exists() and (out / MARKER).is_file():
        shutil.rmtree(out)
    elif out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise HitlbenchError(
            f"{out} exists and is not a site this command built; pick another --out"
        )
    out.mkdir(parents=True, exist_ok=True)
    _write(out / MARKER, "built by `hitlbench site`; the next build replaces this folder\n")


def _groups(records: Sequence[Mapping[str, Any]], methods: Sequence[str]) -> dict[str, list]:
    """Records by method: the board's methods, then the reference cells, then any other."""
    found: dict[str, list] = {}
    for r in records:
        found.setdefault(method_of(r), []).append(r)
    order = [*methods, CEILING, *REFERENCE_MAP_ROWS, *sorted(found)]
    return {m: found[m] for m in dict.fromkeys(order) if m in found}


def _runs(records: Records, suite: str, source: Path, out: Path) -> dict[str, str]:
    """Write each run's page, figures and JSON copy; {run id: page path from the root}."""
    pages = {}
    for record in sorted(records, key=lambda r: str(r["run_id"])):
        rid = str(record["run_id"])
        folder = out / "records" / suite
        original = source / f"{rid}.json"
        if not original.is_file():
            raise HitlbenchError(f"record of run {rid} is not in {original}")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(original, folder / f"{rid}.json")
        figures = {f"{rid}.svg": "holdout accuracy and cumulative effort per round"}
        if (record["summary"].get("error_analysis") or {}).get("holdout_confusion"):
            figures[f"{rid}.svg"] += "; the final model's confusion on the holdout"
        _write(folder / f"{rid}.svg", svg(run_figure(record)))
        if has_cam_figure(record):
            figures[f"{rid}.cam.svg"] = "Grad-CAM of the predicted class after the last round"
            _write(folder / f"{rid}.cam.svg", svg(run_cam_figure(record)))
        _write(folder / f"{rid}.html", run_page(record, suite, figures))
        pages[rid] = f"records/{suite}/{rid}.html"
    return pages


def _figures(suite: str, figures_root: Path, out: Path) -> list[str]:
    """Copy the suite's committed SVG figures; their paths from the site's root, sorted."""
    paths = []
    for path in sorted((figures_root / suite).glob("*.svg")):
        target = out / "figures" / suite / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        paths.append(f"figures/{suite}/{path.name}")
    return paths


def _suite(
    suite: Suite, path: Path, records_root: Path, figures_root: Path, out: Path
) -> SuiteEntry:
    """Build the pages of `suite` (file `path`; none when it has no records), return its entry."""
    source = records_root / suite.name
    records = load_records(source) if source.is_dir() else Records()
    if not records:
        return entry(suite, path, 0, None)
    board = build(records, failed=records.failed, **suite_options(suite))
    pages = _runs(records, suite.name, source, out)
    figures = _figures(suite.name, figures_root, out)
    groups = _groups(records, board.methods)
    _write(out / f"{suite.name}.html", suite_page(suite, board, groups, figures, pages))
    found = glance(board.sections, suite.questions, suite.baseline)
    return entry(suite, path, len(records), f"{suite.name}.html", found)


def build_site(
    out: Path,
    *,
    suites: Sequence[str] | None = None,
    records_root: Path,
    figures_root: Path,
) -> Path:
    """Build the site into `out` (replacing a site built there before) from the records under
    `records_root/<suite>/` and the SVGs under `figures_root/<suite>/`, for `suites` (names
    under benchmarks/; default every one). Returns the index page's path.

    Raises HitlbenchError for an unknown suite, a non-empty `out` that is not a site, or records
    a leaderboard refuses (`LeaderboardError`: no baseline runs, two records of one seed)."""
    names = list(suites or sorted(p.stem for p in SUITE_DIR.glob("*.yaml")))
    loaded = [(load_suite(name), find_suite(name)) for name in names]
    _clear(out)
    (out / "assets").mkdir()
    for asset in sorted(p for p in ASSETS.iterdir() if p.is_file()):
        shutil.copyfile(asset, out / "assets" / asset.name)
    entries = [_suite(s, path, records_root, figures_root, out) for s, path in loaded]
    _write(out / "index.html", index_page(entries))
    return out / "index.html"
