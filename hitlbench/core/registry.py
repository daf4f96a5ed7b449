"""Name -> class registries with aliases, fnmatch listing, origins and entry-point plugins."""

from __future__ import annotations

import difflib
import fnmatch
import importlib.metadata
import inspect
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..types import HitlbenchError
from .params import check_params, init_parameters, shared_parameters

T = TypeVar("T")

PLUGIN_SWITCH = "HITLBENCH_DISABLE_PLUGINS"


class PluginWarning(RuntimeWarning):
    """A plugin entry point that failed to load; the command line prints it as one line."""


class UnknownComponentError(KeyError, HitlbenchError):
    """An unknown registered name; the message lists what exists and the closest matches."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass
class _Entry:
    name: str
    cls: type | None
    origin: str
    entry_point: importlib.metadata.EntryPoint | None = None


@dataclass(frozen=True)
class PluginFailure:
    """A plugin entry point that could not be loaded, kept for `hitlbench list`."""

    kind: str
    name: str
    target: str
    error: str


def _origin_of(cls: type) -> str:
    module = inspect.getmodule(cls)
    if module is not None and module.__name__.split(".")[0] == "hitlbench":
        return "builtin"
    try:
        return f"{inspect.getsourcefile(cls)}:{inspect.getsourcelines(cls)[1]}"
    except (OSError, TypeError):
        return f"{cls.__module__}.{cls.__qualname__}"


class Registry(Generic[T]):
    """A registry of one kind of component, e.g. `Registry("sampler", Sampler)`."""

    def __init__(self, kind: str, base: type[T], group: str):
        self.kind = kind
        self.base = base
        self.group = group
        self._entries: dict[str, _Entry] = {}
        self._aliases: dict[str, str] = {}
        self._plugins_scanned = False
        self.failures: list[PluginFailure] = []

    # -- registration -------------------------------------------------------------------------
    def register(self, name: str, *aliases: str) -> Callable[[type[T]], type[T]]:
        """Class decorator: register under `name` and optional `aliases`."""

        def decorator(cls: type[T]) -> type[T]:
            self._check_class(name, cls)
            self._add(_Entry(name, cls, _origin_of(cls)), aliases)
            cls.registered_name = name
            return cls

        return decorator

    def _check_class(self, name: str, cls: object) -> None:
        if not (inspect.isclass(cls) and issubclass(cls, self.base)):
            raise TypeError(
                f"{self.kind} {name!r}: {cls!r} is not a subclass of {self.base.__name__}"
            )
        check_contract = getattr(cls, "check_contract", None)  # Component's, where it is one
        if check_contract is not None:
            check_contract()

    def _add(self, entry: _Entry, aliases: tuple[str, ...] = ()) -> None:
        for key in (entry.name, *aliases):
            if key in self._entries or key in self._aliases:
                raise ValueError(f"{self.kind} name {key!r} is already registered")
        self._entries[entry.name] = entry
        for alias in aliases:
            self._aliases[alias] = entry.name

    # -- plugins ------------------------------------------------------------------------------
    def _scan_plugins(self) -> None:
        if self._plugins_scanned:
            return
        self._plugins_scanned = True
        if os.environ.get(PLUGIN_SWITCH, "").strip() not in ("", "0"):
            return
        for ep in importlib.metadata.entry_points(group=self.group):
            if ep.name in self._entries or ep.name in self._aliases:
                self._fail(ep, f"name {ep.name!r} is already registered")
                continue
            dist = getattr(ep, "dist", None)
            origin = f"{dist.name}=={dist.version}" if dist is not None else ep.value
            self._entries[ep.name] = _Entry(ep.name, None, origin, ep)

    def _fail(self, ep: importlib.metadata.EntryPoint, error: str) -> None:
        failure = PluginFailure(self.kind, ep.name, ep.value, error)
        self.failures.append(failure)
        warnings.warn(
            f"{self.kind} plugin {ep.name!r} ({ep.value}) failed to load: {error}",
            PluginWarning,
            stacklevel=3,
        )

    def _load(self, entry: _Entry) -> type[T] | None:
        if entry.cls is None and entry.entry_point is not None:
            ep = entry.entry_point
            try:
                cls = ep.load()
                self._check_class(entry.name, cls)
            except Exception as exc:  # a broken plugin must never break the rest
                del self._entries[entry.name]
                self._fail(ep, f"{type(exc).__name__}: {exc}")
                return None
            entry.cls = cls
            cls.registered_name = entry.name
        return entry.cls

    # -- lookup -------------------------------------------------------------------------------
    def canonical(self, name: str) -> str:
        """The registered name behind `name` (an alias or the name itself)."""
        self._scan_plugins()
        name = self._aliases.get(name, name)
        entry = self._entries.get(name)
        if entry is None or self._load(entry) is None:
            raise UnknownComponentError(self._unknown_message(name))
        return name

    def _unknown_message(self, name: str) -> str:
        available = self.available()
        known = sorted([*available, *(a for a, n in self._aliases.items() if n in available)])
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        return f"unknown {self.kind} {name!r}. Available: {', '.join(available)}.{hint}"

    def get(self, name: str) -> type[T]:
        return self._entries[self.canonical(name)].cls

    def __contains__(self, name: str) -> bool:
        try:
            self.canonical(name)
        except UnknownComponentError:
            return False
        return True

    def create(self, name: str, **params: Any) -> T:
        """Instantiate `name`; None values are dropped, unknown parameters are refused and the
        others checked against their type hints (`hitlbench.core.params`) before `__init__` runs."""
        cls = self.get(name)
        params = {k: v for k, v in params.items() if v is not None}
        accepted = parameters_of(cls)
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            raise HitlbenchError(
                f"{self.kind} {name!r} has no parameter {', '.join(map(repr, unknown))}; "
                f"it accepts: {', '.join(accepted) or 'none'}"
            )
        check_params(cls, params, f"{self.kind} {name!r}")
        shared = {k: params.pop(k, default) for k, (_, default) in shared_parameters(cls).items()}
        try:
            instance = cls(**params)
        except (TypeError, ValueError) as exc:
            raise HitlbenchError(f"{self.kind} {name!r}: {exc}") from exc
        for key, value in shared.items():
            setattr(instance, key, value)
        return instance

    def list(self, pattern: str = "*") -> list[str]:
        """Registered names (not aliases) matching an fnmatch pattern, sorted."""
        self._scan_plugins()
        return sorted(n for n in self._entries if fnmatch.fnmatchcase(n, pattern))

    def available(self, pattern: str = "*") -> list[str]:
        """`list(pattern)` without the plugins that fail to load (loading every plugin listed)."""
        return [n for n in self.list(pattern) if self._load(self._entries[n]) is not None]

    def aliases(self, name: str) -> list[str]:
        name = self.canonical(name)
        return sorted(a for a, target in self._aliases.items() if target == name)

    def origin(self, name: str) -> str:
        """'builtin', 'dist==version' for a plugin, or 'file:line' for a class defined elsewhere."""
        return self._entries[self.canonical(name)].origin

    def describe(self, name: str) -> str:
        """The first line of the class docstring."""
        doc = inspect.getdoc(self.get(name)) or ""
        return doc.strip().splitlines()[0] if doc.strip() else ""


def parameters_of(cls: type) -> dict[str, Any]:
    """`__init__` keyword parameters of a component class with their defaults (required: None)."""
    return {
        p.name: (None if p.default is inspect.Parameter.empty else p.default)
        for p in init_parameters(cls)
    }
