"""Benchmark suites: a YAML grid of settings x methods x seeds, expanded into resolved cells."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..types import HitlbenchError
from . import yaml12
from .questions import Questions, check_questions, parse_questions
from .records import BEST_PRIOR_ROW, CEILING, REFERENCE_MAP_ROWS
from .spec import apply_override, resolve_spec, run_id
from .verdicts import MIN_SEEDS

SUITE_DIR = Path(__file__).resolve().parents[2] / "benchmarks"
SUITE_KEYS = {
    "name", "description", "seeds", "settings", "defaults", "grid", "methods", "baseline",
    "references", "leaderboard", "kind", "margins", "claims", "positive_control",
}  # fmt: skip
DEFAULT_METRICS = ("total_corrections", "final_accuracy", "effort_s_total", "aulc_effort")
# Reference rows of explanation metrics: a fixed map scored by the same code as Grad-CAM
# (`classifiers.reference_map`), so a reader sees what a map that looks at nothing scores.
# The mean object mask is the mean over the pool's labeled items, never the holdout's.
WHOLE_IMAGE, CENTRAL_SQUARE, MEAN_OBJECT, OBJECT_MASK = REFERENCE_MAP_ROWS
REFERENCE_MAPS = {
    WHOLE_IMAGE: {"map": "whole_image"},
    CENTRAL_SQUARE: {"map": "central_square", "side": 20},
    MEAN_OBJECT: {"map": "mean_object"},
    OBJECT_MASK: {"map": "object_mask"},
}
REFERENCES = (CEILING, *REFERENCE_MAPS)
DEFAULT_SEEDS = MIN_SEEDS  # a verdict needs at least this many seeds on each side


@dataclass(frozen=True)
class Cell:
    """One run of a suite: a grid point (setting), a method and a seed, resolved to a spec."""

    method: str
    setting: dict[str, Any]
    seed: int
    spec: dict[str, Any]

    @property
    def run_id(self) -> str:
        return run_id(self.spec)

    def suite_block(self, suite: Suite) -> dict[str, Any]:
        """What the cell's record says of its suite: name, method, setting, and the margins
        (by metric, in its units) stated before it ran."""
        margins = {metric: m.value for metric, m in sorted(suite.questions.margins.items())}
        return {
            "name": suite.name,
            "method": self.method,
            "setting": self.setting,
            "margins": margins,
        }


@dataclass(frozen=True)
class Suite:
    """A parsed suite file; `cells()` expands it."""

    name: str
    seeds: list[int]
    methods: dict[str, dict[str, Any]]
    baseline: str
    description: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    references: list[str] = field(default_factory=lambda: [CEILING])
    leaderboard: dict[str, Any] = field(default_factory=dict)
    questions: Questions = field(default_factory=Questions)

    @property
    def metrics(self) -> list[str]:
        """The metrics the leaderboard draws verdicts on (`DEFAULT_METRICS` where it names none)."""
        return list(self.leaderboard.get("metrics", DEFAULT_METRICS))

    def settings_points(self) -> list[dict[str, Any]]:
        """Every grid point: the product of the grid's lists, in file order."""
        keys = list(self.grid)
        return [
            dict(zip(keys, values, strict=True))
            for values in itertools.product(*self.grid.values())
        ]

    def cells(self) -> list[Cell]:
        """All cells: setting x method x seed, then the ceiling per setting and seed."""
        cells = []
        for point in self.settings_points():
            for method, overrides in self.methods.items():
                for seed in self.seeds:
                    cells.append(self._cell(method, point, overrides, seed))
            if CEILING in self.references:
                ceiling = {**self.methods[self.baseline], "batch_size": "all", "rounds": 1}
                cells += [self._cell(CEILING, point, ceiling, seed) for seed in self.seeds]
            for name in self.references:
                if name in REFERENCE_MAPS:
                    cells += [self._reference_map_cell(name, point, seed) for seed in self.seeds]
        seen: dict[str, Cell] = {}
        for cell in cells:
            if cell.run_id in seen:
                other = seen[cell.run_id]
                raise HitlbenchError(
                    f"suite {self.name!r}: methods {other.method!r} and {cell.method!r} resolve to "
                    f"the same spec for {cell.setting} seed {cell.seed}; make them differ"
                )
            seen[cell.run_id] = cell
        return cells

    def _reference_map_cell(self, name: str, point: Mapping, seed: int) -> Cell:
        """A reference map's cell: the baseline's setting with its classifier replaced by the
        fixed map, labels only, every pool item in one round (nothing is trained)."""
        replace = {
            "classifier": {"name": "reference_map", "params": REFERENCE_MAPS[name]},
            "feedback": {"name": "labels", "params": {}},
        }
        layer = {**self.methods[self.baseline], "batch_size": "all", "rounds": 1}
        return self._cell(name, point, layer, seed, replace=replace)

    def _cell(
        self,
        method: str,
        point: Mapping,
        overrides: Mapping,
        seed: int,
        replace: Mapping[str, Any] | None = None,
    ) -> Cell:
        raw: dict[str, Any] = {}
        for layer in (self.defaults, self.settings, point, overrides, {"seed": seed}):
            for key, value in layer.items():
                apply_override(raw, key, value)
        raw.update(replace or {})
        try:
            spec = resolve_spec(raw)
        except HitlbenchError as exc:
            raise HitlbenchError(
                f"suite {self.name!r}, method {method!r}, {dict(point)}: {exc}"
            ) from exc
        return Cell(method=method, setting=dict(point), seed=seed, spec=spec)


def find_suite(name_or_path: str | Path) -> Path:
    """A path to a YAML file, or a name under benchmarks/."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    candidate = SUITE_DIR / f"{name_or_path}.yaml"
    if candidate.is_file():
        return candidate
    known = sorted(p.stem for p in SUITE_DIR.glob("*.yaml"))
    raise HitlbenchError(
        f"no suite {str(name_or_path)!r}; suites in benchmarks/: {', '.join(known)}"
    )


def _seeds(value: Any) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return list(range(value))
    if isinstance(value, list) and value and all(isinstance(s, int) and s >= 0 for s in value):
        return list(value)
    raise HitlbenchError(f"seeds must be a count >= 1 or a list of seeds >= 0, got {value!r}")


def _grid(value: Any) -> dict[str, list[Any]]:
    if not isinstance(value, Mapping):
        raise HitlbenchError(f"grid must map keys to lists, got {value!r}")
    return {k: (list(v) if isinstance(v, list) else [v]) for k, v in value.items()}


def parse_suite(doc: Mapping[str, Any], default_name: str) -> Suite:
    """Check and parse a suite document (a YAML mapping)."""
    if not isinstance(doc, Mapping):
        raise HitlbenchError(f"suite {default_name!r}: expected a mapping at the top level")
    unknown = set(doc) - SUITE_KEYS
    if unknown:
        raise HitlbenchError(
            f"suite {default_name!r}: unknown keys {sorted(unknown)}; known: {sorted(SUITE_KEYS)}"
        )
    methods = doc.get("methods")
    if not isinstance(methods, Mapping) or not methods:
        raise HitlbenchError(f"suite {default_name!r}: 'methods' must name at least one method")
    methods = {str(k): _as_layer(v) for k, v in methods.items()}
    reserved = [m for m in methods if m in (*REFERENCES, BEST_PRIOR_ROW)]
    if reserved:
        raise HitlbenchError(
            f"suite {default_name!r}: {reserved[0]!r} is reserved for a reference row"
        )
    baseline = str(doc.get("baseline", next(iter(methods))))
    if baseline not in methods:
        raise HitlbenchError(
            f"suite {default_name!r}: baseline {baseline!r} is not one of {sorted(methods)}"
        )
    references = list(doc.get("references", [CEILING]))
    unknown_refs = [r for r in references if r not in REFERENCES]
    if unknown_refs:
        raise HitlbenchError(
            f"suite {default_name!r}: unknown references {unknown_refs}; known: {list(REFERENCES)}"
        )
    suite = Suite(
        name=str(doc.get("name", default_name)),
        description=str(doc.get("description", "")).strip(),
        seeds=_seeds(doc.get("seeds", DEFAULT_SEEDS)),
        settings=_as_layer(doc.get("settings")),
        defaults=_as_layer(doc.get("defaults")),
        grid=_grid(doc.get("grid") or {}),
        methods=methods,
        baseline=baseline,
        references=references,
        leaderboard=dict(doc.get("leaderboard") or {}),
        questions=parse_questions(doc, default_name),
    )
    check_questions(suite.questions, suite.name, set(methods), suite.metrics)
    suite.cells()  # every cell must resolve now, before any work starts
    return suite


def _as_layer(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise HitlbenchError(f"expected a mapping of overrides, got {value!r}")
    return dict(value)


def load_suite(name_or_path: str | Path) -> Suite:
    path = find_suite(name_or_path)
    try:
        doc = yaml12.load(path.read_text())
    except yaml.YAMLError as exc:
        raise HitlbenchError(f"{path}: not valid YAML ({exc})") from exc
    return parse_suite(doc, path.stem)
