"""A failed check as a person reads it on a terminal: where, what, which records, which files."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from stages.core.markup import quantity
from stages.core.param_fields import did_you_mean
from stages.core.terminal import columns, cut, quoted
from stages.gate.outcomes import Outcome
from stages.gate.suites import Check

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
_PLAIN_NAME = re.compile(r"[\w.-]+", re.ASCII)
_NOT_NULL = "ExpectColumnValuesToNotBeNull"
_SHOWN_RECORDS = 3
_SHOWN_VALUE = 40  # characters of a value shown beside its record's ids (an e-mail fits)


def describe_failure(
    outcome: Outcome, table: pd.DataFrame | None = None, width: int = 99, *, again: bool = False
) -> str:
    """Where and which check failed; what failed, in the check's own words where they are
    plainer than the expectation's; a few failing records by their ids (or, where the rows are
    not known, a few unexpected values); and the raw export files those rows came from, where
    ``table`` records them. A column the table lacks is explained once: ``again`` gives the
    head line alone. Each line is cut at ``width`` columns."""
    check = outcome.check
    column, target = _written_column(check.column)
    where = f"{check.table}.{column}" if column != "-" else check.table
    head = f"{check.severity}: {where}: {check.name} failed"
    if absent_column(outcome, table):
        assert table is not None
        if again:
            return _cut([f"{head}: no such column"], width)
        hint = did_you_mean(column, [str(name) for name in table.columns if name != "source"])
        hint = f" ({hint})" if hint else ""
        return _cut([head, f"  the table has no column {column!a}{hint}; {_columns(table)}"], width)
    lines = [head, _detail(outcome, column, target)]
    failing = _failing_rows(outcome, column, table)
    records = _records(check.table, column, failing)
    examples = records or outcome.examples
    inline = _fitting(examples, width - columns(lines[1]) - len(", e.g. "))
    if inline:
        lines[1] += f", e.g. {inline}"
    elif examples:
        lines.append(f"  e.g. {_fitting(examples, width - len('  e.g. ')) or examples[0]}")
    if failing is not None and "source" in failing:
        sources = sorted(set(failing["source"].dropna().astype(str)))
        if sources:
            lines.append(_rows_from(sources, width))
    return _cut(lines, width)


def absent_column(outcome: Outcome, table: pd.DataFrame | None) -> str | None:
    """The column a single-column check names that ``table`` lacks (every check on it fails)."""
    if table is None or "column" not in outcome.check.kwargs:
        return None
    column, _ = _written_column(outcome.check.column)
    return None if column in table.columns else column


def _written_column(column: str) -> tuple[str, str | None]:
    """The column as the suite names it, and the table.column a cross-table check refers to."""
    found = _REFERENCE.match(column)
    return (found.group(1), found.group(2)) if found else (column, None)


def _detail(outcome: Outcome, column: str, target: str | None) -> str:
    """What failed: a count and bounds for a check on the whole table or column (a row count,
    a mean), otherwise how many rows and what is wrong with them."""
    check = outcome.check
    rows = quantity(outcome.unexpected, "row")
    if check.expectation == "ExpectColumnValuesToBeOfType" and outcome.observed is not None:
        return f"  values of type {outcome.observed}, expected {check.kwargs.get('type_')}"
    if outcome.observed is not None:
        return f"  observed {_short(outcome.observed)}{_bounds(check)} ({check.expectation})"
    if target is not None:
        return f"  {rows} whose {_name(column)} is not in {target}{_share(check)}"
    if check.expectation == _NOT_NULL:
        return f"  {rows} without {_name(column)}{_share(check)}"
    if check.expectation == "ExpectColumnValuesToBeInSet":
        allowed = [_short(value) for value in check.kwargs.get("value_set") or []]
        among = ", ".join(allowed) if len(allowed) <= 5 else f"the {len(allowed)} allowed values"
        return f"  {rows} whose {_name(column)} is not one of {among or 'no value'}{_share(check)}"
    if check.expectation in _PATTERNS:
        pattern = _short(check.kwargs.get("regex", check.kwargs.get("like_pattern")))
        fails = f"{_PATTERNS[check.expectation]} {pattern}"
        return f"  {rows} whose {_name(column)} {fails}{_share(check)}"
    unexpected = quantity(outcome.unexpected, "unexpected row")
    return f"  {unexpected}{_share(check)}{_bounds(check)} ({check.expectation})"


# Checks of a text against a pattern: what a failing row's value does, before the pattern.
_PATTERNS = {
    "ExpectColumnValuesToMatchRegex": "does not match the regex",
    "ExpectColumnValuesToNotMatchRegex": "matches the regex",
    "ExpectColumnValuesToMatchLikePattern": "is not like",
    "ExpectColumnValuesToNotMatchLikePattern": "is like",
}


def _bounds(check: Check) -> str:
    low, high = check.kwargs.get("min_value"), check.kwargs.get("max_value")
    what = ", length expected" if "Lengths" in check.expectation else ", expected"
    if low is not None and high is not None:
        return f"{what} {low} to {high}"
    if low is not None:
        return f"{what} at least {low}"
    return f"{what} at most {high}" if high is not None else ""


def _share(check: Check) -> str:
    """A check with `mostly` fails only past a share of its rows: say how large."""
    mostly = check.kwargs.get("mostly")
    if mostly is None:
        return ""
    share = 1 - float(mostly)
    return f", more than {share:.0%} of all" if share >= 0.01 else f", more than {share:.2%} of all"


def _failing_rows(outcome: Outcome, column: str, table: pd.DataFrame | None) -> pd.DataFrame | None:
    """The rows that failed: those without a value (a null check) or holding the unexpected
    values Great Expectations lists (up to 20). Rows a quarantine set aside never get here:
    their checks pass."""
    if table is None or column not in table.columns:
        return None
    if outcome.check.expectation == _NOT_NULL:
        return table[table[column].isna()]
    if outcome.values:
        return table[table[column].isin(list(outcome.values))]
    return None


def failing_records(outcome: Outcome, table: pd.DataFrame | None, limit: int = 20) -> list[str]:
    """The failing records as the failure line names them, up to ``limit`` (the line shows
    the few that fit; reports/validation/summary.json keeps these)."""
    column, _ = _written_column(outcome.check.column)
    return _records(outcome.check.table, column, _failing_rows(outcome, column, table), limit)


def _records(
    table_name: str, column: str, failing: pd.DataFrame | None, limit: int = _SHOWN_RECORDS
) -> list[str]:
    """A few failing records by their ids and the value that failed: (item_id 'i3', label
    'horse'). A record whose id is missing is shown by its other values. None where the id is
    itself the value that failed (a repeated id): the caller shows those values instead."""
    if failing is None or failing.empty or column not in failing:
        return []
    keys = [key for key in RECORD_KEYS.get(table_name, ()) if key in failing and key != column]
    if not keys and not failing[column].isna().all():
        return []
    if not keys:  # the id itself is missing: the other values are all there is to go by
        keys = [name for name in failing.columns if name not in (column, "source")][:3]
    fields = [name for name in failing.columns if name in (*keys, column)]  # the table's order
    records = []
    for _, row in failing.head(limit).iterrows():
        shown = [f"{_name(name)} {_short(row[name])}" for name in fields if pd.notna(row[name])]
        if shown:
            records.append("(" + ", ".join(shown) + ")")
    return records


def _fitting(examples: list[str], room: int) -> str:
    """As many whole examples as fit in ``room`` columns."""
    for count in range(len(examples), 0, -1):
        text = ", ".join(examples[:count])
        if columns(text) <= room:
            return text
    return ""


def _short(value: Any) -> str:
    """A value as the line shows it: a number or a truth value as it is, text quoted
    (``terminal.quoted``: look-alikes and control characters visible), cut short."""
    if isinstance(value, bool | np.bool_ | int | float | np.integer | np.floating):
        return str(value)
    text = quoted(str(value)[: _SHOWN_VALUE * 2])  # a value may be megabytes: quote its start
    return text if columns(text) <= _SHOWN_VALUE else cut(text, _SHOWN_VALUE - 1) + text[0]


def _name(name: Any) -> str:
    """A column name as it is, or quoted in ASCII where it holds anything but word characters
    (a name from a delivery's header may hold a newline or a terminal escape)."""
    text = str(name)
    return text if _PLAIN_NAME.fullmatch(text) else ascii(text)


def _columns(table: pd.DataFrame) -> str:
    names = [ascii(str(name)) for name in table.columns if name != "source"]
    if not names:
        return "it has no columns"
    more = f" and {len(names) - 8} more" if len(names) > 8 else ""
    return "it has " + ", ".join(names[:8]) + more


def _rows_from(sources: list[str], width: int) -> str:
    """As many whole file names as fit the line, then how many more."""
    shown = [ascii(name) for name in sources]
    for count in range(len(shown), 0, -1):
        more = f" and {len(shown) - count} more" if count < len(shown) else ""
        line = f"  rows from {', '.join(shown[:count])}{more}"
        if columns(line) <= width:
            return line
    return f"  rows from {quantity(len(shown), 'file')}"


def _cut(lines: list[str], width: int) -> str:
    return "\n".join(cut(line, width) for line in lines)
