"""Test-split scores and the tables people read: metrics dict, confusion rows, Markdown."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def score(actual: pd.Series, predicted: pd.Series, classes: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 and per-class precision/recall/F1/support."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    if len(actual) == 0:
        return {"items": 0, "accuracy": float("nan"), "macro_f1": float("nan"), "per_class": {}}
    present = [label for label in classes if label in set(actual) | set(predicted)]
    precision, recall, f1, support = precision_recall_fscore_support(
        actual, predicted, labels=classes, zero_division=0
    )
    return {
        "items": len(actual),
        "accuracy": float(accuracy_score(actual, predicted)),
        # Macro over the classes that occur, so a small subset (gold) is not dragged to zero.
        "macro_f1": float(
            f1_score(actual, predicted, labels=present, average="macro", zero_division=0)
        ),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(classes)
        },
    }


def confusion_rows(item_ids: pd.Series, actual: pd.Series, predicted: pd.Series) -> pd.DataFrame:
    """One row per test item, the shape DVC's confusion template reads."""
    return pd.DataFrame(
        {
            "item_id": item_ids.to_numpy(),
            "actual": actual.to_numpy(),
            "predicted": predicted.to_numpy(),
        }
    )


def markdown_report(
    metrics: dict[str, Any], rows: pd.DataFrame, classes: list[str], top: int
) -> str:
    """A short report: headline scores, per-class table, most frequent mistakes."""
    lines = [
        "# Evaluation",
        "",
        f"Test split: {metrics['test']['items']} items, scored against the merged labels.",
        "",
        "| metric | test | gold items in test |",
        "|---|---|---|",
    ]
    for key in ("accuracy", "macro_f1"):
        lines.append(f"| {key} | {_fmt(metrics['test'][key])} | {_fmt(metrics['gold'][key])} |")
    lines += ["", "| class | precision | recall | f1 | support |", "|---|---|---|---|---|"]
    for label in classes:
        row = metrics["test"]["per_class"].get(label)
        if row:
            scores = " | ".join(_fmt(row[key]) for key in ("precision", "recall", "f1"))
            lines.append(f"| {label} | {scores} | {row['support']} |")
    mistakes = rows[rows["actual"] != rows["predicted"]]
    counts = (
        mistakes.groupby(["actual", "predicted"]).size().sort_values(ascending=False, kind="stable")
    )
    lines += ["", "Most frequent mistakes:", "", "| actual | predicted | items |", "|---|---|---|"]
    lines += [f"| {a} | {p} | {n} |" for (a, p), n in counts.head(top).items()]
    return "\n".join(lines) + "\n"


def _fmt(value: float) -> str:
    return "n/a" if value is None or np.isnan(value) else f"{value:.4f}"
