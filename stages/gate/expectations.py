"""Run the suites with Great Expectations and set quarantined rows aside.

Great Expectations is imported only here, when validate runs: it takes seconds to import.
Tables are validated in order (items, annotations, gold, then the derived counts) so that
annotations are checked against the items that passed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stages.core.param_fields import did_you_mean
from stages.gate.data_docs import finish_data_docs
from stages.gate.outcomes import Outcome, Validation, check_rows
from stages.gate.suites import (
    CRITICAL,
    Check,
    Suite,
    add_reference_columns,
    derived_tables,
    resolve,
    written_name,
)

ORDER = ("items", "annotations", "gold", "item_judgments", "label_counts")


RUN_TIME = datetime(1970, 1, 1, tzinfo=UTC)


@contextmanager
def utc_clock() -> Iterator[None]:
    """This process's clock in UTC while Data Docs are written: Great Expectations shows the
    run time in the machine's time zone (tzlocal), so a laptop in Kolkata or New York wrote
    other bytes ("1970-01-01 05:30:00 IST") than CI. The zone is restored afterwards."""
    import time

    import tzlocal

    reset = getattr(time, "tzset", lambda: None)  # Windows has none; tzlocal reads TZ there
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    reset()
    tzlocal.reload_localzone()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        reset()
        tzlocal.reload_localzone()


class Runner:
    """An ephemeral Great Expectations context that can write Data Docs to a folder."""

    def __init__(self, docs_dir: Path | None, run_name: str = "validate") -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        self.run_name = run_name
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.source = self.context.data_sources.add_pandas("prepared")
        self.sites = []
        if docs_dir is not None:
            base = str(docs_dir.resolve())
            self.context.add_data_docs_site(
                site_name="validate",
                site_config={
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": base,
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                    "show_how_to_buttons": False,  # tutorials on the web: not for a team's report
                },
            )
            self.sites = ["validate"]

    def run(
        self, table: str, frame: pd.DataFrame, checks: list[Check], with_rows: bool
    ) -> list[Outcome]:
        gx = self.gx
        batch = self.source.add_dataframe_asset(table).add_batch_definition_whole_dataframe("whole")
        suite = self.context.suites.add(gx.ExpectationSuite(name=table))
        for check in checks:
            suite.add_expectation(_expectation(gx, check))
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(data=batch, suite=suite, name=table)
        )
        actions = (
            [gx.checkpoint.UpdateDataDocsAction(name="docs", site_names=self.sites)]
            if self.sites
            else []
        )
        checkpoint = self.context.checkpoints.add(
            gx.Checkpoint(
                name=table,
                validation_definitions=[definition],
                actions=actions,
                result_format={"result_format": "COMPLETE" if with_rows else "SUMMARY"},
            )
        )
        from great_expectations.core.run_identifier import RunIdentifier

        # Named by the data, at a fixed time: the same data gives the same pages, byte for byte.
        run_id = RunIdentifier(run_name=self.run_name, run_time=RUN_TIME)
        with utc_clock():
            result = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=run_id)
        (validation,) = result.run_results.values()
        # Results do not come back in suite order: match them by the name kept in `meta`.
        by_name = {item.expectation_config.meta["check"]: item for item in validation.results}
        return [_outcome(check, by_name[check.name]) for check in checks]


def _outcome(check: Check, item: Any) -> Outcome:
    details = item.result or {}
    unexpected = details.get("unexpected_count")
    if unexpected is None:
        unexpected = 0 if item.success else 1
    values = details.get("partial_unexpected_list") or []
    examples = sorted({_example(value) for value in values})[:3]
    # Data Docs print the result: values, counts, failing rows (a dict, field by field: ids,
    # text, file names) and the check's own arguments (a label set). Every string is shown.
    shown = tuple(sorted(set(_strings(details)) | set(_strings(check.kwargs))))
    rows = details.get("unexpected_index_list")
    return Outcome(
        check=check,
        success=bool(item.success),
        unexpected=int(unexpected),
        examples=examples,
        observed=details.get("observed_value"),
        rows=np.asarray(rows, dtype=np.int64) if rows is not None else None,
        shown=shown,
        values=tuple(value for value in values if not isinstance(value, dict | list)),
    )


def _example(value: Any) -> str:
    """An unexpected value as a person reads it: a row (a compound check's) field by field, in
    ASCII, so that a look-alike ('\\u0430', Cyrillic) or a control character shows."""
    if isinstance(value, dict):
        return "(" + ", ".join(f"{key} {str(item)!a}" for key, item in value.items()) + ")"
    return ascii(str(value))


def _strings(value: Any) -> list[str]:
    """Every string a value holds, however deep: keys and values of dicts, items of lists."""
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (*_strings(key), *_strings(item))]
    if isinstance(value, list | tuple | set):
        return [text for item in value for text in _strings(item)]
    return [] if value is None else [str(value)]


def _expectation(gx: Any, check: Check) -> Any:
    """The check as a Great Expectations expectation, carrying the suite's own name and
    severity (shown under it in Data Docs); arguments it refuses are the suite's mistake."""
    from stages.core.errors import DataError

    where = f"{check.table}.{check.name}"
    expectation = getattr(gx.expectations, check.expectation, None)
    if expectation is None:
        known = [written_name(name) for name in dir(gx.expectations) if name.startswith("Expect")]
        written = written_name(check.expectation)
        hint = did_you_mean(written, known) or "see Great Expectations' gallery of expectations"
        raise DataError(check.suite, where, f"unknown expectation '{written}'; {hint}")
    notes = f"check {check.name} ({check.severity})"
    try:
        return expectation(**check.kwargs, meta={"check": check.name}, notes=notes)
    except (TypeError, ValueError) as error:  # pydantic's ValidationError is a ValueError
        raise DataError(check.suite, where, _refusal(error)) from None


def _refusal(error: Exception) -> str:
    """What Great Expectations refused, in one line: each bad argument once, with its first
    reason (a value may fail several alternatives: a list, or a suite parameter's dict)."""
    problems = getattr(error, "errors", None)
    if not callable(problems):
        return f"Great Expectations refused the arguments: {' '.join(str(error).split())}"
    reasons: dict[str, str] = {}
    for problem in problems():
        argument = ".".join(str(part) for part in problem.get("loc", ())) or "arguments"
        reasons.setdefault(argument, str(problem.get("msg", "refused")))
    return "; ".join(f"argument {argument}: {why}" for argument, why in reasons.items())


def validate_tables(
    tables: dict[str, pd.DataFrame],
    suite: Suite,
    labels: list[str],
    docs_dir: Path | None = None,
    run_name: str = "validate",
) -> Validation:
    """Validate every table; quarantine rows where the suite asks for it."""
    runner = Runner(docs_dir, run_name)
    kept = {name: frame.reset_index(drop=True) for name, frame in tables.items()}
    quarantined: dict[str, pd.DataFrame] = {}
    outcomes: list[Outcome] = []
    shown: list[str] = []
    for table in ORDER:
        if table == "item_judgments":  # derived from what passed so far
            kept.update(derived_tables(kept["annotations"], kept["items"], labels))
        checks = [check for check in suite.checks if check.table == table]
        if table not in kept or not checks:
            continue
        frame = kept[table]
        applies = [check for check in checks if _applies(check, frame)]
        active = [resolve(check, {"labels": [str(label) for label in labels]}) for check in applies]
        skipped = [Outcome(c, True, 0, [], skipped=True) for c in checks if not _applies(c, frame)]
        quarantine = suite.quarantine.get(table, False)
        checked = add_reference_columns(frame, applies, kept)
        table_outcomes = runner.run(table, checked, active, with_rows=quarantine) if active else []
        shown += [value for outcome in table_outcomes for value in outcome.shown]
        if quarantine:
            kept[table], quarantined[table], table_outcomes = _set_aside(frame, table_outcomes)
        outcomes += table_outcomes + skipped
    if docs_dir is not None:  # what the pages show, quarantined rows included
        finish_data_docs(docs_dir, shown, check_rows(outcomes, suite))
    for table in ("items", "annotations", "gold"):
        quarantined.setdefault(
            table, tables[table].iloc[:0].assign(reason=pd.Series(dtype="string"))
        )
    derived = {name: frame for name, frame in kept.items() if name not in tables}
    return Validation(outcomes, {name: kept[name] for name in tables}, quarantined, derived)


def _applies(check: Check, frame: pd.DataFrame) -> bool:
    return not check.when_column_exists or check.kwargs.get("column") in frame.columns


def _set_aside(
    frame: pd.DataFrame, outcomes: list[Outcome]
) -> tuple[pd.DataFrame, pd.DataFrame, list[Outcome]]:
    """Rows failing critical row-level checks leave the table with their reasons; those checks
    now pass. A warning check moves nothing: it reports, and its rows go on (a repeated
    judgment, say, whose latest label-merge keeps)."""
    reasons = pd.Series([""] * len(frame), index=frame.index, dtype="object")
    handled = []
    for outcome in outcomes:
        critical = outcome.check.severity == CRITICAL
        if outcome.success or not critical or outcome.rows is None or not len(outcome.rows):
            handled.append(outcome)
            continue
        reasons.iloc[outcome.rows] = reasons.iloc[outcome.rows] + outcome.check.name + ";"
        handled.append(replace(outcome, success=True, rows=None, set_aside=True))
    bad = (reasons != "").to_numpy()
    set_aside = frame[bad].assign(reason=reasons[bad].str.rstrip(";").astype("string"))
    return frame[~bad].reset_index(drop=True), set_aside.reset_index(drop=True), handled
