from __future__ import annotations

from pathlib import Path

import click

from stages.commands import existing_table, metrics_option, params_option, path_option, upstream
from stages.core import catalog


@click.command()
@path_option("--validated", "validated_dir", catalog.VALIDATED)
@path_option("--labels-file", "labels_file", catalog.LABELS)
@path_option("--out", "model_dir", catalog.MODELS)
@path_option("--issues", "issues_file", catalog.LABEL_ISSUES)
@path_option(
    "--issue-tasks", "relabel_file", catalog.RELABEL_ISSUES, "Writes: likely label errors as tasks."
)
@path_option(
    "--relabel",
    "merge_tasks_file",
    catalog.RELABEL_TASKS,
    "Reads: label-merge's relabel tasks (its --relabel), so no item is sent twice.",
)
@metrics_option("train")
@params_option
def train(
    validated_dir: Path,
    labels_file: Path,
    model_dir: Path,
    issues_file: Path,
    relabel_file: Path,
    merge_tasks_file: Path,
    metrics_file: Path,
    params_file: Path,
) -> None:
    """Fit the scikit-learn pipeline from params on the train split's merged labels.

    \b
    Features (train.features), model and hyperparameters come from params; seeded, so the same
    inputs give the same model bytes. Label confidence can weight or drop uncertain labels
    (train.label_confidence). Writes models/model.skops (safe to load: no pickle) and
    models/train.json; with train.label_issues, ranks likely-wrong training labels by
    confident learning (cleanlab) into reports/label_issues.csv and sends the top ones to
    data/relabel/label_issues.json as Label Studio tasks. train.parallel runs the folds of the
    grid search and of the out-of-fold predictions on several processes or on a Dask cluster (a
    scheduler address, or the STAGES_DASK_SCHEDULER environment variable); the final fit runs
    here, on threads, so the model bytes are the same wherever the folds ran (docs/scaling.md).
    """
    import pandas as pd

    from stages.core.datasets import read_table
    from stages.core.errors import DataError
    from stages.core.headline import headline
    from stages.core.io import write_bytes, write_csv, write_json, write_json_records
    from stages.core.reading import label_set, load_params
    from stages.core.terminal import echo_warnings
    from stages.training import label_issues, parallel
    from stages.training.model_params import check_model_params, positive_class
    from stages.training.modeling import ParamsMismatch
    from stages.training.run import UntrustedModel, text_columns_of, train_model
    from stages.truth.relabel import label_studio_tasks, task_items, unsafe_fields

    params = load_params(params_file)
    options = params["train"]
    label_names = label_set(params, params_file)  # as every stage: before any work, not mid-fit
    check_model_params(params, params_file)
    chosen = parallel.settings(options["parallel"], params_file)
    # Connect first: an unreachable scheduler fails before any work is done.
    with parallel.joblib_backend(chosen, params_file) as n_jobs:
        # The train partition only: the test split's rows are never read here.
        items_path = existing_table(validated_dir, "items", "validate")
        items = read_table(items_path, where={"split": ["train"]})
        labels = pd.read_parquet(upstream(labels_file, "label-merge"))
        where = f" on {chosen.scheduler}" if chosen.scheduler else ""
        try:
            trained = train_model(
                items, labels, options, params["seed"], n_jobs, chosen.n_jobs, where,
                positive_class(label_names),
            )  # fmt: skip
        except UntrustedModel as error:
            raise DataError(params_file, "train", str(error)) from None
        except ParamsMismatch as error:
            raise DataError(params_file, error.key, error.reason) from None
        except (ValueError, TypeError) as error:  # which key scikit-learn means, it cannot say
            if not _raised_in_sklearn(error):  # a fault of ours stays an internal error
                raise
            reason = f"scikit-learn refused the settings: {' '.join(str(error).split())}"
            raise DataError(params_file, "train", reason) from None
    # Every output is made before the first is written: a bad config or tasks file stops the
    # stage with the previous model, issues and tasks still together.
    item_key = params["data"]["annotations"]["item_key"]
    already_sent = task_items(merge_tasks_file, item_key)
    candidates = label_issues.relabel_candidates(
        trained.issues, options["label_issues"]["max_tasks"], already_sent
    )
    relabel = {"item_key": item_key, **params["label_merge"]["relabel"]}
    classes = sorted(labels["label"].dropna().astype(str).unique())
    tasks = label_studio_tasks(candidates, text_columns_of(items), relabel, classes)
    echo_warnings(unsafe_fields(tasks, relabel_file))
    write_bytes(model_dir / catalog.MODEL_FILE, trained.model)
    write_csv(issues_file, trained.issues)
    write_json_records(relabel_file, tasks)
    write_json(model_dir / catalog.TRAIN_SUMMARY, trained.summary)
    write_json(metrics_file, headline("train", trained.summary))
    summary = trained.summary
    click.echo(
        f"train: {options['model']} fitted on {summary['train_items']} items; "
        + (
            f"{summary['label_issues']} likely label errors"
            if summary["label_issues"] is not None
            else "label errors not ranked (train.label_issues off, or too few classes)"
        )
        + (
            f"\ntrain: {summary['label_issues_unranked']} item(s) of classes with one train item "
            "not ranked (no fold can score them)"
            if summary.get("label_issues_unranked")
            else ""
        ),
        err=True,
    )


def _raised_in_sklearn(error: BaseException) -> bool:
    """Whether scikit-learn raised ``error`` (or a library it called): its traceback passes
    through scikit-learn's code."""
    trace = error.__traceback__
    while trace is not None:
        if "sklearn" in Path(trace.tb_frame.f_code.co_filename).parts:
            return True
        trace = trace.tb_next
    return False
