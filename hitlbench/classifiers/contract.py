"""The plugin contract's changes to `Classifier`, and how a classifier written to an earlier
version is called as it was written, or refused when it loads (`core.component.CONTRACT`).

- **Contract 1**: `predict_proba(images)` and `predict(images)`; `explain(images)`.
- **Contract 2** (current): `predict_proba` and `predict` also take the keyword `items` (the
  dataset indices of the images, int64 [N]); `explain(images, *, target, cam, masks)`.

A class whose `predict_proba` or `predict` takes no `items` is a contract-1 classifier: those
methods are wrapped once, when the class is made, to drop `items`, so every caller can pass
it. A class whose `explain` takes no `target` is refused when it is registered or loaded,
with a `TypeError` naming the change: its map would silently ignore the class and the map a
run asks for. A plugin so refused is listed by `hitlbench list` as a failed plugin, and the
other classes of its module still load.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from ..core.component import CONTRACT

ITEMS_METHODS = ("predict_proba", "predict")
EXPLAIN_KEYWORDS = ("target", "cam", "masks")


def accepts(method: Callable[..., Any], keyword: str) -> bool:
    """Whether `method` can be called with `keyword=...` (named, or through **kwargs)."""
    params = inspect.signature(method).parameters.values()
    return any(p.name == keyword or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def _dropping_items(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def called_as_written(self, images, *, items=None):  # noqa: ARG001 - contract 1 has none
        return method(self, images)

    called_as_written.written_to = 1
    return called_as_written


def adapt_to_contract(cls: type) -> int:
    """The contract `cls` (a Classifier subclass) is written to, after wrapping its own
    contract-1 `predict_proba` and `predict` to drop `items`."""
    own = vars(cls)
    for name in ITEMS_METHODS:
        method = own.get(name)
        if method is not None and not accepts(method, "items"):
            setattr(cls, name, _dropping_items(method))
    written = [getattr(getattr(cls, name), "written_to", CONTRACT) for name in ITEMS_METHODS]
    return min(written)


def refuse_old_explain(cls: type) -> None:
    """Raise `TypeError` naming the change when `cls.explain` takes no `target` (contract 1)."""
    if not accepts(cls.explain, "target"):
        raise TypeError(
            f"{cls.__qualname__}.explain takes no `target`: it is written to classifier "
            f"contract 1, where explain(images) drew the predicted class's Grad-CAM; contract "
            f"{CONTRACT} calls explain(images, *, {', '.join(EXPLAIN_KEYWORDS)})"
        )
