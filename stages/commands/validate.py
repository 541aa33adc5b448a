from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import click

from stages.commands import metrics_option, params_option, path_option, read_tables
from stages.core import catalog


@click.command()
@path_option("--prepared", "prepared_dir", catalog.PREPARED)
@path_option("--validated", "validated_dir", catalog.VALIDATED)
@path_option("--quarantine", "quarantine_dir", catalog.QUARANTINE)
@path_option("--reports", "reports_dir", catalog.VALIDATION_REPORTS)
@click.option("--no-docs", is_flag=True, help="Skip the Data Docs HTML (faster).")
@metrics_option("validate")
@params_option
def validate(
    prepared_dir: Path,
    validated_dir: Path,
    quarantine_dir: Path,
    reports_dir: Path,
    no_docs: bool,
    metrics_file: Path,
    params_file: Path,
) -> None:
    """Check the prepared tables against the expectation suite; stop the pipeline on failure.

    \b
    The suite is a YAML file (validate.suite in params.yaml, default expectations/default.yaml).
    Writes reports/validation/summary.json (headline: --metrics) and Data Docs HTML in
    reports/validation/docs/ (a DVC output, byte-stable too: the run is named by a digest of
    the prepared tables, at a fixed time). A critical failure exits with
    status 2 and prints a few short lines per failed expectation (the check, what failed, a
    failing record, the files its rows came from). Otherwise the rows that pass go to
    data/validated/ for the next stages, and rows of quarantined tables that fail row-level
    checks go to data/quarantine/.
    """

    from stages.core.datasets import write_partitioned
    from stages.core.errors import EXIT_DATA_ERROR
    from stages.core.headline import headline
    from stages.core.io import write_json, write_parquet
    from stages.core.markup import quantity
    from stages.core.progress import step
    from stages.core.reading import label_set, load_params, tables_digest
    from stages.gate.expectations import validate_tables
    from stages.gate.failures import absent_column, describe_failure, failing_records
    from stages.gate.outcomes import summarise
    from stages.gate.suites import CRITICAL, load_suite

    params = load_params(params_file)
    suite = load_suite(Path(params["validate"]["suite"]))
    tables = read_tables(prepared_dir, ("items", "annotations", "gold"), "prepare")
    docs_dir = None if no_docs else reports_dir / "docs"
    # Data Docs are built aside and swapped in whole: a kill never leaves half a site, and
    # the latest run's pages only (Great Expectations would otherwise pile up runs).
    building = None if docs_dir is None else reports_dir / ".docs-building"
    if building is not None:
        shutil.rmtree(building, ignore_errors=True)
    run_name = f"prepared-{tables_digest(prepared_dir)}"
    with step(f"running the suite's {len(suite.checks)} checks with Great Expectations"):
        validation = validate_tables(
            tables, suite, label_set(params, params_file), building, run_name
        )
    if docs_dir is not None and building is not None:
        # The old site is moved aside whole before the new one takes its place: a folder that
        # cannot be moved stops the stage with the old pages intact, never half deleted.
        replaced = Path(tempfile.mkdtemp(prefix=".docs-replaced-", dir=reports_dir))
        try:
            moved = docs_dir.exists()
            if moved:
                docs_dir.replace(replaced)  # onto the empty folder made for it
            try:
                building.rename(docs_dir)
            except OSError:
                if moved and not docs_dir.exists():
                    replaced.rename(docs_dir)  # the old site back where it was
                raise
        finally:
            shutil.rmtree(replaced, ignore_errors=True)
    summary = summarise(tables, validation)
    for outcome in validation.outcomes:  # which records failed, beyond the few a line shows
        table = tables.get(outcome.check.table, validation.derived.get(outcome.check.table))
        records = [] if outcome.success else failing_records(outcome, table)
        if records:  # the first 20: more are in Data Docs and the quarantine, if any
            entry = summary["tables"][outcome.check.table]["checks"][outcome.check.name]
            entry["failing"] = records
            entry["failing_not_listed"] = max(outcome.unexpected - len(records), 0)
    write_json(reports_dir / "summary.json", summary)
    write_json(metrics_file, headline("validate", summary))
    for note in _quarantine_notes(validation.quarantined):
        click.echo(note, err=True)
    failed = [o for o in validation.outcomes if not o.success]
    explained: set[tuple[str, str]] = set()  # a missing column fails every check on it
    for outcome in failed:
        table = tables.get(outcome.check.table, validation.derived.get(outcome.check.table))
        absent = absent_column(outcome, table)
        again = (outcome.check.table, absent) in explained
        click.echo(describe_failure(outcome, table, again=again), err=True)
        if absent:
            explained.add((outcome.check.table, absent))
    docs_note = f"validate: Data Docs: {docs_dir / 'index.html'}" if docs_dir else ""
    if any(outcome.check.severity == CRITICAL for outcome in failed):
        click.echo(
            f"validate: {summary['failed_critical']} critical check(s) failed; fix the delivery "
            "(data/raw/),\n  params.yaml (a label missing from data.labels?) or the suite, then "
            "`dvc repro`",
            err=True,
        )
        if docs_note:
            click.echo(docs_note, err=True)
        raise SystemExit(EXIT_DATA_ERROR)
    for name in tables:
        if name == "items":  # partitioned: train and evaluate each read their split only
            write_partitioned(validated_dir / "items", validation.kept[name], "split")
            (validated_dir / "items.parquet").unlink(missing_ok=True)  # an older layout
        else:
            write_parquet(validated_dir / f"{name}.parquet", validation.kept[name])
        write_parquet(quarantine_dir / f"{name}.parquet", validation.quarantined[name])
    failed = summary["failed_warning"]
    outcome = f"{summary['checks'] - failed} of {summary['checks']} checks passed"
    outcome += f", {failed} failed (warning)" if failed else ""
    quarantined = quantity(summary["rows_quarantined"], "row")
    click.echo(
        f"validate: {outcome}; {summary['skipped']} skipped; {quarantined} quarantined", err=True
    )
    if summary["skipped_checks"]:
        skipped = ", ".join(summary["skipped_checks"])
        click.echo(f"validate: skipped, their column is absent: {skipped}", err=True)
    if docs_note:
        click.echo(docs_note, err=True)


def _quarantine_notes(quarantined: dict[str, Any]) -> list[str]:
    """One line per table that set rows aside, counted by check: the checks after it ran
    without those rows (a judgment count that fails may be the quarantine's doing)."""
    from stages.core.markup import quantity

    notes = []
    for name in ("items", "annotations", "gold"):
        frame = quarantined.get(name)
        if frame is not None and len(frame):
            counts = frame["reason"].str.split(";").explode().value_counts()
            checks = ", ".join(f"{check} {count}" for check, count in sorted(counts.items()))
            notes.append(f"validate: quarantined {quantity(len(frame), f'{name} row')} ({checks})")
    return notes
