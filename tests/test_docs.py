"""The docs stay true to the code: strategy pages are current, links resolve, and
CONTRIBUTING.md's plugin walk-through works when followed literally."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from hitlbench.publish import docgen

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```([^`\n]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_builtin_has_an_up_to_date_page():
    problems = docgen.check(ROOT / "docs" / "strategies")
    assert not problems, (
        "strategy pages are missing or out of date; run `python -m hitlbench.publish.docgen`:\n"
        + "\n".join(problems)
    )


def test_generator_writes_checks_and_removes_stale_pages(tmp_path):
    assert docgen.check(tmp_path)  # nothing written yet: everything is missing
    docgen.write(tmp_path)
    assert docgen.check(tmp_path) == []
    (tmp_path / "sampler" / "gone.md").write_text("old\n")
    assert docgen.check(tmp_path) == ["stale: sampler/gone.md"]
    assert docgen.write(tmp_path) == ["removed: sampler/gone.md"]
    assert docgen.write(tmp_path) == []  # deterministic: a second run changes nothing


def test_relative_links_in_the_docs_resolve():
    pages = [ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
    broken = []
    for page in pages:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            if not (page.parent / target.split("#")[0]).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, "broken links:\n" + "\n".join(broken)


def walkthrough(text: str) -> list[tuple[str, str, str]]:
    """('file', name, content) and ('run', line, '') steps, in the order CONTRIBUTING.md gives them."""
    steps = []
    for info, body in FENCE.findall(text):
        words = info.split()
        names = [w.split("=", 1)[1] for w in words if w.startswith("file=")]
        if names:
            steps.append(("file", names[0], body))
        elif words[:2] == ["bash", "run"]:
            lines = [line.strip() for line in body.splitlines()]
            steps += [("run", line, "") for line in lines if line and not line.startswith("#")]
    return steps


def as_argv(line: str, folder: Path, site: Path) -> list[str]:
    """The walk-through's command, run offline against this interpreter and a private site."""
    args = shlex.split(line)
    if args[:2] == ["pip", "install"]:
        rest = [str(folder) if a == "." else a for a in args[2:]]
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index"]
        return [*pip, "--target", str(site), *rest]
    if args[0] == "hitlbench":
        return [sys.executable, "-m", "hitlbench.cli", *args[1:]]
    if args[:3] == ["python", "-m", "pytest"]:
        return [sys.executable, "-m", "pytest", *args[3:]]
    if args[0] == "pytest":
        return [sys.executable, "-m", "pytest", *args[1:]]
    raise AssertionError(f"the walk-through runs a command this test cannot follow: {line!r}")


def test_contributing_plugin_walkthrough_works_literally(tmp_path):
    tomllib = pytest.importorskip("tomllib")
    steps = walkthrough((ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8"))
    files = {name: body for kind, name, body in steps if kind == "file"}
    assert "pyproject.toml" in files and any(kind == "run" for kind, *_ in steps)
    project = tomllib.loads(files["pyproject.toml"])["project"]
    plugin_names = list(project["entry-points"]["hitlbench.samplers"])
    origin = f"{project['name']}=={project['version']}"

    folder, site = tmp_path / "plugin", tmp_path / "site"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "HITLBENCH_DISABLE_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join(map(str, (site, folder, ROOT)))
    outputs = {}
    for kind, step, body in steps:
        if kind == "file":
            (folder / step).write_text(body, encoding="utf-8")
            continue
        done = subprocess.run(
            as_argv(step, folder, site),
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{step}\n{done.stdout}\n{done.stderr}"
        outputs[step] = done.stdout

    listing = next(out for step, out in outputs.items() if step.startswith("hitlbench list"))
    for name in plugin_names:
        assert name in listing and origin in listing, listing
    runs = [out for step, out in outputs.items() if step.startswith("hitlbench run")]
    assert runs and all("record: " in out for out in runs)
    assert any(f"sampler={name}" in out for out in runs for name in plugin_names)
