from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from stages.commands import existing_table, params_option, path_option, upstream
from stages.core import catalog

if TYPE_CHECKING:
    import pandas as pd


@click.command()
@path_option("--validated", "validated_dir", catalog.VALIDATED)
@path_option("--labels", "labels_file", catalog.LABELS)
@path_option("--model", "model_dir", catalog.MODELS)
@path_option("--reports", "reports_dir", catalog.REPORTS)
@path_option("--data-version", "raw_dvc", catalog.DATA_VERSION)
@params_option
def evaluate(
    validated_dir: Path,
    labels_file: Path,
    model_dir: Path,
    reports_dir: Path,
    raw_dvc: Path,
    params_file: Path,
) -> None:
    """Score the model on the test split; write metrics, plots, a report and the model card.

    \b
    reports/metrics.json: accuracy, balanced accuracy, macro-F1, log-loss, Brier score, expected
    calibration error and per-class scores, on the test split (truth: the merged labels) and on
    its gold items (truth: expert labels). reports/plots/: confusion matrix, per-class
    precision-recall and ROC curves, calibration. reports/evaluation.md and
    models/model_card.md for people.
    """
    import json

    import numpy as np
    import pandas as pd
    import yaml

    from stages.core.datasets import read_table
    from stages.core.io import label_set, load_params, write_csv, write_json, write_text
    from stages.evaluation import scoring
    from stages.training import model_io, modeling

    params = load_params(params_file)
    options, classes = params["evaluate"], label_set(params, params_file)
    items = existing_table(validated_dir, "items", "validate")
    labels = pd.read_parquet(upstream(labels_file, "label-merge"))
    model = model_io.load(upstream(model_dir / catalog.MODEL_FILE, "train"))
    test = modeling.split_with_labels(read_table(items, where={"split": ["test"]}), labels, "test")
    fitted_classes = [str(label) for label in model.classes_]
    probabilities = np.zeros((len(test), len(classes)))
    if len(test):
        predicted = model.predict_proba(test)
        for column, label in enumerate(fitted_classes):
            if label in classes:
                probabilities[:, classes.index(label)] = predicted[:, column]
    actual = test["label"].astype(str)
    gold = test["is_gold"].to_numpy()
    metrics = {
        "test": scoring.score(actual, probabilities, classes),
        "gold": scoring.score(actual[gold], probabilities[gold], classes),
    }
    predicted_labels = pd.Series(
        np.asarray(classes)[probabilities.argmax(axis=1)] if len(test) else [], dtype=object
    )
    rows = scoring.confusion_rows(test["item_id"], actual, predicted_labels)
    precision_recall, roc = scoring.curves(actual, probabilities, classes)
    write_json(reports_dir / "metrics.json", metrics)
    write_csv(reports_dir / "plots" / "confusion.csv", rows)
    write_csv(reports_dir / "plots" / "precision_recall.csv", precision_recall)
    write_csv(reports_dir / "plots" / "roc.csv", roc)
    write_csv(
        reports_dir / "plots" / "calibration.csv",
        scoring.calibration_table(actual, probabilities, classes),
    )
    top = options["top_confusions"]
    write_text(reports_dir / "evaluation.md", scoring.markdown_report(metrics, rows, classes, top))
    train_ids = read_table(items, ["item_id", "split"], where={"split": ["train"]})
    train_rows = modeling.split_with_labels(train_ids, labels, "train")
    version = (
        (yaml.safe_load(raw_dvc.read_text()) or {}).get("outs", [{}])[0].get("md5", "unknown")
        if raw_dvc.exists()
        else "unknown"
    )
    fitted = json.loads(upstream(model_dir / catalog.TRAIN_SUMMARY, "train").read_text())
    counts = train_rows["label"].astype(str).value_counts().reindex(classes).fillna(0).astype(int)
    write_text(
        model_dir / "model_card.md",
        scoring.model_card(metrics, params, version, counts, fitted, merged_by(labels)),
    )
    scores = metrics["test"]
    click.echo(
        f"evaluate: accuracy {scores.get('accuracy', float('nan')):.4f}, "
        f"macro-F1 {scores.get('macro_f1', float('nan')):.4f} on {scores['items']} test items",
        err=True,
    )


def merged_by(labels: pd.DataFrame) -> str:
    """The method(s) named in the labels table (one, unless the table was edited by hand)."""
    return ", ".join(sorted(labels["method"].dropna().astype(str).unique()))
