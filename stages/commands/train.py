from __future__ import annotations

from pathlib import Path

import click

from stages.commands import existing_table, params_option, path_option, upstream
from stages.core import catalog


@click.command()
@path_option("--validated", "validated_dir", catalog.VALIDATED)
@path_option("--labels", "labels_file", catalog.LABELS)
@path_option("--out", "model_dir", catalog.MODELS)
@path_option("--issues", "issues_file", catalog.LABEL_ISSUES)
@path_option("--relabel", "relabel_file", catalog.RELABEL_ISSUES)
@params_option
def train(
    validated_dir: Path,
    labels_file: Path,
    model_dir: Path,
    issues_file: Path,
    relabel_file: Path,
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
    from stages.core.io import (
        load_params,
        progress,
        write_bytes,
        write_csv,
        write_json,
        write_json_records,
    )
    from stages.training import label_issues, model_io, modeling, parallel
    from stages.truth.relabel import label_studio_tasks

    params = load_params(params_file)
    options, seed = params["train"], params["seed"]
    chosen = parallel.settings(options["parallel"], params_file)
    # Connect first: an unreachable scheduler fails before any work is done.
    with parallel.joblib_backend(chosen, params_file) as n_jobs:
        # The train partition only: the test split's rows are never read here.
        items = read_table(
            existing_table(validated_dir, "items", "validate"), where={"split": ["train"]}
        )
        labels = pd.read_parquet(upstream(labels_file, "label-merge"))
        train_rows = modeling.split_with_labels(items, labels, "train")
        train_split = len(items)
        try:
            keep, weights = modeling.sample_weights(train_rows, options)
            dropped_low_confidence = int((~keep).sum())
            train_rows, weights = (
                train_rows[keep].reset_index(drop=True),
                weights[keep].reset_index(drop=True),
            )
            estimator = modeling.build_estimator(items, options, seed)
            if train_rows["label"].nunique() < 2:
                raise ValueError("fewer than two classes among the train split's labels")
            where = f" on {chosen.scheduler}" if chosen.scheduler else ""
            progress(f"fitting {options['model']} on {len(train_rows)} items{where}")
            targets = train_rows["label"].astype(str)
            model, search = modeling.fit(
                train_rows,
                targets,
                weights,
                estimator,
                options,
                seed,
                n_jobs=n_jobs,
                threads=chosen.n_jobs,
            )
        except (ValueError, TypeError) as error:
            raise DataError(
                params_file, f"train.{options['model']}", str(error).splitlines()[0]
            ) from None
        data = model_io.to_bytes(model)
        unknown = model_io.untrusted(data)
        if unknown:
            raise DataError(
                params_file,
                "train",
                f"model holds types not in TRUSTED_TYPES: {', '.join(unknown)}",
            )
        write_bytes(model_dir / catalog.MODEL_FILE, data)

        issues_options = options["label_issues"]
        issues = pd.DataFrame(columns=label_issues.ISSUE_COLUMNS)
        if issues_options["enabled"]:
            progress("ranking likely label errors (confident learning)")
            scored = label_issues.out_of_fold_probabilities(
                estimator,
                train_rows,
                targets,
                weights,
                issues_options["folds"],
                seed,
                n_jobs=n_jobs,
            )
            if scored is not None:
                issues = label_issues.rank_issues(train_rows["item_id"], targets, *scored)
    write_csv(issues_file, issues)
    candidates = label_issues.relabel_candidates(issues, issues_options["max_tasks"])
    relabel = dict(params["label_merge"]["relabel"])
    relabel.setdefault("item_key", params["data"]["annotations"]["item_key"])
    text = items[
        [c for c in items.columns if c != "split" and not pd.api.types.is_numeric_dtype(items[c])]
    ]
    write_json_records(
        relabel_file, label_studio_tasks(candidates, text, relabel, "train-confident-learning")
    )
    write_json(
        model_dir / catalog.TRAIN_SUMMARY,
        {
            "model": options["model"],
            "train_items": len(train_rows),
            # Train-split items that did not reach the model, by reason (never silently lost).
            "without_merged_label": train_split - len(train_rows) - dropped_low_confidence,
            "dropped_low_confidence": dropped_low_confidence,
            "label_issues": int(issues["is_issue"].sum()) if len(issues) else 0,
            **search,
        },
    )
    click.echo(
        f"train: {options['model']} fitted on {len(train_rows)} items; "
        f"{int(issues['is_issue'].sum()) if len(issues) else 0} likely label errors",
        err=True,
    )
