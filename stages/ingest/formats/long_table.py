"""The plain long table: ``item_id, annotator_id, label[, created_at, batch, lead_time]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from stages.core.errors import DataError
from stages.core.label_set import check_writable
from stages.ingest.formats.common import Export, canonical, empty_gold
from stages.ingest.formats.csv_text import missing_columns, read_csv_strings, row_lines
from stages.ingest.formats.parquet_table import as_text, read_parquet_table

REQUIRED = ["item_id", "annotator_id", "label"]


def read_long_table(path: Path, options: dict[str, Any]) -> Export:
    """CSV (any column order, extra columns ignored) or Parquet."""
    with open(path, "rb") as handle:
        is_parquet = handle.read(4) == b"PAR1"
    if is_parquet:
        frame = read_parquet_table(path, "Parquet table")
        frame = frame.assign(**{name: as_text(frame[name]) for name in REQUIRED if name in frame})
        line = None
    else:
        frame = read_csv_strings(path)
        line = row_lines(path, len(frame))

    def record(row: int) -> str:  # rows count from 1 everywhere; a CSV names its line
        return f"line {line(row)}" if line else f"row {row + 1}"

    missing = [name for name in REQUIRED if name not in frame.columns]
    if missing:
        raise missing_columns(path, missing, list(frame.columns))
    for column in REQUIRED:
        values = frame[column].str.strip()
        empty = values.isna() | (values == "")
        if empty.any():
            row = int(empty.to_numpy().nonzero()[0][0])
            if (frame.loc[frame.index[row], list(REQUIRED)].fillna("").str.strip() == "").all():
                raise DataError(
                    path, record(row), "an empty row (a spreadsheet's, at the end?): delete it"
                )
            raise DataError(path, record(row), f"empty {column}: fill it in, or delete the row")
        check_writable(values, column.replace("_", " "), path, record)
        frame[column] = values
    if "created_at" in frame:
        created = frame["created_at"].astype("object").where(frame["created_at"].notna(), None)
        created = created.map(lambda value: value if value != "" else None)
    else:
        created = pd.Series([None] * len(frame), dtype="object")
    annotations = canonical(
        frame["item_id"], frame["annotator_id"], frame["label"], created, path, options["source"],
        record, frame.get("lead_time"),
    )  # fmt: skip
    return Export(annotations, empty_gold())
