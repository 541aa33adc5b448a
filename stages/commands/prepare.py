from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from stages.commands import metrics_option, params_option, path_option
from stages.core import catalog, terminal

if TYPE_CHECKING:
    import pandas as pd


@click.command()
@path_option("--raw", "raw_dir", catalog.RAW)
@path_option("--out", "out_dir", catalog.PREPARED)
@path_option("--report", "report_file", catalog.PREPARE_REPORT)
@metrics_option("prepare")
@params_option
def prepare(
    raw_dir: Path, out_dir: Path, report_file: Path, metrics_file: Path, params_file: Path
) -> None:
    """Read items, every annotation batch and gold into canonical Parquet tables.

    Labels are normalised against data.labels (aliases, case, spaces), annotator ids through
    annotator_aliases.csv when --raw holds one; each item gets a stable hash-based train/test
    split. Writes items, annotations and gold .parquet under --out, and
    reports/prepare.json: judgments per file and every record that held no judgment
    (cancelled, ignored, ...), by reason.
    """
    from stages.core.headline import headline
    from stages.core.io import write_json, write_parquet
    from stages.core.markup import quantity
    from stages.core.progress import step
    from stages.core.reading import label_set, load_params
    from stages.ingest import tables
    from stages.ingest.delivery import read_delivery
    from stages.ingest.identities import ALIAS_FILE
    from stages.ingest.items import partly_numeric, read_items

    params = load_params(params_file)
    options, labels = params["prepare"], label_set(params, params_file)
    with step(f"reading items from {raw_dir}"):
        items_file = _one_of(raw_dir, "items")
        items = read_items(items_file)
    items["item_id"], collapsed = tables.normalised_ids(items["item_id"], "items: item_id")
    collapsed += partly_numeric(items, items_file)
    items = tables.canonical_items(items, options["test_size"], options["split_salt"])
    with step(f"reading annotation exports in {raw_dir / 'annotations'}"):
        delivery = read_delivery(
            raw_dir / "annotations",
            _one_of(raw_dir, "gold"),
            params["data"],
            labels,
            params_file=params_file,
            aliases_file=raw_dir / ALIAS_FILE,
        )
    annotations, gold, export = delivery.annotations, delivery.gold, delivery.export
    warnings = collapsed + export.warnings + _empty_splits(items, options["test_size"])

    for name, frame in (("items", items), ("annotations", annotations), ("gold", gold)):
        write_parquet(out_dir / f"{name}.parquet", frame)
    per_file = annotations["source"].value_counts().sort_index()
    report = {
        "items": len(items),
        "test_items": int((items["split"] == "test").sum()),
        "annotations": len(annotations),
        "gold": len(gold),
        "files": {
            source: {
                "format": export.formats.get(source, "unknown"),
                "judgments": int(per_file.get(source, 0)),
                "annotator_ids": delivery.annotator_ids.get(source, "none"),
            }
            for source in sorted(export.formats)
        },
        # Records that hold no judgment (cancelled, ignored, ...): counted, never silently lost.
        "skipped_records": sum(export.skipped.values()),
        "label_spellings": delivery.label_spellings,
        # Judgments repeating an (annotator, item) pair: kept; label-merge uses the latest.
        "repeated_judgments": int(annotations.duplicated(["item_id", "annotator_id"]).sum()),
        "skipped": export.skipped,
        # Worth a look, not an error: task data naming files outside the project, annotator
        # ids of different kinds across files, exports that cannot carry gold marks. Each is
        # capped as on the terminal: a 200 MB task value must not land in a file kept in Git.
        "warnings": [terminal.capped(warning, 2000) for warning in warnings],
    }
    write_json(report_file, report)
    write_json(metrics_file, headline("prepare", report))
    terminal.echo_warnings(warnings)
    click.echo(
        f"prepare: {len(items)} items ({int((items['split'] == 'test').sum())} test), "
        f"{len(annotations)} annotations from {quantity(annotations['source'].nunique(), 'file')}, "
        f"{len(gold)} gold",
        err=True,
    )


def _empty_splits(items: pd.DataFrame, test_size: float) -> list[str]:
    """A split no item fell into: train or evaluate would stop on it later, less clearly."""
    from stages.core.markup import quantity

    counts = items["split"].value_counts()
    return [
        f"no item fell in the {split} split ({quantity(len(items), 'item')}, "
        f"prepare.test_size {test_size}):"
        f" {stage} needs some; add items or change prepare.test_size"
        for split, stage in (("train", "train"), ("test", "evaluate"))
        if not counts.get(split, 0)
    ]


def _one_of(raw_dir: Path, stem: str) -> Path:
    """``raw_dir/stem.parquet`` when present, else ``.csv`` (which may not exist); both is an
    error, since one of them would be left out without a word."""
    from stages.core.errors import DataError

    parquet, csv = raw_dir / f"{stem}.parquet", raw_dir / f"{stem}.csv"
    if parquet.exists() and csv.exists():
        raise DataError(
            raw_dir, None, f"both {csv.name} and {parquet.name}: keep one, delete the other"
        )
    return parquet if parquet.exists() else csv
