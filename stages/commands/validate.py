from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--prepared",
    "prepared_dir",
    type=click.Path(path_type=Path),
    default=Path("data/prepared"),
    show_default=True,
)
@click.option(
    "--summary",
    "summary_file",
    type=click.Path(path_type=Path),
    default=Path("reports/validation/summary.json"),
    show_default=True,
)
@click.option(
    "--params",
    "params_file",
    type=click.Path(path_type=Path),
    default=Path("params.yaml"),
    show_default=True,
)
def validate(prepared_dir: Path, summary_file: Path, params_file: Path) -> None:
    """Check the prepared tables with a Great Expectations suite; stop the pipeline on failure.

    Writes a deterministic summary (a DVC metric). A critical failure exits with status 2 and
    prints one line per failed expectation.
    """
    import pandas as pd

    from stages.errors import EXIT_DATA_ERROR, DataError
    from stages.expectations import (
        CRITICAL,
        default_checks,
        describe_failure,
        run_checks,
        summarise,
    )
    from stages.io import load_params, progress, section, write_json

    params = load_params(params_file)
    data, options = section(params, "data"), section(params, "validate")
    tables = {}
    for name in ("items", "annotations", "gold"):
        path = prepared_dir / f"{name}.parquet"
        if not path.exists():
            raise DataError(path, None, "prepared table missing; run `dvc repro prepare` first")
        tables[name] = pd.read_parquet(path)
    progress("running Great Expectations suites")
    outcomes = run_checks(tables, default_checks(tables, data["labels"], options))
    summary = summarise(tables, outcomes)
    write_json(summary_file, summary)
    failed = [outcome for outcome in outcomes if not outcome.success]
    for outcome in failed:
        click.echo(describe_failure(outcome), err=True)
    if any(outcome.check.severity == CRITICAL for outcome in failed):
        click.echo(
            f"validate: {summary['failed_critical']} critical check(s) failed; fix the delivery in "
            f"data/raw/ (or params.yaml) and rerun `dvc repro`. Summary: {summary_file}",
            err=True,
        )
        raise SystemExit(EXIT_DATA_ERROR)
    click.echo(
        f"validate: {summary['checks']} checks passed ({summary['failed_warning']} warnings)",
        err=True,
    )
