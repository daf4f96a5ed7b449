"""A run's per-round table, as `hitlbench run` and `hitlbench report` print it and the static
site shows it: one row per round of the record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tabulate import tabulate


def round_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One {column: value} per round row of a record; a column only some rounds have (e.g.
    `unsure`) is missing from the others, as tabulate's `headers="keys"` expects."""
    table = []
    for r in rows:
        metrics = ", ".join(
            f"{k}={v:.3f}" for k, v in r["metrics"].items() if k not in ("accuracy", "macro_f1")
        )
        oracle = r.get("oracle", {})
        table.append(
            {
                "round": r["round"],
                "labeled": r["n_labeled"],
                "from scratch": r["labels_drawn"],
                "corrections": r["corrections"],
                "corr. cum": r["corrections_cum"],
                **({"missed": r["missed_corrections"]} if "missed_corrections" in r else {}),
                **({"label errors": r["label_errors"]} if "label_errors" in r else {}),
                **({"unsure": r["unsure"]} if r.get("unsure_cum") else {}),
                **({"agreement": _maybe(oracle["agreement"])} if "agreement" in oracle else {}),
                **({"dropped": oracle["dropped"]} if "dropped" in oracle else {}),
                "effort": " ".join(f"{k}:{v}" for k, v in r["effort"].items()),
                "effort s cum": round(r["effort_s_cum"], 1),
                "accuracy": round(r["metrics"]["accuracy"], 4),
                "macro F1": round(r["metrics"]["macro_f1"], 4),
                **({"other metrics": metrics} if metrics else {}),
                "fit s": round(r["time_s"].get("fit", 0.0), 2),
            }
        )
    return table


def round_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The per-round table printed after a run and by `hitlbench report` (GitHub markdown)."""
    return tabulate(round_rows(rows), headers="keys", tablefmt="github")


def _maybe(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
