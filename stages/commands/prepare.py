from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--raw", "raw_dir", type=click.Path(path_type=Path), default=Path("data/raw"), show_default=True
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("data/prepared"),
    show_default=True,
)
@click.option(
    "--params",
    "params_file",
    type=click.Path(path_type=Path),
    default=Path("params.yaml"),
    show_default=True,
)
def prepare(raw_dir: Path, out_dir: Path, params_file: Path) -> None:
    """Read items, every annotation batch and gold into canonical Parquet tables.

    Labels are normalised against data.labels (aliases, case, spaces); each item gets a stable
    hash-based train/test split. Writes items, annotations and gold .parquet under --out.
    """
    from stages import tables
    from stages.errors import DataError
    from stages.formats import read_annotations
    from stages.io import load_params, progress, section, write_parquet

    params = load_params(params_file)
    data, options = section(params, "data"), section(params, "prepare")
    mapping = tables.label_normaliser(data["labels"], data.get("aliases"))
    annotation_options = data.get("annotations") or {}

    progress(f"reading items from {raw_dir}")
    items = tables.read_items(_one_of(raw_dir, "items"))
    items = tables.canonical_items(items, float(options["test_size"]), str(options["split_salt"]))

    batch_dir = raw_dir / "annotations"
    batches = sorted(p for p in batch_dir.glob("*") if p.is_file() and not p.name.startswith("."))
    if not batches:
        raise DataError(batch_dir, None, "no annotation files; add your tool's exports here")
    frames = []
    for path in batches:
        progress(f"reading {path.name}")
        frames.append(
            read_annotations(path, annotation_options.get("format", "auto"), annotation_options)
        )
    annotations = tables.canonical_annotations(frames, mapping)
    gold = tables.read_gold(_one_of(raw_dir, "gold"), mapping)

    for name, frame in (("items", items), ("annotations", annotations), ("gold", gold)):
        write_parquet(out_dir / f"{name}.parquet", frame)
    click.echo(
        f"prepare: {len(items)} items ({int((items['split'] == 'test').sum())} test), "
        f"{len(annotations)} annotations from {len(batches)} files, {len(gold)} gold",
        err=True,
    )


def _one_of(raw_dir: Path, stem: str) -> Path:
    """``raw_dir/stem.parquet`` when present, else ``.csv`` (which may not exist)."""
    parquet = raw_dir / f"{stem}.parquet"
    return parquet if parquet.exists() else raw_dir / f"{stem}.csv"
