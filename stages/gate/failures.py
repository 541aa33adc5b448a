"""A failed check as a person reads it on a terminal: where, what, and which files to open."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from stages.core.markup import quantity
from stages.gate.expectations import Outcome

# The column a table's rows are named by, for the tables the suite derives from annotations.
DERIVED_KEYS = {"item_judgments": "item_id", "label_counts": "label"}
# A cross-table check runs on a helper column (suites.reference_column) that must be null.
_REFERENCE = re.compile(r"^(.+) \(not in (.+)\)$")
_NOT_NULL = "ExpectColumnValuesToNotBeNull"


def describe_failure(outcome: Outcome, table: pd.DataFrame | None = None, width: int = 99) -> str:
    """Two lines: where and which check failed; then what failed, in the check's own words
    where they are plainer than the expectation's (a row count, a row without a value, a value
    another table lacks), with a few examples. A third names the raw export files the failing
    rows came from, where ``table`` records them. Each line is cut at ``width`` columns."""
    check = outcome.check
    column, target = _written_column(check.column)
    where = f"{check.table}.{column}" if column != "-" else check.table
    lines = [f"{check.severity}: {where}: {check.name} failed", _detail(outcome, column, target)]
    failing = _failing_rows(outcome, table)
    named = _named_rows(check.table, check.column, failing)
    if named and len(f"{lines[1]}, e.g. {named}") <= width:
        lines[1] += f", e.g. {named}"
    elif named:
        lines.append(f"  e.g. {named}")
    sources = [] if failing is None or "source" not in failing else _sources(failing)
    if sources:
        lines.append(_rows_from(sources, width))
    return "\n".join(line if len(line) <= width else line[: width - 1] + "…" for line in lines)


def _written_column(column: str) -> tuple[str, str | None]:
    """The column as the suite names it, and the table.column a cross-table check refers to."""
    found = _REFERENCE.match(column)
    return (found.group(1), found.group(2)) if found else (column, None)


def _detail(outcome: Outcome, column: str, target: str | None) -> str:
    check = outcome.check
    rows = quantity(outcome.unexpected, "row")
    if column == "-" and outcome.observed is not None:  # a table-level check
        return f"  observed {outcome.observed}{_bounds(check.kwargs)} ({check.expectation})"
    if target is not None:
        return f"  {rows} whose {column} is not in {target}{_examples(outcome)}"
    if check.expectation == _NOT_NULL:
        return f"  {rows} without {column}"
    detail = f"  {quantity(outcome.unexpected, 'unexpected row')}{_bounds(check.kwargs)}"
    detail += f" ({check.expectation})"
    if outcome.observed is not None:
        detail += f", observed {outcome.observed}"
    if check.table in DERIVED_KEYS:
        return detail  # the rows are named by their key instead (_named_rows)
    return detail + _examples(outcome)


def _examples(outcome: Outcome) -> str:
    return f", e.g. {', '.join(outcome.examples)}" if outcome.examples else ""


def _bounds(kwargs: dict[str, Any]) -> str:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and high is not None:
        return f", expected {low} to {high}"
    if low is not None:
        return f", expected at least {low}"
    return f", expected at most {high}" if high is not None else ""


def _failing_rows(outcome: Outcome, table: pd.DataFrame | None) -> pd.DataFrame | None:
    """The rows that failed: known where the table quarantines; elsewhere the rows without a
    value (a null check) or holding the unexpected values Great Expectations lists (up to 20)."""
    column = outcome.check.column
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


def _named_rows(table_name: str, column: str, failing: pd.DataFrame | None) -> str:
    """A few failing rows by what a person can look for: a derived table's rows by their key
    (the label nobody chose), a row without a value by the values it does have."""
    if failing is None or failing.empty:
        return ""
    key = DERIVED_KEYS.get(table_name)
    if key is not None and key in failing:
        return ", ".join(
            f"{key} {str(name)!a} ({column} {value})"
            for name, value in zip(failing[key][:3], failing[column][:3], strict=True)
        )
    if failing[column].isna().all():
        fields = [name for name in failing.columns if name not in (column, "source")][:3]
        row = failing.iloc[0]
        shown = [f"{name} {str(row[name])!a}" for name in fields if pd.notna(row[name])]
        return "(" + ", ".join(shown) + ")" if shown else ""
    return ""


def _sources(failing: pd.DataFrame) -> list[str]:
    return sorted(set(failing["source"].dropna().astype(str)))


def _rows_from(sources: list[str], width: int) -> str:
    """As many whole file names as fit the line, then how many more."""
    shown = [ascii(name) for name in sources]
    for count in range(len(shown), 0, -1):
        more = f" and {len(shown) - count} more" if count < len(shown) else ""
        line = f"  rows from {', '.join(shown[:count])}{more}"
        if len(line) <= width:
            return line
    return f"  rows from {quantity(len(shown), 'file')}"
