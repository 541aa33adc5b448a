"""The next annotation round: uncertain items as Label Studio import tasks.

Each task carries the current best label as a prediction, which Label Studio shows as a
pre-annotation, so annotators confirm or correct it instead of starting from nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd

from stages.core.params import complete, default
from stages.truth.labelling_config import check_data, task_shape

# One model version for label-merge's and train's tasks: Label Studio's labelling queue shows
# only the predictions of its project's model version, the first one imported.
MODEL_VERSION = "dvc-template"


def select(labels: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:
    """Non-gold items with low confidence, too few judgments, no label, or a label that no
    annotator chose (the method overruled them all), least sure first."""
    options = _relabel_options(options)
    min_confidence, min_annotations = options["min_confidence"], options["min_annotations"]
    uncertain = (
        labels["label"].isna()
        | (labels["confidence"].fillna(0.0) < min_confidence)
        | (labels["n_annotations"] < min_annotations)
        | (labels["agreement"] == 0)
    ) & ~labels["is_gold"]
    chosen = labels[uncertain].copy()
    chosen["_order"] = chosen["confidence"].fillna(-1.0)
    chosen = chosen.sort_values(["_order", "item_id"], kind="stable").drop(columns="_order")
    limit = options["max_tasks"]
    return chosen if limit is None else chosen.head(limit)


def label_studio_tasks(
    chosen: pd.DataFrame,
    item_data: pd.DataFrame | None,
    options: dict[str, Any],
    labels: list[str],
) -> list[dict[str, Any]]:
    """Label Studio import format: ``[{"data": {...}, "predictions": [...]}]``.

    ``item_data`` (item_id plus text columns) fills each task's ``data``: the columns the
    labeling config reads (``label_merge.relabel.config``), or every one without a config. The
    item id is kept under ``item_key`` so the next export maps back to the same item; names
    and choice spellings are the config's (``labels``, the label set, must all be choices).
    """
    item_key = options.get("item_key") or default("data.annotations.item_key")
    options = _relabel_options(options)
    shape = task_shape(options, labels)
    available = [] if item_data is None else [c for c in item_data.columns if c != "item_id"]
    if item_data is not None:  # standalone runs have no items: their tasks carry the id only
        check_data(options["config"], shape, [item_key, *available])  # (fields_beyond_the_id)
    from_name, to_name = shape.from_name, shape.to_name
    extra: dict[str, dict[str, Any]] = {}
    if item_data is not None and len(item_data):
        keys = shape.data_keys
        columns = available if keys is None else [c for c in available if c in keys]
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
                    "model_version": MODEL_VERSION,
                    "score": round(float(row.confidence), 6),
                    "result": [
                        {
                            "from_name": from_name,
                            "to_name": to_name,
                            "type": "choices",
                            "value": {"choices": [shape.choice(row.label)]},
                        }
                    ],
                }
            ]
        tasks.append(task)
    return tasks


def fields_beyond_the_id(options: dict[str, Any], labels: list[str]) -> list[str]:
    """The item fields the labelling config shows besides the id: a standalone run, which
    has no items table, cannot fill them, and Label Studio refuses a task without them."""
    item_key = options.get("item_key") or default("data.annotations.item_key")
    shape = task_shape(_relabel_options(options), labels)
    return [key for key in shape.data_keys or () if key != item_key]


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_MEDIA = ("image/", "audio/", "video/")  # data: URLs Label Studio shows as media


def unsafe_fields(tasks: list[dict[str, Any]], path: object) -> list[str]:
    """Warnings for task fields that Label Studio would open as written and that no item
    should hold: a script URL (javascript:, vbscript:, data: other than media), a local
    file (file:), or a path climbing out of its folder (``..``). Items come from outside."""
    found = []
    for task in tasks:
        for key, value in sorted(task["data"].items()):
            if not isinstance(value, str):
                continue
            # As a browser reads a URL: tabs and line breaks dropped, leading controls and
            # spaces stripped, %-escapes decoded. A value with a space inside is text.
            url = re.sub(r"[\t\n\r]", "", value).lstrip("".join(map(chr, range(33))))
            if " " in url.strip():
                continue
            scheme = _SCHEME.match(url)
            name = scheme.group(1).lower() if scheme else ""
            data_url = name == "data" and not url[scheme.end() :].lstrip().startswith(_MEDIA)
            if name in ("javascript", "vbscript", "file") or data_url:
                why = f"a {name}: URL"
            elif re.search(r"(^|[/\\=])\.\.([/\\]|$)", unquote(url)):
                why = "a path out of its folder (..)"
            else:
                continue
            item = next(iter(task["data"].values()))
            found.append(f"item {item!r}: data.{key} is {why}, {value[:80]!r}")
    if not found:
        return []
    head = (f"{path}: {len(found)} task field(s) that Label Studio would open as written; "
            "check these items (first: " + "; ".join(found[:3]) + ")")  # fmt: skip
    return [head]


def _plain(value: Any) -> Any:
    """A cell as JSON takes it: an empty one (NaN, NA, NaT) is null, never the text NaN."""
    if not isinstance(value, list | dict) and pd.isna(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _relabel_options(options: dict[str, Any]) -> dict[str, Any]:
    """``label_merge.relabel`` completed; ``item_key`` (from data.annotations) rides along."""
    own = {key: value for key, value in options.items() if key != "item_key"}
    return complete("label_merge.relabel", own)


def task_items(path: Path, item_key: str) -> frozenset[str]:
    """The item ids of a Label Studio tasks file this project wrote (none without the file)."""
    from stages.core.reading import read_json

    tasks = read_json(path) if path.exists() else []
    return frozenset(
        str(task["data"][item_key])
        for task in (tasks if isinstance(tasks, list) else [])
        if isinstance(task, dict)
        and isinstance(task.get("data"), dict)
        and item_key in task["data"]
    )
