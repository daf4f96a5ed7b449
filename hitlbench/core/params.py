"""Values checked against their declared types before anything runs (pydantic, strict mode).

Every value a user gives, after `--set` or in a suite file, reaches a component's `__init__`
(or a run setting) only after it passed pydantic's strict validation against the parameter's
type hint: an `int` refuses 2.5 and `true`, a `float` takes an int but refuses a bool, a string,
NaN and the infinities (unless the hint is `Annotated[float, pydantic.AllowInfNan(True)]`), a
`bool` refuses anything but true and false. The value itself is passed on as given, never the
validated copy, so an int given for a float stays an int in the resolved spec and in the run's
identity. A plugin's parameters get the same checks from its own type hints.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import ConfigDict, TypeAdapter, ValidationError

from ..types import HitlbenchError

STRICT = ConfigDict(strict=True, allow_inf_nan=False, arbitrary_types_allowed=True)


def shared_parameters(cls: type) -> dict[str, tuple[Any, Any]]:
    """{name: (type hint, default)} of the parameters a base class gives every subclass
    (`Component.shared`, e.g. every dataset's `concept`) that its `__init__` does not name."""
    own = inspect.signature(cls.__init__).parameters
    return {k: v for k, v in getattr(cls, "shared", {}).items() if k not in own}


def init_parameters(cls: type) -> list[inspect.Parameter]:
    """The parameters that can be given by keyword (self left out): the `__init__` ones, then
    the shared ones of its base class."""
    signature = inspect.signature(cls.__init__)
    own = [
        p
        for p in list(signature.parameters.values())[1:]
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    shared = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
        for name, (_, default) in shared_parameters(cls).items()
    ]
    return own + shared


@functools.cache
def parameter_hints(cls: type) -> dict[str, Any]:
    """Each `__init__` parameter's type hint (`typing.Any` where it has none or it cannot be
    resolved), with `Annotated` extras kept."""
    try:
        hints = typing.get_type_hints(cls.__init__, include_extras=True)
    except (NameError, TypeError):  # a hint that names something not importable here
        hints = {}
    hints.update({name: hint for name, (hint, _) in shared_parameters(cls).items()})
    return {p.name: hints.get(p.name, Any) for p in init_parameters(cls)}


@functools.cache
def _adapter(hint: Any) -> TypeAdapter:
    return TypeAdapter(hint, config=STRICT)


def hint_text(hint: Any) -> str:
    """A type hint as people write it: `float | None`, `int`, `Literal['a', 'b']`."""
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " | ".join(hint_text(arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return "None"
    text = hint.__name__ if isinstance(hint, type) else str(hint)
    return text.replace("typing.", "")


def check_value(where: str, value: Any, hint: Any, expected: str | None = None) -> None:
    """Raise a one-line `HitlbenchError` naming `where`, the value and what was expected,
    unless `value` passes strict validation against `hint`."""
    try:
        _adapter(hint).validate_python(value)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"]
        raise HitlbenchError(
            f"{where}={value!r} refused: {problem[:1].lower()}{problem[1:]}; "
            f"expected {expected or hint_text(hint)}"
        ) from None


def check_params(cls: type, params: Mapping[str, Any], what: str) -> None:
    """Check every given parameter of component class `cls` against its type hint.

    `what` names the component in messages, e.g. "classifier 'small_cnn'".
    """
    hints = parameter_hints(cls)
    for name, value in params.items():
        check_value(f"{what}: parameter {name}", value, hints.get(name, Any))
