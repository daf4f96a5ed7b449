"""The package's floors (docs/concepts.md, "Package layout"): no import runs back up, few
modules at the top, the import paths that docs and plugin authors use work, and the old paths
of moved modules are gone."""

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "hitlbench"
README = ROOT / "README.md"
STRATEGIES = ("data", "samplers", "detectors", "classifiers", "oracles", "feedback",
              "annotators", "embeddings", "zero_shot", "concepts", "explanations")  # fmt: skip
FLOOR = {"types": 0, "core": 1, **dict.fromkeys(STRATEGIES, 2), "registries": 3,
         "simulation": 4, "harness": 5, "publish": 6, "cli": 7, "testing": 7}  # fmt: skip


def floor_of(module: str) -> int | None:
    """The floor of `hitlbench.<part>...`; None outside the package or for its face."""
    parts = module.split(".")
    if parts[0] != "hitlbench" or len(parts) < 2:
        return None
    return FLOOR.get(parts[1])


def imports_of(path: Path) -> set[str]:
    """Every hitlbench module that `path` imports, at the top or inside a function."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module.split(".")[:-1]  # an __init__ module: its package itself
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
            found.update(names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("hitlbench")}


def test_no_import_runs_back_up_a_floor():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        own = floor_of(module)
        if own is None:
            continue
        for target in sorted(imports_of(path)):
            theirs = floor_of(target)
            if theirs is not None and theirs > own:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports from a higher floor:\n" + "\n".join(upward)


def test_every_subpackage_has_a_floor():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert folders <= set(FLOOR), f"give these a floor: {sorted(folders - set(FLOOR))}"


def test_at_most_eight_modules_sit_at_the_top():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 8, top
    assert {"__init__.py", "types.py", "cli.py"} <= set(top)


def documented_imports() -> list[str]:
    """The `from hitlbench... import ...` lines of CONTRIBUTING.md and docs/."""
    lines = set()
    for path in [ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        lines.update(
            re.findall(r"^\s*(from hitlbench[\w.]* import [\w, ]+)$", path.read_text(), re.M)
        )
    return sorted(lines)


@pytest.mark.parametrize("line", documented_imports())
def test_documented_imports_work(line):
    exec(line, {})


def moved_paths() -> dict[str, str]:
    """Old path -> path now, from the README's table of import paths that moved."""
    moved = {}
    for names, floor in re.findall(
        r"^\| `hitlbench\.\{([\w, ]+)\}` \| `hitlbench\.(\w+)\.<name>`", README.read_text(), re.M
    ):
        moved.update({f"hitlbench.{n}": f"hitlbench.{floor}.{n}" for n in names.split(", ")})
    return moved


def test_the_readme_lists_the_moved_paths():
    assert len(moved_paths()) == 33
    assert moved_paths()["hitlbench.loop"] == "hitlbench.simulation.loop"


@pytest.mark.parametrize(("old", "new"), sorted(moved_paths().items()))
def test_a_moved_module_imports_only_from_its_floor(old, new):
    importlib.import_module(new)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(old)


def test_no_code_imports_an_old_path():
    moved = moved_paths()
    sources = [
        *PACKAGE.rglob("*.py"),
        *(ROOT / "tests").rglob("*.py"),
        *(ROOT / "benchmarks").glob("*.py"),
    ]
    found = [
        f"{path.relative_to(ROOT)}: {target}"
        for path in sorted(sources)
        for target in sorted(imports_of(path))
        if target in moved or any(target.startswith(f"{old}.") for old in moved)
    ]
    assert not found, "old import paths:\n" + "\n".join(found)


def test_the_console_script_and_module_entry_points_import():
    from hitlbench.cli import main

    assert callable(main)
    out = subprocess.run(
        [sys.executable, "-m", "hitlbench.publish.docgen", "--help"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
