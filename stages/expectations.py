"""The data-quality gate: Great Expectations suites over the prepared tables.

Suites are plain data (``Check`` rows) built from params, so a later step can load them from
a file. Great Expectations is imported only when a suite runs: it takes seconds to import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

CRITICAL, WARNING = "critical", "warning"


@dataclass(frozen=True)
class Check:
    """One expectation on one table, with how bad it is when it fails."""

    table: str
    name: str  # a readable, stable key for the summary
    expectation: str  # Great Expectations class name, e.g. ExpectColumnValuesToNotBeNull
    kwargs: dict[str, Any] = field(default_factory=dict)
    severity: str = CRITICAL


@dataclass(frozen=True)
class Outcome:
    check: Check
    success: bool
    unexpected: int
    examples: list[str]
    observed: Any = None


def default_checks(
    tables: dict[str, pd.DataFrame], labels: list[str], options: dict[str, Any]
) -> list[Check]:
    """The suite every delivery must pass before label-merge and training."""
    label_set = [str(label) for label in labels]
    item_ids = sorted(tables["items"]["item_id"].dropna().astype(str).unique())
    checks = [
        Check(
            "items",
            "row_count",
            "ExpectTableRowCountToBeBetween",
            {"min_value": int(options.get("min_items", 1))},
        ),
        Check("items", "item_id_exists", "ExpectColumnToExist", {"column": "item_id"}),
        Check("items", "split_exists", "ExpectColumnToExist", {"column": "split"}),
        Check("items", "item_id_not_null", "ExpectColumnValuesToNotBeNull", {"column": "item_id"}),
        Check("items", "item_id_unique", "ExpectColumnValuesToBeUnique", {"column": "item_id"}),
        Check(
            "items",
            "split_in_set",
            "ExpectColumnValuesToBeInSet",
            {"column": "split", "value_set": ["test", "train"]},
        ),
        Check(
            "annotations",
            "row_count",
            "ExpectTableRowCountToBeBetween",
            {"min_value": int(options.get("min_annotations", 1))},
        ),
    ]
    for column in ("item_id", "annotator_id", "label"):
        checks.append(
            Check("annotations", f"{column}_exists", "ExpectColumnToExist", {"column": column})
        )
        checks.append(
            Check(
                "annotations",
                f"{column}_not_null",
                "ExpectColumnValuesToNotBeNull",
                {"column": column},
            )
        )
    checks += [
        Check(
            "annotations",
            "label_in_label_set",
            "ExpectColumnValuesToBeInSet",
            {"column": "label", "value_set": label_set},
        ),
        Check(
            "annotations",
            "item_id_in_items",
            "ExpectColumnValuesToBeInSet",
            {"column": "item_id", "value_set": item_ids},
        ),
        Check("gold", "item_id_exists", "ExpectColumnToExist", {"column": "item_id"}),
        Check("gold", "label_exists", "ExpectColumnToExist", {"column": "label"}),
        Check("gold", "item_id_not_null", "ExpectColumnValuesToNotBeNull", {"column": "item_id"}),
        Check("gold", "item_id_unique", "ExpectColumnValuesToBeUnique", {"column": "item_id"}),
        Check(
            "gold",
            "label_in_label_set",
            "ExpectColumnValuesToBeInSet",
            {"column": "label", "value_set": label_set},
        ),
        Check(
            "gold",
            "item_id_in_items",
            "ExpectColumnValuesToBeInSet",
            {"column": "item_id", "value_set": item_ids},
        ),
    ]
    return checks


def run_checks(tables: dict[str, pd.DataFrame], checks: list[Check]) -> list[Outcome]:
    """Validate each table against its checks with an ephemeral Great Expectations context."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("prepared")
    outcomes: list[Outcome] = []
    for table_name, frame in tables.items():
        table_checks = [check for check in checks if check.table == table_name]
        if not table_checks:
            continue
        asset = source.add_dataframe_asset(table_name)
        batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(
            batch_parameters={"dataframe": frame}
        )
        suite = gx.ExpectationSuite(name=table_name)
        for check in table_checks:
            expectation = getattr(gx.expectations, check.expectation)
            suite.add_expectation(expectation(**check.kwargs, meta={"check": check.name}))
        result = batch.validate(suite, result_format="SUMMARY")
        # Results do not come back in suite order: match them by the name kept in `meta`.
        by_name = {item.expectation_config.meta["check"]: item for item in result.results}
        for check in table_checks:
            item = by_name[check.name]
            details = item.result or {}
            unexpected = details.get("unexpected_count")
            if unexpected is None:
                unexpected = 0 if item.success else 1
            examples = [str(value) for value in (details.get("partial_unexpected_list") or [])]
            outcomes.append(
                Outcome(
                    check=check,
                    success=bool(item.success),
                    unexpected=int(unexpected),
                    examples=sorted(set(examples))[:3],
                    observed=details.get("observed_value"),
                )
            )
    return outcomes


def summarise(tables: dict[str, pd.DataFrame], outcomes: list[Outcome]) -> dict[str, Any]:
    """Deterministic summary for `dvc metrics`: counts and booleans, no run ids or times."""
    per_table: dict[str, Any] = {
        name: {"rows": len(frame), "checks": {}} for name, frame in tables.items()
    }
    for outcome in outcomes:
        per_table[outcome.check.table]["checks"][outcome.check.name] = {
            "success": outcome.success,
            "unexpected": outcome.unexpected,
        }
    critical = [o for o in outcomes if not o.success and o.check.severity == CRITICAL]
    warnings = [o for o in outcomes if not o.success and o.check.severity == WARNING]
    return {
        "success": not critical,
        "checks": len(outcomes),
        "failed_critical": len(critical),
        "failed_warning": len(warnings),
        "tables": per_table,
    }


def describe_failure(outcome: Outcome) -> str:
    """One line: table, column, expectation, unexpected count and a few example values."""
    check = outcome.check
    column = check.kwargs.get("column", "-")
    line = (
        f"{check.severity}: {check.table}.{column}: {check.name} ({check.expectation}) failed: "
        f"{outcome.unexpected} unexpected"
    )
    if outcome.examples:
        line += f", e.g. {', '.join(repr(value) for value in outcome.examples)}"
    if outcome.observed is not None:
        line += f" (observed {outcome.observed})"
    return line
