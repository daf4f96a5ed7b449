"""Plugin packages the tests build, install into a folder of their own and run the command
line against (tests/test_plugin.py, tests/test_plugin_contract.py)."""

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping

BUILD_SYSTEM = """
[build-system]
requires = ["setuptools>=70"]
build-backend = "setuptools.build_meta"
"""


def install_plugin(tmp_path_factory, project: str, modules: Mapping[str, str]):
    """pip-install a package made of `project` (pyproject.toml's [project] tables) and
    `modules` ({file name: source}) into a fresh folder; returns that folder (for PYTHONPATH)."""
    src = tmp_path_factory.mktemp("plugin_src")
    (src / "pyproject.toml").write_text(BUILD_SYSTEM + textwrap.dedent(project))
    for name, source in modules.items():
        (src / name).write_text(textwrap.dedent(source))
    site = tmp_path_factory.mktemp("plugin_site")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(site), str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return site


def hitlbench(site, *args):
    """`hitlbench ARGS` in a subprocess that sees the plugins installed in `site`."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, "-m", "hitlbench.cli", *args],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
