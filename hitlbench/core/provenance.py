"""What a record's behaviour can be traced to, beside each component's `version`.

`behaviour_hash` fingerprints the code of a component's own module: its syntax tree with
docstrings, comments, import statements and `same_behaviour_as` declarations left out, so
rewording a docstring or reordering imports keeps the hash, and any change to what the code does
changes it. A record carries the hash of each of its components; the leaderboard warns when one
method's records mix hashes, and the tests fail when a strategy's module changed while its
`version` did not. A refactor that keeps behaviour changes the hash too; once
`benchmarks/same_behaviour.py` shows the records equal, the class lists the earlier hash in
`same_behaviour_as`, and `kept_behaviours` counts it as the current code's.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect

KEPT_ATTRIBUTE = "same_behaviour_as"


def _strip(tree: ast.AST) -> ast.AST:
    """`tree` without import statements, `same_behaviour_as` declarations and the docstrings of
    modules, classes and functions (comments are not in a syntax tree)."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        kept = [s for s in body if not (_is_import(s) or _declares_kept(s))]
        documented = isinstance(
            node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        )
        if documented and kept and _is_docstring(kept[0]):
            kept = kept[1:]
        node.body = kept or [ast.Pass()]
    return tree


def _is_import(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Import | ast.ImportFrom)


def _declares_kept(statement: ast.stmt) -> bool:
    """`same_behaviour_as = ...` (annotated or not): provenance about the code, not code."""
    if isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    elif isinstance(statement, ast.Assign):
        targets = statement.targets
    else:
        return False
    return any(isinstance(t, ast.Name) and t.id == KEPT_ATTRIBUTE for t in targets)


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


def kept_behaviours(cls: type) -> frozenset[str]:
    """The behaviour hashes whose records count as `cls`'s current code: its own hash and the
    earlier ones it declares in `same_behaviour_as` (empty when its source cannot be read)."""
    current = behaviour_hash(cls)
    if current is None:
        return frozenset()
    return frozenset({current, *getattr(cls, KEPT_ATTRIBUTE, ())})
