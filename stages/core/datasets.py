"""Parquet tables a stage hands to the next: one file, or a folder partitioned by a column.

A partitioned table is Hive-style (``items/split=train/part-0.parquet``), the layout that
pyarrow, DuckDB, Spark and Dask read as one table. With it and Parquet's columns, a stage
reads only what it needs: evaluate the test split, label-merge the text columns, so the cost
of a step does not grow with columns or splits it never uses.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from stages.core.errors import DataError
from stages.core.io import write_parquet

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

PART_FILE = "part-0.parquet"


def write_partitioned(folder: Path, frame: pd.DataFrame, column: str) -> None:
    """One Parquet file per value of ``column`` (sorted; rows keep their order); partitions
    left from an earlier run are removed, so the folder is exactly this table."""
    if frame[column].isna().any():
        row = int(frame[column].isna().to_numpy().argmax())
        raise DataError(folder, f"row {row + 1}", f"no value in partition column '{column}'")
    values = sorted(str(value) for value in frame[column].unique())
    rest = frame.drop(columns=column)
    for value in values:
        part = rest[(frame[column] == value).to_numpy()].reset_index(drop=True)
        write_parquet(folder / f"{column}={value}" / PART_FILE, part)
    wanted = {f"{column}={value}" for value in values}
    for stale in folder.glob(f"{column}=*"):
        if stale.name not in wanted:
            shutil.rmtree(stale)


def table_path(folder: Path, name: str) -> Path:
    """``folder/name`` as a partitioned folder when there is one, else ``folder/name.parquet``."""
    partitioned = folder / name
    return partitioned if partitioned.is_dir() else folder / f"{name}.parquet"


def text_columns(path: Path) -> list[str]:
    """The item id and the text columns (not ``split``), from a footer's types: no rows read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = _parts(path)
    if not files:
        return []
    schema = pq.read_schema(files[0][1])
    text = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)

    def is_text(kind: pa.DataType) -> bool:  # a pandas category of strings is a dictionary
        kind = kind.value_type if pa.types.is_dictionary(kind) else kind
        return any(test(kind) for test in text)

    return [
        field.name
        for field in schema
        if field.name == "item_id" or (field.name != "split" and is_text(field.type))
    ]


def read_table(
    path: Path,
    columns: Sequence[str] | None = None,
    where: dict[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Only the ``columns`` asked for (all when None), from the partitions whose value is in
    ``where[column]``, partition by partition in sorted order; the partition column comes
    back as a string column, last."""
    import pandas as pd
    import pyarrow.parquet as pq

    frames = []
    for key, file in _parts(path):
        if key and where and key[0] in where and key[1] not in map(str, where[key[0]]):
            continue
        wanted = None if columns is None else [c for c in columns if not key or c != key[0]]
        filters = None if key or not where else [(c, "in", list(v)) for c, v in where.items()]
        frame = pq.read_table(file, columns=wanted, filters=filters).to_pandas()
        if key and (columns is None or key[0] in columns):
            frame[key[0]] = pd.Series([key[1]] * len(frame), dtype="string")
        frames.append(frame)
    if not frames:
        wanted = " or ".join(f"{c}={v}" for c, values in (where or {}).items() for v in values)
        why = ""
        if "split" in (where or {}):
            why = "; too few items for prepare.test_size, or validate set them all aside"
        raise DataError(path, None, f"no rows with {wanted} (no such partition{why})")
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _parts(path: Path) -> list[tuple[tuple[str, str] | None, Path]]:
    """(partition key and value, file) for each file of the table, sorted."""
    if not path.exists():
        raise DataError(path, None, "table missing; run the stage that writes it first")
    if not path.is_dir():
        return [(None, path)]
    parts = []
    for folder in sorted(part for part in path.iterdir() if "=" in part.name):
        key, value = folder.name.split("=", 1)
        parts += [((key, value), file) for file in sorted(folder.glob("*.parquet"))]
    return parts


def is_in(values: pd.Series, reference: pd.Series) -> np.ndarray:
    """Which ``values`` occur in ``reference`` (missing values never do), by one factorisation
    of both: pandas' ``isin`` on Arrow strings builds a Python list of the reference, about 8 s
    per million ids (the ids of items, judged against a delivery's judgments)."""
    import numpy as np
    import pandas as pd

    values, reference = pd.Series(values), pd.Series(reference)
    if not (_text(values) and _text(reference)):  # numbers compare as numbers, 1 == 1.0
        return values.isin(reference.dropna()).to_numpy(dtype=bool)
    known = reference.dropna().drop_duplicates()
    both = pd.concat([known.astype(str), pd.Series(values).astype("string")], ignore_index=True)
    codes, _ = pd.factorize(both)
    seen = np.zeros(int(codes.max(initial=-1)) + 2, dtype=bool)
    seen[codes[: len(known)]] = True
    found = codes[len(known) :]
    return np.where(found >= 0, seen[found], False)


def _text(column: pd.Series) -> bool:
    import pandas as pd

    return pd.api.types.is_string_dtype(column.dtype)
