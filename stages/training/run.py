"""One training run: the train split's merged labels in, model bytes and likely label errors
out. The train command reads and writes; everything between is here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from stages.core.progress import step
from stages.training import label_issues, model_io, modeling


class UntrustedModel(ValueError):
    """The fitted model holds types that model_io.TRUSTED_TYPES does not list."""


@dataclass(frozen=True)
class Trained:
    model: bytes  # skops bytes, every type in them trusted
    issues: pd.DataFrame  # label_issues.ISSUE_COLUMNS, likeliest errors first
    summary: dict[str, Any]  # models/train.json


def train_model(
    items: pd.DataFrame,
    labels: pd.DataFrame,
    options: dict[str, Any],
    seed: int,
    n_jobs: int = 1,
    threads: int = 1,
    where: str = "",
    positive: str | None = None,
) -> Trained:
    """Fit ``train`` params' model on the train split; raises ValueError or TypeError for params
    the data cannot take (a model's own complaints included). ``positive``: the class a
    two-class scoring scores."""
    train_rows = modeling.split_with_labels(items, labels, "train")
    keep, weights = modeling.sample_weights(train_rows, options)
    dropped_low_confidence = int((~keep).sum())
    train_rows = train_rows[keep].reset_index(drop=True)
    weights = weights[keep].reset_index(drop=True)
    estimator = modeling.build_estimator(items, options, seed)
    if train_rows["label"].nunique() < 2:
        raise ValueError("fewer than two classes among the train split's labels")
    targets = train_rows["label"].astype(str)
    # The model sees the items' own columns only: the merged label and its confidence would
    # be declared inputs (feature_names_in_) that a user of the model has no value for.
    inputs = train_rows[list(items.columns)]
    with step(f"fitting {options['model']} on {len(train_rows)} items{where}"):
        model, search = modeling.fit(
            inputs, targets, weights, estimator, options, seed, n_jobs, threads, positive
        )
    data = model_io.to_bytes(model)
    unknown = model_io.untrusted(data)
    if unknown:
        raise UntrustedModel(f"model holds types not in TRUSTED_TYPES: {', '.join(unknown)}")
    issues = pd.DataFrame(columns=label_issues.ISSUE_COLUMNS)
    checked = False  # not checked (turned off, too few items) is no count, not 0
    # A class of one item cannot be cross-validated: its items stay unranked, not the rest.
    rankable = targets.map(targets.value_counts()).ge(2).to_numpy()
    unranked = int((~rankable).sum())
    if options["label_issues"]["enabled"]:
        folds = options["label_issues"]["folds"]
        ranked = train_rows[rankable].reset_index(drop=True)
        rows = ranked[inputs.columns]
        ranked_targets = targets[rankable].reset_index(drop=True)
        with step(f"ranking likely label errors ({folds}-fold confident learning)"):
            scored = label_issues.out_of_fold_probabilities(  # the tuned model's params
                model, rows, ranked_targets, weights[rankable].reset_index(drop=True), folds,
                seed, n_jobs=n_jobs,
            )  # fmt: skip
        if scored is not None:
            gold = ranked.get("is_gold", pd.Series(False, index=ranked.index))
            issues = label_issues.rank_issues(
                ranked["item_id"], ranked_targets, *scored, expert=gold.fillna(False).to_numpy(bool)
            )
            checked = True
    summary = {
        "model": options["model"],
        "train_items": len(train_rows),
        # Train-split items that did not reach the model, by reason (never silently lost).
        "without_merged_label": len(items) - len(train_rows) - dropped_low_confidence,
        "dropped_low_confidence": dropped_low_confidence,
        "label_issues": int(issues["is_issue"].sum()) if checked else None,
        # Items of a class with one train item: not ranked (no fold could score them).
        **({"label_issues_unranked": unranked} if checked and unranked else {}),
        **search,
    }
    return Trained(data, issues, summary)


def text_columns_of(items: pd.DataFrame) -> pd.DataFrame:
    """The item id and text columns: what a relabel task shows the annotator."""
    return items[
        [c for c in items.columns if c != "split" and not pd.api.types.is_numeric_dtype(items[c])]
    ]
