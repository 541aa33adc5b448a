"""Thin Click commands, one per stage: read params, call pure functions, write outputs.

The helpers here are what every command shares: path options and reading the tables a stage
takes from the one before it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stages.core import catalog

if TYPE_CHECKING:
    import pandas as pd

PATH = click.Path(path_type=Path)


def path_option(
    flag: str, dest: str, default: str, help: str | None = None
) -> Callable[[Any], Any]:
    """An option holding a path, with its default shown in --help."""
    return click.option(flag, dest, type=PATH, default=Path(default), show_default=True, help=help)


params_option = path_option("--params", "params_file", catalog.PARAMS, "The params file.")


def metrics_option(stage: str) -> Callable[[Any], Any]:
    """Where the stage writes its headline numbers (DVC metrics; stages.core.headline)."""
    default = f"{catalog.METRICS}/{stage}.json"
    return path_option("--metrics", "metrics_file", default, "Headline metrics (DVC metrics).")


def upstream(path: Path, stage: str) -> Path:
    """What an earlier stage wrote; if it is missing, one line says which stage to run."""
    from stages.core.errors import DataError

    if not path.exists():
        raise DataError(path, None, f"missing; run `dvc repro {stage}` first")
    return path


def existing_table(folder: Path, name: str, stage: str) -> Path:
    """Where an earlier stage wrote a table (file or partitioned folder)."""
    from stages.core.datasets import table_path

    return upstream(table_path(folder, name), stage)


def read_tables(folder: Path, names: tuple[str, ...], stage: str) -> dict[str, pd.DataFrame]:
    """The Parquet tables an earlier stage wrote, whole."""
    from stages.core.datasets import read_table

    return {name: read_table(existing_table(folder, name, stage)) for name in names}
