from __future__ import annotations

from pathlib import Path

import click


@click.command("label-merge")
@click.option(
    "--prepared",
    "prepared_dir",
    type=click.Path(path_type=Path),
    default=Path("data/prepared"),
    show_default=True,
)
@click.option(
    "--out",
    "labels_file",
    type=click.Path(path_type=Path),
    default=Path("data/labels/labels.parquet"),
    show_default=True,
)
@click.option(
    "--summary",
    "summary_file",
    type=click.Path(path_type=Path),
    default=Path("reports/label_merge.json"),
    show_default=True,
)
@click.option(
    "--method",
    type=click.Choice(["dawid_skene", "majority_vote"]),
    default=None,
    help="Override label_merge.method.",
)
@click.option(
    "--params",
    "params_file",
    type=click.Path(path_type=Path),
    default=Path("params.yaml"),
    show_default=True,
)
def label_merge(
    prepared_dir: Path, labels_file: Path, summary_file: Path, method: str | None, params_file: Path
) -> None:
    """Merge every annotator's judgments into one label per item, with its confidence.

    Dawid-Skene (default) weighs annotators by their estimated confusion matrices; majority
    vote counts heads with a tie rule from params. Writes the labels table and an agreement
    summary (Krippendorff's alpha, gold accuracy) that DVC tracks as metrics.
    """
    import pandas as pd

    from stages.errors import DataError
    from stages.io import load_params, progress, section, write_json, write_parquet
    from stages.merge import merge_labels

    params = load_params(params_file)
    data, options = section(params, "data"), dict(section(params, "label_merge"))
    if method:
        options["method"] = method
    tables = {}
    for name in ("annotations", "gold"):
        path = prepared_dir / f"{name}.parquet"
        if not path.exists():
            raise DataError(path, None, "prepared table missing; run `dvc repro prepare` first")
        tables[name] = pd.read_parquet(path)
    progress(f"merging {len(tables['annotations'])} judgments with {options.get('method')}")
    try:
        labels, summary = merge_labels(
            tables["annotations"],
            tables["gold"],
            data["labels"],
            options,
            int(params.get("seed", 0)),
        )
    except ValueError as error:
        raise DataError(prepared_dir / "annotations.parquet", None, str(error)) from None
    write_parquet(labels_file, labels)
    write_json(summary_file, summary)
    click.echo(
        f"label-merge: {summary['labelled_items']} items labelled by {summary['method']}, "
        f"alpha {summary['krippendorff_alpha']:.3f}, gold accuracy {summary['gold_accuracy']:.3f}",
        err=True,
    )
