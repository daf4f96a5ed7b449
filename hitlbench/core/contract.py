"""Calling a method written to an earlier plugin contract as it was written: one that takes no
keyword a later contract added is wrapped, once, when its class is made, to drop it
(`core.component.CONTRACT`; `classifiers.contract` and `Oracle.__init_subclass__` in
`oracles.base` use it)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any


def accepts(method: Callable[..., Any], keyword: str) -> bool:
    """Whether `method` can be called with `keyword=...` (named, or through **kwargs)."""
    params = inspect.signature(method).parameters.values()
    return any(p.name == keyword or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def dropping_keyword(method: Callable[..., Any], keyword: str, written_to: int) -> Callable:
    """`method` called without `keyword`; the wrapper's `written_to` names its contract."""

    @functools.wraps(method)
    def called_as_written(*args, **kwargs):
        kwargs.pop(keyword, None)
        return method(*args, **kwargs)

    called_as_written.written_to = written_to
    return called_as_written


def adapt_methods(cls: type, names: tuple[str, ...], keyword: str, written_to: int) -> int:
    """The contract `cls` is written to, after wrapping each of its own methods `names` that
    takes no `keyword` to drop it (`written_to` for those; the current contract otherwise)."""
    from .component import CONTRACT

    own = vars(cls)
    for name in names:
        method = own.get(name)
        if method is not None and not accepts(method, keyword):
            setattr(cls, name, dropping_keyword(method, keyword, written_to))
    return min(getattr(getattr(cls, name), "written_to", CONTRACT) for name in names)
