"""A failed check as a person reads it on a terminal: where, what, which records, which files."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from stages.core.markup import quantity
from stages.gate.expectations import Outcome

# What names a record of each table, beside the value that failed: the ids a person searches
# the delivery for (an annotation: its item and its annotator; its file comes on a line below).
RECORD_KEYS = {
    "items": ("item_id",),
    "gold": ("item_id",),
    "annotations": ("item_id", "annotator_id"),
    "item_judgments": ("item_id",),
    "label_counts": ("label",),
}
# A cross-table check runs on a helper column (suites.reference_column) that must be null.
_REFERENCE = re.compile(r"^(.+) \(not in (.+)\)$")
_NOT_NULL = "ExpectColumnValuesToNotBeNull"
_EXISTS = "ExpectColumnToExist"
_SHOWN_RECORDS = 3
_SHOWN_VALUE = 24  # characters of a value shown beside its record's ids


def describe_failure(outcome: Outcome, table: pd.DataFrame | None = None, width: int = 99) -> str:
    """Where and which check failed; what failed, in the check's own words where they are
    plainer than the expectation's; a few failing records by their ids (or, where the rows are
    not known, a few unexpected values); and the raw export files those rows came from, where
    ``table`` records them. Each line is cut at ``width`` columns."""
    check = outcome.check
    column, target = _written_column(check.column)
    where = f"{check.table}.{column}" if column != "-" else check.table
    lines = [f"{check.severity}: {where}: {check.name} failed"]
    if table is not None and "column" in check.kwargs and column not in table.columns:
        lines.append(f"  the table has no column {column!a}; it has {_columns(table)}")
        return _cut(lines, width)
    lines.append(_detail(outcome, column, target))
    failing = _failing_rows(outcome, column, table)
    records = _records(check.table, column, failing)
    examples = records or outcome.examples
    inline = _fitting(examples, width - len(lines[1]) - len(", e.g. "))
    if inline:
        lines[1] += f", e.g. {inline}"
    elif examples:
        lines.append(f"  e.g. {_fitting(examples, width - len('  e.g. ')) or examples[0]}")
    if failing is not None and "source" in failing:
        sources = sorted(set(failing["source"].dropna().astype(str)))
        if sources:
            lines.append(_rows_from(sources, width))
    return _cut(lines, width)


def _written_column(column: str) -> tuple[str, str | None]:
    """The column as the suite names it, and the table.column a cross-table check refers to."""
    found = _REFERENCE.match(column)
    return (found.group(1), found.group(2)) if found else (column, None)


def _detail(outcome: Outcome, column: str, target: str | None) -> str:
    check = outcome.check
    if column == "-" and outcome.observed is not None:  # a table-level check
        return f"  observed {outcome.observed}{_bounds(check.kwargs)} ({check.expectation})"
    if target is not None:
        return f"  {quantity(outcome.unexpected, 'row')} whose {column} is not in {target}"
    if check.expectation == _NOT_NULL:
        return f"  {quantity(outcome.unexpected, 'row')} without {column}"
    if check.expectation == "ExpectColumnValuesToBeInSet":
        allowed = [_short(value) for value in check.kwargs.get("value_set") or []]
        among = ", ".join(allowed) if len(allowed) <= 5 else f"the {len(allowed)} allowed values"
        return f"  {quantity(outcome.unexpected, 'row')} whose {column} is not one of {among}"
    if check.expectation == "ExpectColumnValuesToBeOfType" and outcome.observed is not None:
        return f"  values of type {outcome.observed}, expected {check.kwargs.get('type_')}"
    bounds = _bounds(check.kwargs)
    if "Lengths" in check.expectation:
        bounds = bounds.replace(", expected", ", length expected")
    if bounds and check.kwargs.get("mostly") is not None:
        bounds += f" in {float(check.kwargs['mostly']):.0%} of rows"
    return f"  {quantity(outcome.unexpected, 'unexpected row')}{bounds} ({check.expectation})"


def _bounds(kwargs: dict[str, Any]) -> str:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and high is not None:
        return f", expected {low} to {high}"
    if low is not None:
        return f", expected at least {low}"
    return f", expected at most {high}" if high is not None else ""


def _failing_rows(outcome: Outcome, column: str, table: pd.DataFrame | None) -> pd.DataFrame | None:
    """The rows that failed: known where the table quarantines; elsewhere the rows without a
    value (a null check) or holding the unexpected values Great Expectations lists (up to 20)."""
    if table is None:
        return None
    if outcome.rows is not None:
        return table.iloc[outcome.rows]
    if column not in table.columns:
        return None
    if outcome.check.expectation == _NOT_NULL:
        return table[table[column].isna()]
    if outcome.values:
        return table[table[column].isin(list(outcome.values))]
    return None


def _records(table_name: str, column: str, failing: pd.DataFrame | None) -> list[str]:
    """A few failing records by their ids and the value that failed: (item_id 'i3', label
    'horse'). A record whose id is what failed (missing, repeated) is shown by its other
    values; a repeated id is its own best example (none here: the caller shows the values)."""
    if failing is None or failing.empty:
        return []
    keys = [key for key in RECORD_KEYS.get(table_name, ()) if key in failing and key != column]
    if not keys and not failing[column].isna().all():
        return []
    if not keys:  # the id itself is missing: the other values are all there is to go by
        keys = [name for name in failing.columns if name not in (column, "source")][:3]
    fields = [name for name in failing.columns if name in (*keys, column)]  # the table's order
    records = []
    for _, row in failing.head(_SHOWN_RECORDS).iterrows():
        shown = [f"{name} {_short(row[name])}" for name in fields if pd.notna(row[name])]
        if shown:
            records.append("(" + ", ".join(shown) + ")")
    return records


def _fitting(examples: list[str], room: int) -> str:
    """As many whole examples as fit in ``room`` columns."""
    for count in range(len(examples), 0, -1):
        text = ", ".join(examples[:count])
        if len(text) <= room:
            return text
    return ""


def _short(value: Any) -> str:
    """A value as the line shows it: a number as it is, text quoted in ASCII (look-alikes and
    control characters visible), cut short."""
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return str(value)
    text = ascii(str(value))
    return text if len(text) <= _SHOWN_VALUE else text[: _SHOWN_VALUE - 2] + "…'"


def _columns(table: pd.DataFrame) -> str:
    names = [ascii(str(name)) for name in table.columns if name != "source"]
    return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")


def _rows_from(sources: list[str], width: int) -> str:
    """As many whole file names as fit the line, then how many more."""
    shown = [ascii(name) for name in sources]
    for count in range(len(shown), 0, -1):
        more = f" and {len(shown) - count} more" if count < len(shown) else ""
        line = f"  rows from {', '.join(shown[:count])}{more}"
        if len(line) <= width:
            return line
    return f"  rows from {quantity(len(shown), 'file')}"


def _cut(lines: list[str], width: int) -> str:
    return "\n".join(line if len(line) <= width else line[: width - 1] + "…" for line in lines)
