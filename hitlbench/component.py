"""The base every registered strategy shares: stored hyper-parameters and a behaviour version."""

from __future__ import annotations

from typing import Any, ClassVar

from .registry import parameters_of


class Component:
    """Hyper-parameters go to `__init__` and are stored unchanged under their own names."""

    version: ClassVar[str] = "1"  # bump whenever the strategy's behaviour changes
    registered_name: ClassVar[str] = ""

    def get_params(self) -> dict[str, Any]:
        """The `__init__` parameters as stored on the instance (sklearn style)."""
        return {name: getattr(self, name) for name in parameters_of(type(self))}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
