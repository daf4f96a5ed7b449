"""YAML as people write it in suites and after `--set`: `1e-3` is a number, as in YAML 1.2.

PyYAML follows YAML 1.1, where a float needs a dot and a signed exponent, so `1e-3` and `1E5`
load as strings. This loader adds YAML 1.2's float syntax and is otherwise PyYAML's safe loader.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

YAML12_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+
        |[-+]?\.[0-9_]+[eE][-+]?[0-9]+)$""",
    re.X,
)


class Loader(yaml.SafeLoader):
    """`yaml.SafeLoader` that also reads exponent floats without a dot or an exponent sign."""


Loader.add_implicit_resolver("tag:yaml.org,2002:float", YAML12_FLOAT, list("-+0123456789."))


def load(text: str) -> Any:
    """`text` parsed as YAML with YAML 1.2 floats; raises `yaml.YAMLError` when it is not YAML."""
    return yaml.load(text, Loader=Loader)
