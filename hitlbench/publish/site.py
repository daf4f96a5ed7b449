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

import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..core.storage import cannot_write
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


def _check_out(out: Path) -> None:
    """Refuse (HitlbenchError) an `out` that exists and is neither a site this command built nor
    an empty folder, so a mistyped --out deletes nothing."""
    if (out / MARKER).is_file() or not out.exists():
        return
    if not out.is_dir() or any(out.iterdir()):
        raise HitlbenchError(
            f"{out} exists and is not a site this command built; pick another --out"
        )


def _sibling(out: Path, kind: str) -> Path:
    """A fresh dot-name beside `out` (".site.building-1a2b…"): the build and the old site
    sit there while the new one is swapped in, on the same file system, so renames work."""
    return out.with_name(f".{out.name}.{kind}-{uuid.uuid4().hex[:12]}")


def _staging(out: Path) -> Path:
    """Create the empty folder the site is built in, beside `out`.

    Raises HitlbenchError naming `out` when its folder cannot be created or written."""
    staging = _sibling(out, "building")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as exc:
        raise cannot_write("the site", out, exc) from exc
    return staging


def _swap(staging: Path, out: Path) -> None:
    """Put the complete site `staging` in `out`'s place: an old `out` is moved aside first and
    deleted only once the new one is in; if the move in fails, the old one is put back."""
    if not out.exists() and not out.is_symlink():
        staging.rename(out)
        return
    old = _sibling(out, "old")
    out.rename(old)
    try:
        staging.rename(out)
    except OSError:
        old.rename(out)
        raise
    if old.is_symlink():  # --out was a link to a site: the link goes, not what it points to
        old.unlink()
    else:
        shutil.rmtree(old, ignore_errors=True)


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
    under benchmarks/; default every one). Returns the index page's path. The site is built in
    a folder beside `out` and swapped in only when complete, so a build that fails leaves the
    old site whole.

    Raises HitlbenchError for an unknown suite, a non-empty `out` that is not a site, an `out`
    whose folder cannot be created or written, or records a leaderboard refuses
    (`LeaderboardError`: unreadable, NaN or infinite numbers, no baseline runs, two records of
    one seed)."""
    names = list(suites or sorted(p.stem for p in SUITE_DIR.glob("*.yaml")))
    loaded = [(load_suite(name), find_suite(name)) for name in names]
    target = Path(os.path.abspath(out)) if out.name in ("", "..") else out  # has a sibling
    _check_out(target)
    staging = _staging(target)
    try:
        _build(staging, loaded, records_root, figures_root)
        _swap(staging, target)
    except OSError as exc:
        raise HitlbenchError(f"site not built, {out} left as it was: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already once swapped in
    return out / "index.html"


def _build(
    out: Path, loaded: Sequence[tuple[Suite, Path]], records_root: Path, figures_root: Path
) -> None:
    """Write the marker, the assets, every suite's pages and the index into the empty `out`."""
    _write(out / MARKER, "built by `hitlbench site`; the next build replaces this folder\n")
    (out / "assets").mkdir()
    for asset in sorted(p for p in ASSETS.iterdir() if p.is_file()):
        shutil.copyfile(asset, out / "assets" / asset.name)
    entries = [_suite(s, path, records_root, figures_root, out) for s, path in loaded]
    _write(out / "index.html", index_page(entries))
