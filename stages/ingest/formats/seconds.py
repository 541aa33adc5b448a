"""Time spent per judgment (Label Studio's ``lead_time``, SageMaker's ``timeSpentInSeconds``,
a long table's ``lead_time`` column), as seconds: whatever form a tool or a table gives it in."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stages.core.errors import DataError


def seconds_spent(
    values: pd.Series | None, count: int, path: Path, record: Callable[[int], str]
) -> pd.Series:
    """Seconds spent per judgment: a finite number, 0 or more, or missing (empty, null).

    A column of numbers (JSON's, Parquet's, a duration) is converted in bulk; a mixed one (JSON
    holding text, truth values, objects) is looked at value by value."""
    if values is None:
        return pd.Series(np.nan, index=range(count), dtype="float64")
    values = values.reset_index(drop=True)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if pd.api.types.is_timedelta64_dtype(values):
        given, numbers = values.notna(), values.dt.total_seconds()
    elif kind in ("floating", "integer", "mixed-integer-float", "decimal", "empty"):
        given = values.notna()
        numbers = _numbers(values.where(given))
    elif values.dtype == "string":  # a CSV's cells
        given = values.notna() & values.str.strip().ne("").fillna(False)
        numbers = _numbers(values.where(given))
    elif values.dtype == object:  # JSON's mixed values: numbers, text, or anything else
        text = values.map(lambda value: value if isinstance(value, str) else None)
        blank = text.fillna("x").str.strip().eq("")  # an empty cell: no time recorded
        given = values.notna() & ~blank
        numbers = _numbers(values.where(given & (values.map(_is_number) | text.notna())))
    else:  # truth values, dates, bytes: no number of seconds
        given = values.notna()
        numbers = pd.Series(np.nan, index=values.index, dtype="float64")
    finite = np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan))
    bad = (given & ~(finite & (numbers >= 0))).to_numpy(dtype=bool)
    if bad.any():
        row = int(bad.nonzero()[0][0])
        value = values.iloc[row]
        shown = repr(value) if isinstance(value, str) else str(value)
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        reason = f"lead_time {shown}: give the seconds spent (0 or more), or leave it out"
        raise DataError(path, record(row), reason)
    return numbers.astype("float64") + 0.0  # -0.0 as 0.0


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal | np.number) and not isinstance(
        value, bool | np.bool_
    )


def _numbers(values: pd.Series) -> pd.Series:
    """Numbers and numeric text as floats, anything else NaN; an integer beyond a float's
    range is NaN too (then refused as not finite), not an OverflowError."""
    try:
        return pd.to_numeric(values, errors="coerce").astype("float64")
    except (OverflowError, TypeError, ValueError):
        return values.map(_float_or_nan).astype("float64")


def _float_or_nan(value: Any) -> float:
    try:
        return float(value) if _is_number(value) or isinstance(value, str) else np.nan
    except (OverflowError, ValueError):
        return np.nan
