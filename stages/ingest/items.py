"""The items table a team delivers: read with its types, and checked for what would otherwise
go wrong later, silently or as a crash (a column the pipeline adds itself, an id pandas would
read as missing, an infinite value, a numeric column that one stray cell turns into text)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stages.core.errors import DataError
from stages.core.label_set import check_writable
from stages.ingest.formats.csv_text import (
    check_csv_shape,
    missing_columns,
    row_names,
    unreadable,
)
from stages.ingest.formats.parquet_table import as_text, read_parquet_table

# Columns the pipeline adds to items: the split (prepare) and the merged label's columns
# (truth.merge.LABEL_COLUMNS, which train joins on): an items column of that name would be
# replaced or would break the join (tests/test_items.py keeps the two lists in step).
# Scaling squares each value: beyond about 1.3e154 the square overflows a float and the model
# sees NaN. Below this, a column of a million such values still sums within range.
LARGEST_FEATURE = 1e150
RESERVED = ("split", "label", "confidence", "n_annotations", "agreement", "method", "is_gold")
# pandas' default missing-value spellings, for feature columns only: an id is text as written.
_MISSING = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND"]
_MISSING += ["1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]


def read_items(path: Path) -> pd.DataFrame:
    """Items: ``item_id`` plus feature columns, from CSV or Parquet."""
    if not path.exists():
        raise DataError(
            path, None, "items file not found; run `python -m stages demo-data` or add yours"
        )
    try:
        if path.suffix == ".parquet":
            frame = read_parquet_table(path, "items table")
        else:
            check_csv_shape(path)
            header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
            missing = {name: _MISSING for name in header if name != "item_id"}
            frame = pd.read_csv(
                path, dtype={"item_id": "string"}, encoding="utf-8-sig",
                keep_default_na=False, na_values=missing,
            )  # fmt: skip
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as error:
        raise unreadable(path, "items table", error) from None
    if "item_id" not in frame.columns:
        raise missing_columns(path, ["item_id"], list(frame.columns))
    ids = as_text(frame["item_id"]).str.strip()
    frame["item_id"] = ids.mask(ids == "")  # an empty id is missing (validate names it)
    check_writable(ids.fillna(""), "item id", path, lambda row: row_names(path, len(frame))(row))
    _check_columns(frame, path)
    return frame


def _check_columns(frame: pd.DataFrame, path: Path) -> None:
    taken = [name for name in frame.columns if str(name).strip() in RESERVED]
    if taken:
        raise DataError(path, "header", f"column {str(taken[0])!r} is a name the pipeline "
                        "adds itself (with " + ", ".join(RESERVED) + "): rename it")  # fmt: skip
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_float_dtype(values):
            with np.errstate(invalid="ignore"):
                out = ~(np.abs(values.to_numpy(dtype=float, na_value=0.0)) <= LARGEST_FEATURE)
            if out.any():
                record = row_names(path, len(frame))(int(np.argmax(out)))
                reason = (
                    f"column {name!r} is {values[out].iloc[0]}: give a finite number within "
                    f"±{LARGEST_FEATURE:.0e} (scaling squares it, and the square must fit a "
                    "float: rescale the column, e.g. take its log), or leave the cell empty"
                )
                raise DataError(path, record, reason)


def partly_numeric(frame: pd.DataFrame, path: Path) -> list[str]:
    """A warning per text column whose cells are mostly numbers: one stray cell ('?', '1,5')
    makes pandas read the column as text, and `numeric: auto` then leaves it out."""
    name_row = row_names(path, len(frame))
    notes = []
    for name in frame.columns:
        values = frame[name]
        if name == "item_id" or pd.api.types.is_numeric_dtype(values):
            continue
        given = values.dropna().astype(str)
        numbers = pd.to_numeric(given, errors="coerce")
        if len(given) and not numbers.isna().any():  # text typed so in the file (Parquet)
            notes.append(
                f"{path.name}: column {name!r} holds only numbers, stored as text, so it is "
                "not a numeric feature: store it as numbers, or list it in train.features.text "
                "or .categorical"
            )
        elif len(given) and numbers.notna().mean() > 0.5:
            stray = numbers.isna()
            first = given[stray].iloc[0]
            record = name_row(values.index.get_loc(given.index[stray][0]))
            notes.append(
                f"{path.name}: column {name!r} is numbers but for {int(stray.sum())} cell(s) "
                f"({record}: {first!a}), so it is read as text and not as a numeric "
                "feature: fix those cells, or list it in train.features.text or .categorical"
            )
    return notes
