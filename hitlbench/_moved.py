"""The import paths of modules that moved into a floor keep working: `hitlbench.loop` is
`hitlbench.core.loop` (the same module object, so monkeypatching either patches both). Run a
moved module by its new path (`python -m hitlbench.publish.docgen`)."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

MOVED = {
    "core": ("cache", "component", "crops", "effort", "explain", "metrics", "params",
             "pretrained", "provenance", "registry", "torch_rng"),
    "simulation": ("cam_examples", "error_analysis", "evaluation", "loop"),
    "harness": ("bench", "record_metrics", "records", "results", "runner", "spec", "suites",
                "verdicts", "yaml12"),
    "publish": ("cam_figure", "comparisons", "docgen", "labeler_figure", "leaderboard",
                "metric_names", "plots", "plots_common", "round_figures"),
}  # fmt: skip


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `<package>.<old name>` and loads it as the module at its new path."""

    def __init__(self, package: str):
        self.targets = {
            f"{package}.{name}": f"{package}.{floor}.{name}"
            for floor, names in MOVED.items()
            for name in names
        }

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.targets:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec) -> ModuleType:
        return importlib.import_module(self.targets[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """The module ran when it was imported at its new path."""


def install(package: str) -> None:
    """Let the old paths of `package`'s moved modules import (once per interpreter)."""
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias(package))
