"""Readers for annotation exports, each returning the canonical long annotations table.

Supported here: Label Studio full JSON export and the plain long table (CSV or Parquet).
The format is detected from the file's content, not its name; params can force one.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from stages.errors import DataError

ANNOTATION_COLUMNS = ["item_id", "annotator_id", "label", "source", "created_at"]
LONG_REQUIRED = ["item_id", "annotator_id", "label"]
FORMATS = ("labelstudio", "long")


def detect_format(path: Path) -> str:
    """Name the export format from the first bytes of the file."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"PAR1"):
        return "long"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"["):
        return "labelstudio"
    if not text:
        raise DataError(path, None, "empty file; remove it or export the batch again")
    first_line = text.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    header = {name.strip().strip('"') for name in next(csv.reader([first_line]))}
    if set(LONG_REQUIRED) <= header:
        return "long"
    raise DataError(
        path,
        "line 1",
        "unrecognised annotation format: expected a Label Studio JSON export or a table "
        f"with columns {', '.join(LONG_REQUIRED)}",
    )


def read_annotations(
    path: Path, fmt: str = "auto", options: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Read one export file into the canonical annotations table (unsorted)."""
    options = options or {}
    fmt = detect_format(path) if fmt == "auto" else fmt
    readers: dict[str, Callable[[Path, dict[str, Any]], pd.DataFrame]] = {
        "labelstudio": read_label_studio,
        "long": read_long_table,
    }
    if fmt not in readers:
        raise DataError(
            path, None, f"unknown format '{fmt}'; use one of auto, {', '.join(FORMATS)}"
        )
    return readers[fmt](path, options)


def read_long_table(path: Path, options: dict[str, Any]) -> pd.DataFrame:
    """``item_id, annotator_id, label[, created_at, ...]`` as CSV or Parquet."""
    if path.read_bytes()[:4] == b"PAR1":
        frame = pd.read_parquet(path)
        frame = frame.astype({name: "string" for name in LONG_REQUIRED if name in frame})
        first_record = 0
    else:
        try:
            frame = pd.read_csv(path, dtype="string", encoding="utf-8-sig", keep_default_na=False)
        except UnicodeDecodeError as error:
            raise DataError(path, None, f"not UTF-8 text ({error.reason})") from None
        except pd.errors.ParserError as error:
            raise DataError(path, None, f"malformed CSV ({error})".replace("\n", " ")) from None
        first_record = 2  # 1-based line of the first data row, after the header
    frame.columns = [str(name).strip() for name in frame.columns]
    missing = [name for name in LONG_REQUIRED if name not in frame.columns]
    if missing:
        raise DataError(path, "header", f"missing required column(s): {', '.join(missing)}")
    for column in LONG_REQUIRED:
        values = frame[column].str.strip()
        empty = values.isna() | (values == "")
        if empty.any():
            row = int(empty.to_numpy().nonzero()[0][0])
            record = f"line {row + first_record}" if first_record else f"row {row}"
            raise DataError(path, record, f"empty {column}")
        frame[column] = values
    created = frame["created_at"] if "created_at" in frame else pd.Series(pd.NA, index=frame.index)
    return _canonical(frame["item_id"], frame["annotator_id"], frame["label"], created, path)


def read_label_studio(path: Path, options: dict[str, Any]) -> pd.DataFrame:
    """Label Studio full JSON export: tasks with their annotations.

    Cancelled (skipped) annotations carry no label and are left out. ``completed_by`` is an
    int user id or an object with an email (the email is used when present). The item id is
    ``data[item_key]`` when the task has it, else the task id.
    """
    item_key = options.get("item_key", "item_id")
    from_name = options.get("from_name")
    try:
        with open(path, encoding="utf-8-sig") as handle:
            tasks = json.load(handle)
    except UnicodeDecodeError as error:
        raise DataError(path, None, f"not UTF-8 text ({error.reason})") from None
    except json.JSONDecodeError as error:
        raise DataError(path, f"line {error.lineno}", f"invalid JSON ({error.msg})") from None
    if not isinstance(tasks, list):
        raise DataError(path, None, "expected a JSON array of tasks (Label Studio full export)")
    items, annotators, labels, created = [], [], [], []
    for position, task in enumerate(tasks):
        record = (
            f"task {task.get('id', f'#{position}')}"
            if isinstance(task, dict)
            else f"task #{position}"
        )
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise DataError(path, record, "a task must be an object with a 'data' object")
        annotations = task.get("annotations")
        if not isinstance(annotations, list):
            raise DataError(path, record, "task has no 'annotations' array")
        item = task["data"].get(item_key, task.get("id"))
        if item is None or str(item).strip() == "":
            raise DataError(path, record, f"task has neither data.{item_key} nor an id")
        for annotation in annotations:
            if not isinstance(annotation, dict):
                raise DataError(path, record, "an annotation must be an object")
            if annotation.get("was_cancelled"):
                continue
            label = _choice_label(annotation.get("result"), from_name, path, record)
            if label is None:
                continue
            items.append(str(item).strip())
            annotators.append(_annotator(annotation.get("completed_by"), path, record))
            labels.append(label)
            created.append(annotation.get("created_at"))
    return _canonical(
        pd.Series(items, dtype="string"),
        pd.Series(annotators, dtype="string"),
        pd.Series(labels, dtype="string"),
        pd.Series(created, dtype="string"),
        path,
    )


def _annotator(completed_by: Any, path: Path, record: str) -> str:
    if isinstance(completed_by, dict):
        value = completed_by.get("email") or completed_by.get("id")
    else:
        value = completed_by
    if value is None or isinstance(value, bool) or str(value).strip() == "":
        raise DataError(path, record, "annotation has no completed_by annotator")
    return str(value).strip()


def _choice_label(result: Any, from_name: str | None, path: Path, record: str) -> str | None:
    """The single choice of a classification result, or None when nothing was chosen."""
    if not isinstance(result, list):
        raise DataError(path, record, "annotation 'result' must be an array")
    choices = [
        item
        for item in result
        if isinstance(item, dict)
        and item.get("type") == "choices"
        and (from_name is None or item.get("from_name") == from_name)
    ]
    if not choices:
        return None
    names = sorted({str(item.get("from_name")) for item in choices})
    if len(names) > 1:
        raise DataError(
            path, record, f"several choice controls ({', '.join(names)}); set from_name in params"
        )
    picked = choices[0].get("value", {}).get("choices")
    if not isinstance(picked, list) or len(picked) != 1:
        raise DataError(path, record, f"expected exactly one choice, got {picked!r}")
    return str(picked[0]).strip()


def _canonical(
    items: pd.Series, annotators: pd.Series, labels: pd.Series, created: pd.Series, path: Path
) -> pd.DataFrame:
    created = created.astype("string").reset_index(drop=True).str.strip()
    created_at = pd.to_datetime(created, utc=True, errors="coerce", format="ISO8601")
    unparsed = created.notna() & (created != "") & created_at.isna()
    if unparsed.any():
        row = int(unparsed.to_numpy().nonzero()[0][0])
        raise DataError(path, f"record {row + 1}", f"unreadable created_at {created[row]!r}")
    frame = pd.DataFrame(
        {
            "item_id": items.astype("string").reset_index(drop=True),
            "annotator_id": annotators.astype("string").reset_index(drop=True),
            "label": labels.astype("string").reset_index(drop=True),
            "source": pd.Series([path.name] * len(items), dtype="string"),
            "created_at": created_at.astype("datetime64[ms, UTC]"),
        }
    )
    return frame[ANNOTATION_COLUMNS]
