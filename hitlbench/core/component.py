"""The base every registered strategy shares: stored hyper-parameters and a behaviour version."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .params import shared_parameters
from .registry import parameters_of

# The plugin contract's version: what hitlbench calls on each kind of component. Version 2 added
# the keyword `items` to Classifier.predict_proba and predict and the keywords target, cam and
# masks to Classifier.explain (`classifiers.contract` calls classifiers written to version 1).
# Version 3 added the keyword `items` to Oracle.own_answers (`oracles.base` calls oracles
# written to version 2 without it).
CONTRACT = 3


class Component:
    """Hyper-parameters go to `__init__` and are stored unchanged under their own names."""

    version: ClassVar[str] = "1"  # bump whenever the strategy's behaviour changes
    # The plugin contract the class is written to (`CONTRACT`, or an earlier version that a
    # kind still calls as it was written; `hitlbench list` shows it beside the origin).
    contract: ClassVar[int] = CONTRACT
    # Behaviour hashes of this version's earlier code that a refactor kept: each one shown by
    # `benchmarks/same_behaviour.py` (records equal before and after) on specs that run the
    # strategy. Records carrying them count as this code's (`core.provenance.kept_behaviours`).
    same_behaviour_as: ClassVar[tuple[str, ...]] = ()
    registered_name: ClassVar[str] = ""
    # Parameters added after records were published, each with the value that reproduces the
    # behaviour from before it existed: left out of a run's identity while they hold that value,
    # so published records keep their run ids (docs/concepts.md, "Run identity").
    added_params: ClassVar[Mapping[str, Any]] = {}
    # Parameters that name another component ({name, params}, or a name), as {parameter:
    # (its kind, the default name)}: resolved, checked and hashed like top-level components.
    nested: ClassVar[Mapping[str, tuple[str, str]]] = {}
    # Parameters a base class gives every subclass without its `__init__` naming them, as
    # {parameter: (type hint, default)} (e.g. every dataset's `concept`): checked like the
    # others, set on the instance by the registry, and left out of a run's identity while
    # they hold their default.
    shared: ClassVar[Mapping[str, tuple[Any, Any]]] = {}

    @classmethod
    def check_contract(cls) -> None:
        """Refuse (`TypeError`, naming what changed) a class written to a plugin contract its
        kind can no longer call; the registry calls it when it registers or loads the class."""

    def get_params(self) -> dict[str, Any]:
        """The `__init__` parameters as stored on the instance (sklearn style); the shared ones
        are attributes too, left out here."""
        shared = shared_parameters(type(self))
        return {n: getattr(self, n) for n in parameters_of(type(self)) if n not in shared}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def nested_component(registry: Any, given: str | Mapping[str, Any] | None, default: str) -> Any:
    """An instance of the component a `nested` parameter names: a name, or {name, params}."""
    if given is None or isinstance(given, str):
        return registry.create(given or default)
    return registry.create(given.get("name") or default, **dict(given.get("params") or {}))
