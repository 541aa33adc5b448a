"""A validation's outcomes: what each check found, and the same in words and numbers for Data
Docs' check tables and for `reports/validation/summary.json`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from stages.core.markup import quantity
from stages.gate.data_docs import CheckRow
from stages.gate.suites import CRITICAL, WARNING, Check, Suite


@dataclass(frozen=True)
class Outcome:
    check: Check
    success: bool
    unexpected: int
    examples: list[str]  # a few unexpected values, as the failure line prints them
    observed: Any = None
    rows: np.ndarray | None = None  # failing row positions, for quarantine
    skipped: bool = False
    shown: tuple[str, ...] = ()  # every unexpected value Data Docs may display
    values: tuple[Any, ...] = ()  # up to 20 unexpected values, as found (no failing rows kept)
    set_aside: bool = False  # passed because its failing rows went to quarantine


@dataclass(frozen=True)
class Validation:
    outcomes: list[Outcome]
    kept: dict[str, pd.DataFrame]  # the rows that go on
    quarantined: dict[str, pd.DataFrame]  # the rows set aside, with a `reason` column
    derived: dict[str, pd.DataFrame]  # the tables the suite derives, as checked


def check_rows(outcomes: list[Outcome], suite: Suite) -> list[CheckRow]:
    """The outcomes in words, for the check tables in Data Docs, each check as the suite wrote
    it (a cross-table check, not the helper column it runs on)."""
    written = {(check.table, check.name): check for check in suite.checks}
    rows = []
    for outcome in outcomes:
        check = written.get((outcome.check.table, outcome.check.name), outcome.check)
        rows.append(_check_row(outcome, check))
    return rows


def _check_row(outcome: Outcome, check: Check) -> CheckRow:
    if outcome.skipped:
        result = f"skipped: the table has no column {check.column}"
    elif not outcome.success:
        result = f"failed: {quantity(outcome.unexpected, 'unexpected row')}"
    elif outcome.set_aside:
        result = f"passed after {outcome.unexpected} rows were quarantined"
    else:
        result = "passed"
    failed = not outcome.success and not outcome.skipped
    return CheckRow(
        check.table, check.name, check.severity, check.column, check.expectation, result, failed
    )


def summarise(tables: dict[str, pd.DataFrame], validation: Validation) -> dict[str, Any]:
    """Deterministic summary for `dvc metrics`: counts and booleans, no run ids or times."""
    per_table: dict[str, Any] = {}
    for outcome in validation.outcomes:
        entry = per_table.setdefault(outcome.check.table, {"checks": {}})
        if not outcome.skipped:
            entry["checks"][outcome.check.name] = {
                "success": outcome.success,
                "unexpected": outcome.unexpected,
            }
    for name, frame in tables.items():
        entry = per_table.setdefault(name, {"checks": {}})
        entry["rows"] = len(frame)
        entry["rows_kept"] = len(validation.kept[name])
        entry["rows_quarantined"] = len(validation.quarantined[name])
    ran = [o for o in validation.outcomes if not o.skipped]
    skipped = sorted(f"{o.check.table}.{o.check.name}" for o in validation.outcomes if o.skipped)
    critical = [o for o in ran if not o.success and o.check.severity == CRITICAL]
    warnings = [o for o in ran if not o.success and o.check.severity == WARNING]
    return {
        "success": not critical,
        "checks": len(ran),
        "skipped": len(skipped),
        "skipped_checks": skipped,
        "failed_critical": len(critical),
        "failed_warning": len(warnings),
        "rows_quarantined": sum(len(frame) for frame in validation.quarantined.values()),
        "tables": per_table,
    }
