"""What every reader returns, and the helpers they share."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stages.core.errors import DataError
from stages.core.label_set import check_writable
from stages.core.reading import read_json
from stages.ingest.formats.seconds import seconds_spent

# lead_time: the seconds the annotator spent on the judgment, where the tool records it
# (Label Studio, SageMaker): a signal for checks on rushed work; missing elsewhere.
ANNOTATION_COLUMNS = ["item_id", "annotator_id", "label", "source", "created_at", "lead_time"]
GOLD_COLUMNS = ["item_id", "label"]


@dataclass(frozen=True)
class Export:
    """One export file's judgments, and the gold labels it marks (Label Studio ground truth)."""

    annotations: pd.DataFrame
    gold: pd.DataFrame
    skipped: dict[str, int] = field(default_factory=dict)  # records left out, by reason
    warnings: list[str] = field(default_factory=list)  # one line each: file, record, reason
    formats: dict[str, str] = field(default_factory=dict)  # source file -> format read


def empty_gold() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="string") for name in GOLD_COLUMNS})


class Rows:
    """Collects judgments record by record, then builds the canonical table in one go."""

    def __init__(self, path: Path, source: str) -> None:
        self.path, self.source = path, source
        self.items: list[str] = []
        self.annotators: list[str] = []
        self.labels: list[str] = []
        self.created: list[Any] = []
        self.lead_times: list[Any] = []
        self.records: list[str] = []
        self.gold: dict[str, str] = {}
        self.skipped: dict[str, int] = {}
        self.outside: list[str] = []  # records whose data names a file outside the project
        self.tool_ids: list[str] = []  # records whose item id is the tool's own id
        self.root = Path.cwd().resolve()

    def item_id(self, record: str, found: Any, tool_id: Any, options: dict[str, Any]) -> Any:
        """The item id under ``item_key``; the tool's own id (Label Studio task id, Prodigy
        input hash) only with ``tool_id_fallback``, and then counted and warned about: never
        silently, since those ids may name other items of the delivery."""
        if found not in (None, ""):
            return found
        key = options.get("item_key") or "item_id"
        if not options.get("tool_id_fallback"):
            raise DataError(
                self.path,
                record,
                f"no '{key}' (data.annotations.item_key) in the record; set item_key to the key "
                "that holds your item id, or tool_id_fallback: true to use the tool's own id",
            )
        self.tool_ids.append(record)
        return tool_id

    def skip(self, reason: str) -> None:
        """A record that holds no judgment (cancelled, ignored, ...): counted, never silent."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def check_data(self, record: str, data: dict[str, Any]) -> None:
        """Note task data that names a local file outside the project: it is never opened
        (labels need no media), but a delivery that points there deserves a look."""
        for key, value in data.items():
            if isinstance(value, str) and ("/" in value or "\\" in value or value[:1] == "~"):
                target = outside_project(value, self.root)
                if target is not None:
                    self.outside.append(f"{record}: data.{key} names {target!r}")

    def add(
        self,
        record: str,
        item: Any,
        annotator: Any,
        label: Any,
        created: Any = None,
        lead_time: Any = None,
    ) -> None:
        """Kept as given; :meth:`export` checks whole columns at once (millions of rows)."""
        self.items.append(item)
        self.annotators.append(annotator)
        self.labels.append(label)
        self.created.append(created)
        self.lead_times.append(lead_time)
        self.records.append(record)

    def add_gold(self, record: str, item: Any, label: Any) -> None:
        item_id = text_field(item, "item id", self.path, record)
        value = text_field(label, "label", self.path, record)
        if self.gold.get(item_id, value) != value:
            raise DataError(
                self.path, record, f"two different ground-truth labels for item {item_id}"
            )
        self.gold[item_id] = value

    def export(self) -> Export:
        annotations = canonical(
            self._text_column(self.items, "item id"),
            self._text_column(self.annotators, "annotator id"),
            self._text_column(self.labels, "label"),
            pd.Series(self.created, dtype="object"),
            self.path,
            self.source,
            self.records,
            pd.Series(self.lead_times, dtype="object"),
        )
        gold = pd.DataFrame(
            {"item_id": list(self.gold), "label": list(self.gold.values())}, dtype="string"
        )
        warnings = []
        if self.outside:
            more = f" (and {len(self.outside) - 1} more records)" if len(self.outside) > 1 else ""
            warnings.append(
                f"{self.path}: {self.outside[0]}, a file outside the project{more}; "
                "it is not read (labels need no media), check where the export came from"
            )
        if self.tool_ids:
            warnings.append(
                f"{self.path}: {len(self.tool_ids)} record(s) without an item id (first: "
                f"{self.tool_ids[0]}) use the tool's own id (data.annotations.tool_id_fallback)"
            )
        return Export(
            annotations, gold if len(gold) else empty_gold(), dict(self.skipped), warnings
        )

    def _text_column(self, values: list[Any], what: str) -> pd.Series:
        """``text_field`` over a column: strings are trimmed in bulk, anything else one by one."""
        values = [
            value if type(value) is str else text_field(value, what, self.path, self.records[row])
            for row, value in enumerate(values)
        ]
        check_writable(pd.Series(values, dtype=object), what, self.path, self.records.__getitem__)
        column = pd.Series(values, dtype="string").str.strip()
        empty = (column == "").to_numpy(dtype=bool, na_value=False)
        if empty.any():
            record = self.records[int(empty.argmax())]
            raise DataError(self.path, record, f"empty {what}: give one, or remove the record")
        return column


def outside_project(value: str, root: Path | None = None) -> str | None:
    """The local path ``value`` names when it lies outside ``root`` (default: the working
    folder, the project root for every stage), else None.

    URLs (``http:``, ``s3:``...) and Label Studio's own ``/data/upload/`` and
    ``/data/local-files/`` links are paths on the labeling server, not on this machine.
    """
    import os

    text = value.strip()
    if text.startswith("file://"):
        text = text[len("file://") :]
    elif "://" in text or text.startswith(("/data/upload/", "/data/local-files/")):
        return None
    windows = len(text) > 2 and text[1] == ":" and text[2] in "\\/"
    looks_local = text.startswith(("/", "~", "\\")) or windows or ".." in text.replace("\\", "/")
    if not looks_local or "\n" in text:
        return None
    root = root or Path.cwd().resolve()
    if windows:
        return text
    target = Path(os.path.normpath(root / os.path.expanduser(text.replace("\\", "/"))))
    return None if target.is_relative_to(root) else text


def text_field(value: Any, what: str, path: Path, record: str) -> str:
    """A non-empty string id or label; numbers are written as integers where they are ones."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if (
        value is None
        or isinstance(value, bool | dict | list)
        or (isinstance(value, float) and not math.isfinite(value))  # NaN, Infinity: no id
    ):
        reason = f"missing or invalid {what}: {value!r}; give one, or remove the record"
        raise DataError(path, record, reason)
    text = str(value).strip()
    if not text:
        raise DataError(path, record, f"empty {what}: give one, or remove the record")
    return text


def canonical(
    items: pd.Series,
    annotators: pd.Series,
    labels: pd.Series,
    created: pd.Series,
    path: Path,
    source: str,
    records: list[str] | Callable[[int], str] | None = None,
    lead_times: pd.Series | None = None,
) -> pd.DataFrame:
    """The canonical annotations table; ``created`` may hold ISO strings, unix seconds or None,
    ``lead_times`` seconds (numbers or numeric text) or None."""
    created = created.reset_index(drop=True).infer_objects()
    if created.isna().all():
        created_at = pd.Series(pd.NaT, index=created.index, dtype="datetime64[ms, UTC]")
        unparsed = pd.Series(False, index=created.index)
    elif pd.api.types.is_numeric_dtype(created):  # unix seconds (Prodigy)
        created_at = pd.to_datetime(created, unit="s", utc=True, errors="coerce")
        unparsed = created.notna() & created_at.isna()  # out of range: before 1677, after 2262
    else:
        strings = created.astype("string").str.strip()
        created_at = pd.to_datetime(strings, utc=True, errors="coerce", format="ISO8601")
        unparsed = strings.notna() & (strings != "") & created_at.isna()
    if unparsed.any():
        row = int(unparsed.to_numpy().nonzero()[0][0])
        record = _record(records, row)
        value = created[row].item() if isinstance(created[row], np.generic) else created[row]
        raise DataError(path, record, f"unreadable created_at {value!r}")
    frame = pd.DataFrame(
        {
            "item_id": items.astype("string").reset_index(drop=True),
            "annotator_id": annotators.astype("string").reset_index(drop=True),
            "label": labels.astype("string").reset_index(drop=True),
            "source": pd.Series([source] * len(items), dtype="string"),
            "created_at": created_at.astype("datetime64[ms, UTC]"),
            "lead_time": seconds_spent(
                lead_times, len(items), path, lambda row: _record(records, row)
            ),
        }
    )
    return frame[ANNOTATION_COLUMNS]


def _record(records: list[str] | Callable[[int], str] | None, row: int) -> str:
    """How an error names a row: the reader's record names, or its rule for them."""
    if records is None:
        return f"record {row + 1}"
    return records(row) if callable(records) else records[row]


def load_json(path: Path) -> Any:
    """An export file's JSON (core.reading.read_json, saying what the file was meant to be)."""
    return read_json(path, too_deep="JSON nested too deeply to be an export")
