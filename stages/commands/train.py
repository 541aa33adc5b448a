from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--validated",
    "prepared_dir",
    type=click.Path(path_type=Path),
    default=Path("data/validated"),
    show_default=True,
)
@click.option(
    "--labels",
    "labels_file",
    type=click.Path(path_type=Path),
    default=Path("data/labels/labels.parquet"),
    show_default=True,
)
@click.option(
    "--out", "model_dir", type=click.Path(path_type=Path), default=Path("models"), show_default=True
)
@click.option(
    "--params",
    "params_file",
    type=click.Path(path_type=Path),
    default=Path("params.yaml"),
    show_default=True,
)
def train(prepared_dir: Path, labels_file: Path, model_dir: Path, params_file: Path) -> None:
    """Fit the scikit-learn pipeline chosen in params on the train split's merged labels.

    Seeded from params, so the same inputs give the same model bytes. Writes model.pkl and
    train.json (what was fitted on, and the grid-search result when a grid is set).
    """
    import pickle

    import pandas as pd

    from stages import modeling
    from stages.errors import DataError
    from stages.io import load_params, progress, section, write_bytes, write_json

    params = load_params(params_file)
    options, seed = section(params, "train"), int(params.get("seed", 0))
    items = pd.read_parquet(prepared_dir / "items.parquet")
    labels = pd.read_parquet(labels_file)
    features, targets, unlabelled = modeling.training_set(items, labels)
    if targets.nunique() < 2:
        raise DataError(labels_file, None, "fewer than two classes among train-split labels")
    progress(f"fitting {options.get('model')} on {len(targets)} items")
    try:
        model, search = modeling.fit(features, targets, options, seed)
    except (ValueError, TypeError) as error:
        raise DataError(params_file, f"train.{options.get('model')}", str(error)) from None
    write_bytes(model_dir / "model.pkl", pickle.dumps(model, protocol=5))
    write_json(
        model_dir / "train.json",
        {
            "model": options.get("model"),
            "train_items": len(targets),
            "train_items_without_label": unlabelled,
            "features": len(features.columns),
            **search,
        },
    )
    click.echo(f"train: {options.get('model')} fitted on {len(targets)} items", err=True)
