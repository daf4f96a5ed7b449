"""The example-image figure of explanation feedback: each input beside its Grad-CAM per method."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..core.storage import canonical_json
from ..harness.records import CEILING, class_name, method_of, setting_of, setting_text

Record = Mapping[str, Any]


def _last_examples(record: Record) -> Mapping[str, Any] | None:
    """The Grad-CAM examples kept in the record's last round, if any."""
    return record["rounds"][-1].get("cam_examples") if record["rounds"] else None


def has_cam_examples(records: Sequence[Record]) -> bool:
    """Whether any record kept Grad-CAM examples in its last round."""
    return any(_last_examples(r) is not None for r in records)


def _shown(records: Sequence[Record]) -> dict[str, dict[str, Mapping[str, Any]]]:
    """The last round's examples of the lowest seed, by canonical setting, then by method."""
    chosen: dict[str, dict[str, Mapping[str, Any]]] = {}
    for r in sorted(records, key=lambda r: r["spec"]["seed"]):
        examples = _last_examples(r)
        if method_of(r) != CEILING and examples is not None:
            named = {
                "true_names": [class_name(r, int(c)) for c in examples["labels"]],
                "predicted_names": [class_name(r, int(c)) for c in examples["predicted"]],
            }
            by_method = chosen.setdefault(canonical_json(setting_of(r)), {})
            by_method.setdefault(method_of(r), {**examples, **named})
    return {key: dict(sorted(by_method.items())) for key, by_method in sorted(chosen.items())}


def cam_figure(records: Sequence[Record], title: str, baseline: str | None = None) -> Figure:
    """Rows: the examples of each setting; columns: the input, then the Grad-CAM of the predicted
    class over the input, one column per method (the lowest seed's run, after its last round)."""
    shown = _shown(records)
    methods = sorted({m for by_method in shown.values() for m in by_method})
    if baseline in methods:
        methods = [baseline, *(m for m in methods if m != baseline)]
    rows = [(key, k) for key, by_method in shown.items()
            for k in range(len(next(iter(by_method.values()))["items"]))]  # fmt: skip
    fig = Figure(figsize=(1.7 * (len(methods) + 1), 1.8 * len(rows) + 0.6), layout="constrained")
    axes = fig.subplots(len(rows), len(methods) + 1, squeeze=False)
    for i, (key, k) in enumerate(rows):
        by_method = shown[key]
        first = next(iter(by_method.values()))
        image = np.asarray(first["image"][k], float) / 255.0
        axes[i, 0].imshow(image, cmap="gray", vmin=0, vmax=1)
        setting = setting_text(json.loads(key))
        axes[i, 0].set_ylabel(f"{setting}\nclass {first['true_names'][k]}", fontsize="x-small")
        for j, method in enumerate(methods, start=1):
            ax = axes[i, j]
            ex = by_method.get(method)
            if ex is not None:
                ax.imshow(image, cmap="gray", vmin=0, vmax=1)
                cam = np.asarray(ex["cam"][k], float) / 255.0
                ax.imshow(cam, cmap="inferno", vmin=0, vmax=1, alpha=0.6)
                ax.set_xlabel(f"predicted {ex['predicted_names'][k]}", fontsize="x-small")
        for j in range(len(methods) + 1):
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
    for j, name in enumerate(["input", *methods]):
        axes[0, j].set_title(name, fontsize="small")
    fig.suptitle(f"{title}: Grad-CAM of the predicted class")
    return fig
