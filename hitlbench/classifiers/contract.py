"""The plugin contract's changes to `Classifier`, and how a classifier written to an earlier
version is called as it was written, or refused when it loads (`core.component.CONTRACT`).

- **Contract 1**: `predict_proba(images)` and `predict(images)`; `explain(images)`.
- **Contract 2**: `predict_proba` and `predict` also take the keyword `items` (the
  dataset indices of the images, int64 [N]); `explain(images, *, target, cam, masks)`.
- **Contract 3** (current): no change to `Classifier` (oracles changed).

A class whose `predict_proba` or `predict` takes no `items` is a contract-1 classifier: those
methods are wrapped once, when the class is made, to drop `items`, so every caller can pass
it. A class whose `explain` takes no `target` is refused when it is registered or loaded,
with a `TypeError` naming the change: its map would silently ignore the class and the map a
run asks for. A plugin so refused is listed by `hitlbench list` as a failed plugin, and the
other classes of its module still load.
"""

from __future__ import annotations

from ..core.contract import accepts, adapt_methods

ITEMS_METHODS = ("predict_proba", "predict")
EXPLAIN_KEYWORDS = ("target", "cam", "masks")


def adapt_to_contract(cls: type) -> int:
    """The contract `cls` (a Classifier subclass) is written to, after wrapping its own
    contract-1 `predict_proba` and `predict` to drop `items`."""
    return adapt_methods(cls, ITEMS_METHODS, "items", written_to=1)


def refuse_old_explain(cls: type) -> None:
    """Raise `TypeError` naming the change when `cls.explain` takes no `target` (contract 1)."""
    if not accepts(cls.explain, "target"):
        raise TypeError(
            f"{cls.__qualname__}.explain takes no `target`: it is written to classifier "
            "contract 1, where explain(images) drew the predicted class's Grad-CAM; since contract "
            f"2 hitlbench calls explain(images, *, {', '.join(EXPLAIN_KEYWORDS)})"
        )
