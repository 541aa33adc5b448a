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
    "--model",
    "model_file",
    type=click.Path(path_type=Path),
    default=Path("models/model.pkl"),
    show_default=True,
)
@click.option(
    "--reports",
    "reports_dir",
    type=click.Path(path_type=Path),
    default=Path("reports"),
    show_default=True,
)
@click.option(
    "--params",
    "params_file",
    type=click.Path(path_type=Path),
    default=Path("params.yaml"),
    show_default=True,
)
def evaluate(
    prepared_dir: Path, labels_file: Path, model_file: Path, reports_dir: Path, params_file: Path
) -> None:
    """Score the model on the test split: metrics.json, the confusion plot and a Markdown report.

    Truth is the merged label; gold items in the test split are also scored on their own,
    since expert labels are the most trusted estimate.
    """
    import pickle

    import pandas as pd

    from stages import modeling, scoring
    from stages.io import load_params, section, write_csv, write_json, write_text

    params = load_params(params_file)
    data, options = section(params, "data"), section(params, "evaluate")
    classes = [str(label) for label in data["labels"]]
    items = pd.read_parquet(prepared_dir / "items.parquet")
    labels = pd.read_parquet(labels_file)
    with open(model_file, "rb") as handle:
        model = pickle.load(handle)  # our own train stage wrote it

    test = items[items["split"] == "test"].merge(labels, on="item_id", how="inner", validate="1:1")
    test = test[test["label"].notna()].reset_index(drop=True)
    predicted = pd.Series(model.predict(test[modeling.feature_columns(items)]).astype(str))
    actual = test["label"].astype(str)
    gold = test["is_gold"].to_numpy()
    metrics = {
        "test": scoring.score(actual, predicted, classes),
        "gold": scoring.score(actual[gold], predicted[gold], classes),
    }
    rows = scoring.confusion_rows(test["item_id"], actual, predicted)
    write_json(reports_dir / "metrics.json", metrics)
    write_csv(reports_dir / "plots" / "confusion.csv", rows)
    write_text(
        reports_dir / "evaluation.md",
        scoring.markdown_report(metrics, rows, classes, int(options.get("top_confusions", 5))),
    )
    scores = metrics["test"]
    click.echo(
        f"evaluate: accuracy {scores['accuracy']:.4f}, macro-F1 {scores['macro_f1']:.4f} "
        f"on {scores['items']} test items",
        err=True,
    )
