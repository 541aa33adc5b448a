"""Parquet files a team delivers: every cell must be one plain value. A nested column (struct,
list, map) would otherwise reach the tables as its Python text (``{'v': 1}``), and a bytes
column that is not UTF-8, or pandas metadata that contradicts the data, would crash pandas."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd

from stages.core.errors import DataError


def read_parquet_table(path: Path, table: str) -> pd.DataFrame:
    """The table as pandas reads it, bytes columns decoded as UTF-8; anything else wrong is a
    DataError naming the column (and, for bad bytes, the row)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        metadata = pq.read_metadata(path)
    except (OSError, pa.ArrowException) as error:
        raise DataError(path, None, f"unreadable {table} ({error})".replace("\n", " ")) from None
    _check_decoded_size(metadata, schema, path, table)
    for field in schema:
        if pa.types.is_nested(field.type):
            reason = f"holds nested values ({field.type}); each cell must be one text or number"
            raise DataError(path, f"column {field.name!r}", reason)
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as error:
        raise DataError(path, None, f"unreadable {table} ({error})".replace("\n", " ")) from None
    for field in schema:
        if field.name in frame.columns and _is_bytes(field.type):
            frame[field.name] = _decoded(frame[field.name], path, field.name)
    return frame


# Bytes a text cell takes at least once decoded: its offset (pandas keeps text as Arrow's
# large strings, 8-byte offsets), before any of its characters.
TEXT_CELL_BYTES = 8


def cell_bytes(kind: object) -> int:
    """Bytes a cell of Arrow type ``kind`` takes at least in memory: a number its width (a
    uint8 1, a float64 8), a dictionary-encoded text (pandas' category) its index, text its
    offset."""
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        return cell_bytes(kind.index_type)  # type: ignore[attr-defined]
    try:
        return max(kind.bit_width // 8, 1)  # type: ignore[attr-defined]
    except ValueError:  # not of fixed width: text, bytes
        return TEXT_CELL_BYTES


def decoded_size(metadata: object, schema: object) -> int:
    """What the table takes in memory at least once decoded: its pages' uncompressed size, or
    for pages that repeat one value (run-length or dictionary encoded) each cell's width."""
    row = sum(cell_bytes(field.type) for field in schema)  # type: ignore[attr-defined]
    groups = [metadata.row_group(i) for i in range(metadata.num_row_groups)]  # type: ignore[attr-defined]
    return sum(max(group.total_byte_size, group.num_rows * row) for group in groups)


# Where a container's memory limit is (cgroup v2, then v1); a limit above the machine's is none.
CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def memory_size() -> int:
    """The memory this process may use in bytes: the machine's, or its container's limit
    (unknown where the system does not say, as on Windows: no limit then)."""
    try:
        size = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return sys.maxsize
    for limit in CGROUP_LIMITS:
        try:
            text = Path(limit).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            size = min(size, int(text))
    return size


def _check_decoded_size(metadata: object, schema: object, path: Path, table: str) -> None:
    """A few kilobytes of Parquet can stand for billions of cells (one value repeated,
    compressed): refuse one that would take over a quarter of the memory before decoding it
    (the stages hold a few copies of a table), rather than be killed for it."""
    needed, memory = decoded_size(metadata, schema), memory_size()
    if needed > memory // 4:
        rows = metadata.num_rows  # type: ignore[attr-defined]
        reason = (
            f"{table} of {rows:,} rows would take at least {_amount(needed)} of memory once "
            f"decoded, over a quarter of this machine's {_amount(memory)}: check that it is the "
            "file meant, or run on a machine with more memory"
        )
        raise DataError(path, None, reason)


def _amount(size: int) -> str:
    return f"{size / 2**30:,.1f} GiB" if size >= 2**30 else f"{size / 2**20:,.0f} MiB"


def as_text(values: pd.Series) -> pd.Series:
    """Ids and labels as text, numbers written as the JSON readers write them: a whole float
    as an integer (1.0 as "1", as pandas stores an integer column that has a gap), so that
    one id reads alike from every file it is in."""
    if pd.api.types.is_float_dtype(values):
        values = values.astype("object").map(_whole, na_action="ignore")
    return values.astype("string")


def _whole(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _is_bytes(kind: object) -> bool:
    """Bytes, or a dictionary (pandas' category) of bytes."""
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        return _is_bytes(kind.value_type)
    return bool(
        pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_fixed_size_binary(kind)
    )


def _decoded(column: pd.Series, path: Path, name: str) -> pd.Series:
    """Bytes as text; the first cell that is not UTF-8 is named by its row (from 1)."""
    texts: list[str | None] = []
    for row, cell in enumerate(column.tolist(), start=1):
        if cell is None or (isinstance(cell, float) and pd.isna(cell)):
            texts.append(None)
            continue
        try:
            texts.append(bytes(cell).decode("utf-8"))
        except UnicodeDecodeError as error:
            byte = f"byte 0x{bytes(cell)[error.start]:02x}"
            reason = f"column {name!r} is not UTF-8 text ({byte}): save it as UTF-8 strings"
            raise DataError(path, f"row {row}", reason) from None
    return pd.Series(texts, index=column.index, dtype="string")
