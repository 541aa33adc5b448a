"""A failed check as a person reads it on a terminal: where, what, and which files to open."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from stages.core.markup import quantity
from stages.gate.expectations import Outcome


def describe_failure(outcome: Outcome, sources: Sequence[str] = (), width: int = 99) -> str:
    """Two lines: where and which check failed; then how many rows, the expectation and a few
    example values, cut at ``width`` columns. A third names the raw ``sources`` (export files)
    the failing rows came from, where the table records them."""
    check = outcome.check
    where = f"{check.severity}: {check.table}.{check.column}: {check.name} failed"
    detail = f"  {quantity(outcome.unexpected, 'unexpected row')} ({check.expectation})"
    if outcome.observed is not None:
        detail += f", observed {outcome.observed}"
    if outcome.examples:
        detail += f", e.g. {', '.join(outcome.examples)}"
    lines = [where, detail]
    if sources:
        lines.append(_rows_from(sources, width))
    return "\n".join(line if len(line) <= width else line[: width - 1] + "…" for line in lines)


def failing_sources(outcome: Outcome, table: pd.DataFrame | None) -> list[str]:
    """The export files the failing rows came from (the annotations' `source`), in order;
    none for a table the suite derives (judgments per item), which has no `source`.

    The rows are known where the table quarantines; elsewhere they are the rows holding the
    unexpected values Great Expectations lists (up to 20 of them)."""
    if table is None or "source" not in table.columns:
        return []
    if outcome.rows is not None:
        failing = table.iloc[outcome.rows]
    elif outcome.values and outcome.check.column in table.columns:
        failing = table[table[outcome.check.column].isin(list(outcome.values))]
    else:
        return []
    return sorted(set(failing["source"].dropna().astype(str)))


def _rows_from(sources: Sequence[str], width: int) -> str:
    """As many whole file names as fit the line, then how many more."""
    shown = [ascii(name) for name in sources]
    for count in range(len(shown), 0, -1):
        more = f" and {len(shown) - count} more" if count < len(shown) else ""
        line = f"  rows from {', '.join(shown[:count])}{more}"
        if len(line) <= width:
            return line
    return f"  rows from {quantity(len(shown), 'file')}"
