"""The next annotation round: uncertain items as Label Studio import tasks.

Each task carries the current best label as a prediction, which Label Studio shows as a
pre-annotation, so annotators confirm or correct it instead of starting from nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def select(labels: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:
    """Non-gold items with low confidence, too few judgments, no label, or a label that no
    annotator chose (the method overruled them all), least sure first."""
    min_confidence = float(options.get("min_confidence", 0.8))
    min_annotations = int(options.get("min_annotations", 2))
    uncertain = (
        labels["label"].isna()
        | (labels["confidence"].fillna(0.0) < min_confidence)
        | (labels["n_annotations"] < min_annotations)
        | (labels["agreement"] == 0)
    ) & ~labels["is_gold"]
    chosen = labels[uncertain].copy()
    chosen["_order"] = chosen["confidence"].fillna(-1.0)
    chosen = chosen.sort_values(["_order", "item_id"], kind="stable").drop(columns="_order")
    limit = options.get("max_tasks")
    return chosen.head(int(limit)) if limit else chosen


def label_studio_tasks(
    chosen: pd.DataFrame,
    item_data: pd.DataFrame | None,
    options: dict[str, Any],
    model_version: str,
) -> list[dict[str, Any]]:
    """Label Studio import format: ``[{"data": {...}, "predictions": [...]}]``.

    ``item_data`` (item_id plus text columns) fills each task's ``data``; the item id is kept
    under ``item_key`` so the next export maps back to the same item.
    """
    item_key = options.get("item_key") or "item_id"
    from_name = options.get("from_name") or "label"
    to_name = options.get("to_name") or "text"
    extra: dict[str, dict[str, Any]] = {}
    if item_data is not None and len(item_data):
        columns = [c for c in item_data.columns if c != "item_id"]
        wanted = item_data[item_data["item_id"].isin(chosen["item_id"])]  # only the tasks' items
        indexed = wanted.set_index("item_id")[columns]
        extra = {str(k): {c: _plain(v) for c, v in row.items()} for k, row in indexed.iterrows()}
    tasks = []
    for row in chosen.itertuples(index=False):
        data = {item_key: str(row.item_id), **extra.get(str(row.item_id), {})}
        task: dict[str, Any] = {"data": data}
        if isinstance(row.label, str):
            task["predictions"] = [
                {
                    "model_version": model_version,
                    "score": round(float(row.confidence), 6),
                    "result": [
                        {
                            "from_name": from_name,
                            "to_name": to_name,
                            "type": "choices",
                            "value": {"choices": [row.label]},
                        }
                    ],
                }
            ]
        tasks.append(task)
    return tasks


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return None if value is pd.NA else value
