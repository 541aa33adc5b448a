"""Expectation suites as data: YAML files in expectations/, read into checks per table.

Keeping suites in a tracked file that dvc.yaml declares means editing an expectation reruns
validate and nothing else, and teams add their own without writing Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from stages.core.datasets import is_in
from stages.core.errors import DataError

CRITICAL, WARNING = "critical", "warning"
TABLES = ("items", "annotations", "gold", "item_judgments", "label_counts")
PREPARED_TABLES = ("items", "annotations", "gold")
RESERVED = {"name", "expect", "severity", "when", "description"}


@dataclass(frozen=True)
class Check:
    """One expectation on one table, with how bad it is when it fails."""

    table: str
    name: str  # a readable, stable key for the summary
    expectation: str  # Great Expectations class name, e.g. ExpectColumnValuesToNotBeNull
    kwargs: dict[str, Any] = field(default_factory=dict)
    severity: str = CRITICAL
    when_column_exists: bool = False
    suite: str = "expectations"  # the suite file, named in errors about the entry

    @property
    def column(self) -> str:
        return str(
            self.kwargs.get("column") or ",".join(self.kwargs.get("column_list") or []) or "-"
        )


@dataclass(frozen=True)
class Suite:
    checks: list[Check]
    quarantine: dict[str, bool]  # table -> rows failing row-level checks are set aside


def load_suite(path: Path) -> Suite:
    """Read and check a suite file; any mistake in it is a DataError naming the entry."""
    from stages.core.reading import read_yaml

    document = read_yaml(path, "suite file not found (validate.suite in params.yaml)") or {}
    if not isinstance(document, dict):
        raise DataError(path, None, "expected a mapping of table names")
    checks, quarantine = [], {}
    for table, spec in document.items():
        if table not in TABLES:
            raise DataError(path, table, f"unknown table; use one of {', '.join(TABLES)}")
        if not isinstance(spec, dict) or not isinstance(spec.get("expectations", []), list):
            raise DataError(path, table, "expected {quarantine: ..., expectations: [...]}")
        quarantine[table] = spec.get("quarantine", False)
        if not isinstance(quarantine[table], bool):  # "off" is text in YAML 1.2, and truthy
            shown = repr(quarantine[table])
            raise DataError(path, f"{table}.quarantine", f"must be true or false, got {shown}")
        if quarantine[table] and table not in PREPARED_TABLES:
            raise DataError(path, table, "quarantine applies to items, annotations and gold only")
        seen: set[str] = set()
        for position, entry in enumerate(spec.get("expectations") or []):
            check = _check(path, table, position, entry)
            if check.name in seen:
                raise DataError(path, f"{table}.{check.name}", "duplicate expectation name")
            seen.add(check.name)
            checks.append(check)
    return Suite(checks, quarantine)


def _check(path: Path, table: str, position: int, entry: Any) -> Check:
    record = f"{table}.expectations[{position}]"
    if not isinstance(entry, dict) or "expect" not in entry or "name" not in entry:
        raise DataError(path, record, "each expectation needs at least 'name' and 'expect'")
    severity = entry.get("severity", CRITICAL)
    if severity not in (CRITICAL, WARNING):
        raise DataError(path, record, f"severity must be {CRITICAL} or {WARNING}, got {severity!r}")
    when = entry.get("when")
    if when not in (None, "column_exists"):
        raise DataError(path, record, f"'when' can only be column_exists, got {when!r}")
    return Check(
        table=table,
        name=str(entry["name"]),
        expectation=_class_name(str(entry["expect"])),
        kwargs={key: value for key, value in entry.items() if key not in RESERVED},
        severity=severity,
        when_column_exists=when == "column_exists",
        suite=str(path),
    )


def _class_name(expect: str) -> str:
    """``expect_column_values_to_not_be_null`` -> ``ExpectColumnValuesToNotBeNull``."""
    if "_" not in expect:
        return expect
    return "".join(part.capitalize() for part in expect.split("_"))


def written_name(class_name: str) -> str:
    """``ExpectColumnValuesToBeBetween`` -> ``expect_column_values_to_be_between``: a class name
    as suites write it (``_class_name``'s inverse), for messages."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


IN_TABLE = "ExpectColumnValuesToBeInTable"


def resolve(check: Check, values: dict[str, list[str]]) -> Check:
    """Replace ``$name`` arguments with the values they stand for.

    ``expect_column_values_to_be_in_table`` (a reference to another table's column) becomes a
    null check on a helper column that holds the value where that table lacks it: Great
    Expectations has no cross-table expectation for pandas, and a million-value ``value_set``
    would make it crawl.
    """
    if check.expectation == IN_TABLE:
        column = check.kwargs.get("column")
        target = f"{check.kwargs.get('table')}.{check.kwargs.get('table_column', column)}"
        rest = {
            k: v for k, v in check.kwargs.items() if k not in ("column", "table", "table_column")
        }
        helper = {"column": reference_column(str(column), target), **rest}
        return replace(check, expectation="ExpectColumnValuesToBeNull", kwargs=helper)
    kwargs = {}
    for key, value in check.kwargs.items():
        if isinstance(value, str) and value.startswith("$"):
            if value[1:] not in values:
                where = f"{check.table}.{check.name}"
                raise DataError(check.suite, where, f"unknown value {value}; use $labels")
            value = values[value[1:]]
        kwargs[key] = value
    return replace(check, kwargs=kwargs)


def reference_column(column: str, target: str) -> str:
    return f"{column} (not in {target})"


def add_reference_columns(
    frame: pd.DataFrame, checks: list[Check], tables: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """For each in-table check, a helper column: the value where the other table lacks it."""
    for check in checks:
        if check.expectation != IN_TABLE or check.kwargs.get("column") not in frame:
            continue
        column = check.kwargs["column"]
        table, table_column = check.kwargs.get("table"), check.kwargs.get("table_column", column)
        if table not in tables:
            where = f"{check.table}.{check.name}"
            raise DataError(check.suite, where, f"no table {table} to refer to")
        reference = tables[table].get(table_column)  # absent: nothing is known, so it fails
        known = is_in(frame[column], reference if reference is not None else pd.Series([]))
        helper = reference_column(column, f"{table}.{table_column}")
        frame = frame.assign(**{helper: frame[column].where(~known)})
    return frame


def derived_tables(
    annotations: pd.DataFrame, items: pd.DataFrame, labels: list[str]
) -> dict[str, pd.DataFrame]:
    """Per-item and per-label judgment counts, with zeros for the ones nobody chose."""
    item_ids = items["item_id"].dropna().astype(str) if "item_id" in items else pd.Series(dtype=str)
    per_item = (
        annotations["item_id"].astype(str).value_counts()
        if "item_id" in annotations
        else pd.Series()
    )
    per_label = (
        annotations["label"].astype(str).value_counts() if "label" in annotations else pd.Series()
    )
    return {
        "item_judgments": pd.DataFrame(
            {
                "item_id": item_ids.to_numpy(),
                "judgments": per_item.reindex(item_ids).fillna(0).astype("int64").to_numpy(),
            }
        ),
        "label_counts": pd.DataFrame(
            {
                "label": labels,
                "judgments": per_label.reindex(labels).fillna(0).astype("int64").to_numpy(),
            }
        ),
    }
