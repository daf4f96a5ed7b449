"""What a record's behaviour can be traced to, beside each component's `version`.

`behaviour_hash` fingerprints the code of a component's own module: its syntax tree with
docstrings, comments and import statements left out, so rewording a docstring or reordering
imports keeps the hash, and any change to what the code does changes it. A record carries the
hash of each of its components; the leaderboard warns when one method's records mix hashes, and
the tests fail when a strategy's module changed while its `version` did not.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect


def _strip(tree: ast.AST) -> ast.AST:
    """`tree` without import statements and without the docstrings of modules, classes and
    functions (comments are not in a syntax tree)."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        kept = [s for s in body if not isinstance(s, ast.Import | ast.ImportFrom)]
        documented = isinstance(
            node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        )
        if documented and kept and _is_docstring(kept[0]):
            kept = kept[1:]
        node.body = kept or [ast.Pass()]
    return tree


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


@functools.cache
def behaviour_hash(cls: type) -> str | None:
    """16 hex digits fingerprinting the module that defines `cls`; None when its source cannot
    be read (a class defined interactively, or shipped without source)."""
    try:
        source = inspect.getsource(inspect.getmodule(cls))
    except (OSError, TypeError):
        return None
    tree = _strip(ast.parse(source))
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()[:16]
