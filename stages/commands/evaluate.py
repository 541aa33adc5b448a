from __future__ import annotations

from pathlib import Path

import click

from stages.commands import existing_table, metrics_option, params_option, path_option, upstream
from stages.core import catalog


@click.command()
@path_option("--validated", "validated_dir", catalog.VALIDATED)
@path_option("--labels-file", "labels_file", catalog.LABELS)
@path_option("--model", "model_dir", catalog.MODELS)
@path_option("--reports", "reports_dir", catalog.REPORTS)
@path_option("--data-version", "raw_dvc", catalog.DATA_VERSION)
@path_option("--templates", "templates_dir", catalog.PLOT_TEMPLATES)
@metrics_option("evaluate")
@params_option
def evaluate(
    validated_dir: Path,
    labels_file: Path,
    model_dir: Path,
    reports_dir: Path,
    raw_dvc: Path,
    templates_dir: Path,
    metrics_file: Path,
    params_file: Path,
) -> None:
    """Score the model on the test split; write metrics, plots, a report and the model card.

    \b
    reports/metrics.json: accuracy, balanced accuracy, macro-F1, log-loss, Brier score, expected
    calibration error and per-class scores, on the test split (truth: the merged labels) and on
    its gold items (truth: expert labels). reports/plots/: confusion matrix, per-class
    precision-recall and ROC curves, calibration. reports/evaluation.md, models/model_card.md
    and reports/report.html (the report and every plot, drawn offline) for people.
    """

    import pandas as pd

    from stages.core import terminal
    from stages.core.datasets import read_table
    from stages.core.headline import headline
    from stages.core.io import read_written_csv, write_csv, write_json, write_text
    from stages.core.markup import plot_rows, quantity
    from stages.core.reading import data_version, label_set, load_params, read_json
    from stages.evaluation import pages
    from stages.evaluation.run import drawn_charts, evaluate_model, merged_by, run_report
    from stages.evaluation.scoring import never_predicted, unscored_classes
    from stages.training import model_io, modeling

    params = load_params(params_file)
    classes = label_set(params, params_file)
    items = existing_table(validated_dir, "items", "validate")
    labels = pd.read_parquet(upstream(labels_file, "label-merge"))
    model = model_io.load(upstream(model_dir / catalog.MODEL_FILE, "train"))
    fitted = read_json(upstream(model_dir / catalog.TRAIN_SUMMARY, "train"))
    # Drawn in report.html when label-merge wrote it beside (always, in the pipeline).
    annotators_file = reports_dir / catalog.ANNOTATORS_PLOT
    text = ["annotator_id", "flag"]
    annotators = read_written_csv(annotators_file, text) if annotators_file.exists() else None
    merge_file = reports_dir / "label_merge.json"  # the annotators and their agreement, likewise
    merging = read_json(merge_file) if merge_file.exists() else None
    test_items = read_table(items, where={"split": ["test"]})
    test = modeling.split_with_labels(test_items, labels, "test")
    subject = pages.evaluated(params, data_version(raw_dvc), merged_by(labels), fitted)
    gold = read_table(existing_table(validated_dir, "gold", "validate"))
    # One label per gold item (validate's item_id_unique, unless a team relaxed it: the last)
    experts = gold.drop_duplicates("item_id", keep="last").set_index("item_id")["label"]
    experts = experts.astype(str)
    top = params["evaluate"]["top_confusions"]
    result = evaluate_model(model, test, classes, top, subject, experts)
    # Every page is made before the first is written: a template that cannot draw stops the
    # stage with no new metrics beside old charts.
    pictures = drawn_charts(result, annotators, templates_dir)
    report_page = run_report(result, pictures)
    train_ids = read_table(items, ["item_id", "split"], where={"split": ["train"]})
    train_rows = modeling.split_with_labels(train_ids, labels, "train")
    fitted_on, _ = modeling.sample_weights(train_rows, params["train"])  # drop mode leaves some
    fitted_labels = train_rows.loc[fitted_on.to_numpy(bool), "label"].astype(str)
    counts = fitted_labels.value_counts().reindex(classes).fillna(0).astype(int)
    card = pages.model_card(
        result.metrics,
        params,
        data_version(raw_dvc),
        counts,
        fitted,
        merged_by(labels),
        merging,
        {stem: title for stem, (title, _) in pictures.items()},
    )
    write_json(reports_dir / "metrics.json", result.metrics)
    write_json(metrics_file, headline("evaluate", result.metrics))
    for name, rows in result.plots.items():
        write_csv(reports_dir / "plots" / name, plot_rows(rows))
    write_text(reports_dir / "evaluation.md", result.report)
    for stem, (_, drawing) in pictures.items():  # the model card shows them; so can any page
        write_text(reports_dir / "charts" / f"{stem}.svg", drawing)
    write_text(reports_dir / "report.html", report_page)
    write_text(model_dir / "model_card.md", card)
    scores = result.metrics["test"]
    click.echo(
        f"evaluate: accuracy {scores.get('accuracy', float('nan')):.4f}, "
        f"macro-F1 {scores.get('macro_f1', float('nan')):.4f} on {scores['items']} test items",
        err=True,
    )
    report = reports_dir / "evaluation.md"
    missed = never_predicted(scores.get("per_class", {}))
    if missed:  # a class the model never predicts hides behind a fair accuracy
        message = f"never predicted on the test split: {', '.join(missed)}; see {report}"
        click.echo(terminal.wrapped("evaluate: ", message), err=True)
    unscored = unscored_classes(scores.get("per_class", {}), classes)
    if unscored:
        names = ", ".join(terminal.quoted(label) for label in unscored)
        message = f"no test item, so not scored: {names}; see {report}"
        click.echo(terminal.wrapped("evaluate: ", message), err=True)
    if len(test) < len(test_items):  # abstained (a majority-vote tie) or judged by no one
        unlabelled = quantity(len(test_items) - len(test), "test item")
        message = f"{unlabelled} without a merged label, not scored"
        click.echo(terminal.wrapped("evaluate: ", message), err=True)
